"""review and rule: the replies that need a person, and the secretary's rulings."""

from __future__ import annotations

from typing import Annotated

import typer

from steervote.cli import app, consoles, login, now, open_store, settings_of
from steervote.errors import InvalidInput


@app.command()
def review(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(help="Motion id.")],
) -> None:
    """List every reply awaiting review, with the member's own words."""
    from steervote import render
    from steervote.services.review import report

    r = report(open_store(settings_of(ctx)), motion_id, now=now())
    render.review(consoles.out, r.result, r.replies)


@app.command()
def rule(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(help="Motion id.")],
    member_id: Annotated[
        str, typer.Argument(help="Member id, or 'casting' for the chair's casting vote.")
    ],
    vote: Annotated[str, typer.Argument(help="for, against, abstain, or none (count no vote).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who rules (default: the login name).")
    ] = None,
) -> None:
    """Record the secretary's ruling on a member's vote; the tally uses it."""
    from steervote import render
    from steervote.core.vote import Vote
    from steervote.services.review import rule as record

    choices = {"for": Vote.FOR, "against": Vote.AGAINST, "abstain": Vote.ABSTAIN, "none": None}
    if vote.lower() not in choices:
        raise InvalidInput(f"VOTE: {vote!r} is not one of for, against, abstain, none")
    r = record(
        open_store(settings_of(ctx)),
        motion_id,
        member_id,
        choices[vote.lower()],
        reason=reason,
        ruled_by=by or login(),
        now=now(),
    )
    consoles.out.print(f"Ruling recorded for {member_id} on {motion_id}.", markup=False)
    consoles.out.print(render.result_line(r.result), markup=False, highlight=False)
