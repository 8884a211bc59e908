"""show: one member's whole history on a motion, or one of their messages as received."""

from __future__ import annotations

from typing import Annotated

import typer

from steervote.cli import app, consoles, now, open_store, settings_of
from steervote.errors import InvalidInput


@app.command()
def show(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(metavar="MOTION", help="Motion id.")],
    member: Annotated[
        str,
        typer.Argument(
            metavar="MEMBER",
            help="The member: an id (sam-tarry), an address or alias (sam@tarry.example), "
            "or a whole name, case and accents ignored ('sam tarry'). A near miss gets "
            "'did you mean'.",
        ),
    ],
    raw: Annotated[
        int | None,
        typer.Option(
            "--raw",
            metavar="N",
            help="Print their N-th message as received (escaped: control and bidi "
            "characters shown as \\xNN, \\uNNNN; never rendered).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the history as JSON.")] = False,
) -> None:
    """A member's whole history on a motion, oldest first: each ballot sent to them, each
    message received (when, how matched, how read, their own words), each ruling, and
    which one stands now. Reads the store only; changes nothing.

    Examples:

    \b
      steervote show new-constitution sam-tarry
      steervote show new-constitution 'Sam Tarry' --raw 2
      steervote show new-constitution sam@tarry.example --json
    """
    from steervote.services.show import member_history, raw_message

    if raw is not None and as_json:
        raise InvalidInput("--raw and --json: give one of them")
    store = open_store(settings_of(ctx), create=False)
    history = member_history(store, motion_id, member, now=now())
    from steervote import render

    if raw is not None:
        message, data = raw_message(store, history, raw)
        consoles.err.print(
            f"Message {raw} of {len(history.messages)} from {history.member.id} on "
            f"{history.motion.id}, as received: {len(data):,} bytes, SHA-256 "
            f"{message.record.sha256}; control characters shown escaped.",
            markup=False,
            highlight=False,
        )
        render.raw_message(consoles.out, data)
    elif as_json:
        from steervote import export
        from steervote.services.show import history_data

        export.print_json(history_data(history))
    else:
        render.show(consoles.out, history)
