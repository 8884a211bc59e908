"""review and rule: the replies that need a person, and the secretary's rulings."""

from __future__ import annotations

import sys
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol, TypeVar

import typer

from steervote.cli import app, check_recorded, consoles, login, now, open_store, settings_of
from steervote.errors import InvalidInput
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from collections.abc import Callable

    from steervote.adapters.store import Store
    from steervote.core.vote import Vote
    from steervote.services.review import Report
    from steervote.services.ruling import FinalChange, Rulings

MEMBER_HELP = (
    "The member: an id (sam-tarry), an address or alias, or a whole name ('sam tarry'); "
    "'casting' for the chair's casting vote (or --casting, which never means a member). "
    "A near miss gets 'did you mean'."
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
            "ruling (or skipping) as you go: answer f (for), a (against), b (abstain), "
            "n (none), s (skip) or q (quit), or the word, in any case.",
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
    casting: Annotated[
        bool,
        typer.Option(
            "--casting",
            help="Rule on the chair's casting vote; give VOTE alone (rule MOTION --casting "
            "for) or --undo. Unlike the word 'casting' as MEMBER, it never means a member.",
        ),
    ] = False,
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
            "member, vote, reason and maybe by (comma- or semicolon-separated, UTF-8). A row "
            "whose ruling already stands (same vote and reason) is not recorded again, so a "
            "file run twice records each ruling once.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show what would change; record nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Record a ruling or undo that overturns a final result (the deadline has "
            "passed) without asking; without a terminal such a change needs --yes.",
        ),
    ] = False,
) -> None:
    """Record the secretary's ruling on a member's vote, say what it replaces, and print
    the result; the tally uses the latest ruling until a later reply replaces it.

    A ruling that already stands (the same member, vote and reason) is not recorded again:
    it is reported as already recorded. After the deadline, a ruling or an undo that
    changes the result says so ("This changes the final result: CARRIED → DEFEATED").
    One that overturns a final result (a counted vote ruled otherwise, a late reply
    accepted, a ruling undone) is recorded only when confirmed at the prompt or with
    --yes; one that settles what the result awaited (a reply in review, the chair's
    casting vote on a tie) is recorded at once.

    'casting' as MEMBER is the chair's casting vote unless it is also a member's name;
    then it is refused, and --casting (the casting vote) or the member's id or address
    (the member) says which.

    Examples:

    \b
      steervote rule new-constitution sam-tarry for --reason 'by phone'
      steervote rule new-constitution --casting for --reason 'casting vote'
      steervote rule new-constitution 'Sam Tarry' --undo --reason 'wrong member'
      steervote rule new-constitution --from-csv rulings.csv --dry-run
    """
    from steervote import render
    from steervote.services import ruling

    store = open_store(settings_of(ctx), create=False)
    check_recorded(store, motion_id)
    who = by or login()
    if from_csv is not None:
        if member is not None or vote is not None or undo or reason is not None or casting:
            raise InvalidInput(
                "--from-csv: the file names each member, vote and reason; give no MEMBER, "
                "VOTE, --reason, --casting or --undo"
            )
        many = partial(ruling.rule_from_csv, store, motion_id, from_csv, ruled_by=who)
        source = str(from_csv)
        r = _confirmed(lambda ok: many(now=now(), dry_run=dry_run, change_final=ok), yes=yes)
        if r is not None:
            render.ruled(consoles.out, r, source=source)
        return
    target, vote = _target_and_vote(member, vote, casting=casting, undo=undo)
    if reason is None:
        raise InvalidInput("--reason: say why (it is kept in the audit trail)")
    if undo:
        if dry_run:
            raise InvalidInput("--undo: give no --dry-run")
        back = partial(ruling.undo, store, motion_id, target, reason=reason, undone_by=who)
        u = _confirmed(lambda ok: back(now=now(), change_final=ok), yes=yes)
        if u is not None:
            render.undone(consoles.out, u)
        return
    said = vote.vote() if vote is not None else None
    one = partial(ruling.rule, store, motion_id, target, said, reason=reason, ruled_by=who)
    r = _confirmed(lambda ok: one(now=now(), dry_run=dry_run, change_final=ok), yes=yes)
    if r is not None:
        render.ruled(consoles.out, r)


def _target_and_vote(
    member: str | None, vote: VoteWord | None, *, casting: bool, undo: bool
) -> tuple[str | None, VoteWord | None]:
    """(who is ruled on: a MEMBER as typed, or None for the casting vote; the vote, None
    for an undo) from the arguments as parsed. With --casting the one word given is VOTE
    (the parser took it for MEMBER). Raises InvalidInput for a missing or extra argument."""
    if casting:
        if member is not None and vote is not None:
            raise InvalidInput("--casting: give VOTE alone, no MEMBER (the casting vote is it)")
        if member is not None:
            vote = _vote_word(member)
        member = None
    elif member is None:
        raise InvalidInput(
            "MEMBER: missing (or --casting for the chair's casting vote, or --from-csv FILE "
            "for many rulings at once)"
        )
    if undo and vote is not None:
        raise InvalidInput("--undo: give no VOTE")
    if not undo and vote is None:
        raise InvalidInput("VOTE: missing: for, against, abstain or none (or --undo)")
    return member, vote


def _vote_word(text: str) -> VoteWord:
    try:
        return VoteWord(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"VOTE: {untrusted(text)!r} is not one of for, against, abstain, none"
        ) from None


