"""review and rule: the replies that need a person, and the secretary's rulings."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from steervote.cli import app, check_recorded, consoles, login, now, open_store, settings_of
from steervote.errors import InvalidInput

if TYPE_CHECKING:
    from steervote.adapters.store import Store
    from steervote.core.vote import Vote

MEMBER_HELP = (
    "The member: an id (sam-tarry), an address or alias, or a whole name ('sam tarry'); "
    "'casting' for the chair's casting vote. A near miss gets 'did you mean'."
)


class VoteWord(StrEnum):
    """A ruling's vote as typed: none counts no vote."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    NONE = "none"

    def vote(self) -> Vote | None:
        from steervote.core.vote import Vote

        return None if self is VoteWord.NONE else Vote(self.value)


@app.command()
def review(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(metavar="MOTION", help="Motion id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive",
            help="Step through the members awaiting review on a terminal, recording a "
            "ruling (or skipping) as you go.",
        ),
    ] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="NAME", help="Who rules (default: the login name)."),
    ] = None,
) -> None:
    """Every member awaiting review: why, when, which message (as `show` numbers it) and
    their own words in full. Reads the store only, unless --interactive records rulings.

    Examples:

    \b
      steervote review new-constitution
      steervote review new-constitution --json
      steervote review new-constitution --interactive
    """
    from steervote import render
    from steervote.services.review import awaiting_review, review_data

    if as_json and interactive:
        raise InvalidInput("--json and --interactive: give one of them")
    store = open_store(settings_of(ctx), create=False)
    check_recorded(store, motion_id)
    if interactive:
        _step_through(store, motion_id, by=by or login())
        return
    r, waiting = awaiting_review(store, motion_id, now=now())
    if as_json:
        from steervote import export

        export.print_json(review_data(r, waiting))
    else:
        render.review_list(consoles.out, r, waiting)


@app.command()
def rule(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(metavar="MOTION", help="Motion id.")],
    member: Annotated[
        str | None, typer.Argument(metavar="MEMBER", help=MEMBER_HELP, show_default=False)
    ] = None,
    vote: Annotated[
        VoteWord | None,
        typer.Argument(
            metavar="VOTE",
            help="for, against, abstain, or none (count no vote).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", metavar="TEXT", help="Why (kept in the audit trail).")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="NAME", help="Who rules (default: the login name)."),
    ] = None,
    undo: Annotated[
        bool,
        typer.Option(
            "--undo",
            help="Undo the member's latest ruling (kept in the audit trail, marked undone): "
            "their replies decide again.",
        ),
    ] = False,
    from_csv: Annotated[
        Path | None,
        typer.Option(
            "--from-csv",
            metavar="FILE",
            help="Record many rulings at once, all or nothing: a CSV file with the columns "
            "member, vote, reason and maybe by (comma- or semicolon-separated, UTF-8).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show what would change; record nothing.")
    ] = False,
) -> None:
    """Record the secretary's ruling on a member's vote, say what it replaces, and print
    the result; the tally uses the latest ruling until a later reply replaces it.

    Examples:

    \b
      steervote rule new-constitution sam-tarry for --reason 'by phone'
      steervote rule new-constitution casting for --reason 'casting vote'
      steervote rule new-constitution 'Sam Tarry' --undo --reason 'wrong member'
      steervote rule new-constitution --from-csv rulings.csv --dry-run
    """
    from steervote import render
    from steervote.services import ruling

    store = open_store(settings_of(ctx), create=False)
    check_recorded(store, motion_id)
    who = by or login()
    if from_csv is not None:
        if member is not None or vote is not None or undo or reason is not None:
            raise InvalidInput(
                "--from-csv: the file names each member, vote and reason; give no MEMBER, "
                "VOTE, --reason or --undo"
            )
        r = ruling.rule_from_csv(
            store, motion_id, from_csv, ruled_by=who, now=now(), dry_run=dry_run
        )
        render.ruled(consoles.out, r, source=str(from_csv))
        return
    if member is None:
        raise InvalidInput("MEMBER: missing (or --from-csv FILE for many rulings at once)")
    if reason is None:
        raise InvalidInput("--reason: say why (it is kept in the audit trail)")
    if undo:
        if vote is not None or dry_run:
            raise InvalidInput("--undo: give no VOTE and no --dry-run")
        u = ruling.undo(store, motion_id, member, reason=reason, undone_by=who, now=now())
        render.undone(consoles.out, u)
        return
    if vote is None:
        raise InvalidInput("VOTE: missing: for, against, abstain or none (or --undo)")
    r = ruling.rule(
        store,
        motion_id,
        member,
        vote.vote(),
        reason=reason,
        ruled_by=who,
        now=now(),
        dry_run=dry_run,
    )
    render.ruled(consoles.out, r)


# --- review --interactive --------------------------------------------------------------

_ANSWERS = [*(v.value for v in VoteWord), "skip", "quit"]


def _step_through(store: Store, motion_id: str, *, by: str) -> None:
    """Show each member awaiting review and ask for a ruling; each is recorded when given,
    so stopping (quit, Ctrl-D, Ctrl-C) loses none. Refuses to run without a terminal."""
    from steervote import render
    from steervote.services.review import awaiting_review, report
    from steervote.services.ruling import rule

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InvalidInput(
            "review --interactive asks on a terminal and there is none; record rulings with "
            f"steervote rule {motion_id} MEMBER VOTE --reason TEXT, or many at once with "
            f"steervote rule {motion_id} --from-csv FILE"
        )
    r, waiting = awaiting_review(store, motion_id, now=now())
    out = consoles.out
    if not waiting:
        render.review_list(out, r, waiting)
        return
    n = len(waiting)
    out.print(
        f"{n} awaiting review. For each: for, against, abstain, none (count no vote), "
        "skip, or quit. Each ruling is recorded as you give it.",
        markup=False,
    )
    recorded = skipped = 0
    try:
        for i, a in enumerate(waiting, start=1):
            render.awaiting(out, a, r.result.motion)
            answer = typer.prompt(
                f"[{i}/{n}] Ruling on {a.line.member.id} ({', '.join(_ANSWERS)})",
                value_proc=_answer,
            )
            if answer == "quit":
                break
            if answer == "skip":
                skipped += 1
                continue
            why = typer.prompt("Reason (kept in the audit trail)", value_proc=_reason)
            done = rule(
                store,
                motion_id,
                a.line.member.id,
                VoteWord(answer).vote(),
                reason=why,
                ruled_by=by,
                now=now(),
            )
            render.ruled(out, done, sentence=False)
            recorded += 1
    except typer.Abort:
        out.print("\nStopped.", markup=False)
    left = n - recorded - skipped
    out.print(
        f"{recorded} recorded, {skipped} skipped, {left} not reached.",
        markup=False,
        highlight=False,
    )
    render.result_sentence(out, report(store, motion_id, now=now()).result)


def _answer(text: str) -> str:
    """An answer to the ruling prompt, in any case; asked again when not one of them."""
    answer = text.strip().lower()
    if answer not in _ANSWERS:
        raise typer.BadParameter(f"{text.strip()!r} is not one of {', '.join(_ANSWERS)}")
    return answer


def _reason(text: str) -> str:
    """A reason as typed at the prompt; asked again when empty or not one line."""
    from steervote.core.mail_text import line_problem

    text = text.strip()
    problem = "say why (it is kept in the audit trail)" if not text else line_problem(text)
    if problem:
        raise typer.BadParameter(problem)
    return text
