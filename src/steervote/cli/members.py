"""members: who votes on a motion, how to name them, and where each stands."""

from __future__ import annotations

from typing import Annotated

import typer

from steervote.cli import app, check_recorded, consoles, now, open_store, settings_of


@app.command()
def members(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(metavar="MOTION", help="Motion id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the members as JSON.")] = False,
) -> None:
    """The voting members of a motion, one line each: id (what `rule` and `show` take, as
    do an address or a whole name), name and role, address and aliases, and where they
    stand (counted FOR, ruled AGAINST, in review, late, not voted). Reads the store only.

    Examples:

    \b
      steervote members new-constitution
      steervote members new-constitution --json
    """
    from steervote.services.members import roll, roll_data

    store = open_store(settings_of(ctx), create=False)
    check_recorded(store, motion_id)
    r = roll(store, motion_id, now=now())
    if as_json:
        from steervote import export

        export.print_json(roll_data(r))
    else:
        from steervote import render

        render.members(consoles.out, r)