# --- a change to a final result is confirmed -------------------------------------------


class _Held(Protocol):
    """What a ruling or an undo says of itself: whether it was held for confirming."""

    @property
    def held(self) -> bool: ...
    @property
    def change(self) -> FinalChange | None: ...
    @property
    def report(self) -> Report: ...


_T = TypeVar("_T", bound=_Held)


def _confirmed(record: Callable[[bool], _T], *, yes: bool) -> _T | None:
    """record(yes); when that was held (it would overturn a final result) the preview,
    the question, and record(True) on yes. None when the answer was no (said so).
    Raises InvalidInput (exit 2, nothing recorded) without --yes and without a terminal."""
    from steervote import render
    from steervote.services.ruling import Rulings, Undone

    done = record(yes)
    if not done.held:
        return done
    _refuse_without_terminal(done.change, done.report.result.motion.id)
    if isinstance(done, Undone):
        render.undone(consoles.out, done)
        question = "Undo it and change the final result?"
    else:
        assert isinstance(done, Rulings)
        render.ruled(consoles.out, done, sentence=False)
        question = "Record it and change the final result?"
    if not typer.confirm(question, default=False):
        consoles.out.print("Nothing recorded.", markup=False, highlight=False)
        return None
    return record(True)


def _refuse_without_terminal(change: FinalChange | None, motion_id: str) -> None:
    from steervote import render

    if sys.stdin.isatty() and sys.stdout.isatty():
        return
    said = f": {render.change_words(change)}" if change is not None else ""
    raise InvalidInput(
        f"this overturns the final result of {motion_id} after its deadline{said}; nothing "
        "recorded. See it with --dry-run; pass --yes to record it"
    )


# --- review --interactive --------------------------------------------------------------

# Each answer to the ruling prompt by its letter and its word; the letters do not clash
# (a is against, so abstain is b).
_ANSWERS: tuple[tuple[str, str], ...] = (
    ("f", "for"),
    ("a", "against"),
    ("b", "abstain"),
    ("n", "none"),
    ("s", "skip"),
    ("q", "quit"),
)
_BY_TYPED = {typed: word for letter, word in _ANSWERS for typed in (letter, word)}
# "[f]or, [a]gainst, a[b]stain, [n]one, [s]kip, [q]uit": each letter shown in its word.
_CHOICES = ", ".join(word.replace(letter, f"[{letter}]", 1) for letter, word in _ANSWERS)


def _step_through(store: Store, motion_id: str, *, by: str) -> None:
    """Show each member awaiting review and ask for a ruling; each is recorded when given,
    so stopping (quit, Ctrl-D, Ctrl-C) loses none. A ruling that changes a final result is
    asked about once more. Refuses to run without a terminal."""
    from steervote import render
    from steervote.services.review import awaiting_review, report

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
    render.say_quoted(
        out,
        f"{n:,} awaiting review. Answer each with a letter or the word: {_CHOICES} "
        "(none counts no vote; skip leaves it for later). Each ruling is recorded as you give "
        "it.",
    )
    recorded = skipped = 0
    try:
        for i, a in enumerate(waiting, start=1):
            render.awaiting(out, a, r.result.motion)
            answer = typer.prompt(
                f"[{i}/{n}] Ruling on {untrusted(a.line.member.id)}: {_CHOICES}",
                value_proc=_answer,
            )
            if answer == "quit":
                break
            if answer == "skip" or not _rule_one(store, motion_id, a.line.member.id, answer, by):
                skipped += 1
                continue
            recorded += 1
    except typer.Abort:
        out.print("\nStopped.", markup=False)
    left = n - recorded - skipped
    render.say_quoted(out, f"{recorded:,} recorded, {skipped:,} skipped, {left:,} not reached.")
    render.result_sentence(out, report(store, motion_id, now=now()).result)


def _rule_one(store: Store, motion_id: str, member_id: str, answer: str, by: str) -> bool:
    """Ask the reason and record the ruling (asking once more when it changes a final
    result); whether it was recorded."""
    from steervote import render
    from steervote.services.ruling import rule

    why = typer.prompt("Reason (kept in the audit trail)", value_proc=_reason)
    vote = VoteWord(answer).vote()

    def record(ok: bool) -> Rulings:
        return rule(
            store,
            motion_id,
            member_id,
            vote,
            reason=why,
            ruled_by=by,
            now=now(),
            change_final=ok,
        )

    done = _confirmed(record, yes=False)
    if done is None:
        return False
    render.ruled(consoles.out, done, sentence=False)
    return bool(done.ruled)


def _answer(text: str) -> str:
    """An answer to the ruling prompt: a letter or a word, in any case; asked again, with
    the choices, when it is neither."""
    answer = _BY_TYPED.get(text.strip().lower())
    if answer is None:
        choices = ", ".join(f"{letter} ({word})" for letter, word in _ANSWERS)
        raise typer.BadParameter(f"{untrusted(text.strip())!r} is not an answer: give {choices}")
    return answer


def _reason(text: str) -> str:
    """A reason as typed at the prompt; asked again when empty or not one line."""
    from steervote.core.mail_text import line_problem

    text = text.strip()
    problem = "say why (it is kept in the audit trail)" if not text else line_problem(text)
    if problem:
        raise typer.BadParameter(problem)
    return text
