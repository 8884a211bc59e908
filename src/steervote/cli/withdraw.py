"""withdraw: take a motion off the table, keeping everything recorded."""

from __future__ import annotations

from typing import Annotated

import typer

from steervote.cli import app, check_recorded, consoles, login, now, open_store, settings_of
from steervote.errors import InvalidInput


@app.command()
def withdraw(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(help="Motion id.", metavar="MOTION")],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why (kept in the audit trail).")
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="NAME", help="Who withdraws it (default: the login name)."),
    ] = None,
) -> None:
    """Withdraw a motion: it is reported as withdrawn, with no result, and replies that
    arrive from now on are ignored. Its ballots, replies and rulings stay recorded.

    Examples:

    \b
      steervote withdraw new-constitution --reason 'moved to the AGM'
    """
    from steervote.adapters.store import StoreError
    from steervote.core.withdrawal import Withdrawal

    if not reason.strip():
        raise InvalidInput("--reason: say why the motion is withdrawn")
    store = open_store(settings_of(ctx), create=False)
    check_recorded(store, motion_id)
    try:
        store.withdraw(motion_id, Withdrawal(by or login(), reason.strip(), now()))
    except StoreError as e:
        raise InvalidInput(str(e)) from None
    consoles.out.print(
        f"Motion {motion_id} withdrawn: its replies from now on are ignored.",
        markup=False,
        highlight=False,
    )
