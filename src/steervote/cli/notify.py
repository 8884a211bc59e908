"""acknowledge, ask, remind and announce: the member loop (each sent as ballots are)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack, closing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from steervote.cli import (
    app,
    consoles,
    message_preview,
    now,
    open_store,
    progress_bar,
    settings_of,
    transport_of,
)
from steervote.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    from steervote.adapters.store import Store
    from steervote.core.ballot import Addressing
    from steervote.services.member_loop import Outgoing

Build = Callable[["Store", "Addressing", datetime], "Outgoing"]

_DRY_RUN = typer.Option("--dry-run", help="Show what would be sent and one message in full.")
_YES = typer.Option("--yes", "-y", help="Send without asking.")
_MOTION = typer.Argument(help="Motion id.", metavar="MOTION")


def _say(text: str) -> None:
    consoles.out.print(text, markup=False, highlight=False, soft_wrap=True)


def _send(
    ctx: typer.Context, what: str, motion_id: str, build: Build, dry_run: bool, yes: bool
) -> None:
    """Plan, show, confirm, send and report one kind of notice (exit codes as propose)."""
    from steervote import render
    from steervote.core.ballot import Addressing
    from steervote.services.notify import send_notices

    settings = settings_of(ctx)
    b = settings.ballot
    addressing = Addressing(b.sender, b.reply_to, b.plus_tokens)
    only_shows = dry_run or (not yes and not sys.stdin.isatty())
    with ExitStack() as cleanup:
        store = open_store(settings, create=False)
        if not only_shows:
            held = cleanup.enter_context(store.propose_lock(motion_id, now=now()))
            if held.took_over is not None:
                _say(f"Note: {held.note()}.")
        out = build(store, addressing, now())
        plan = out.plan
        skipped = f"; skipped: {len(plan.skipped)}" if plan.skipped else ""
        _say(f"{what} to send: {len(plan.to_send)}; already sent: {plan.already_sent}{skipped}")
        for who, why in plan.skipped[:10]:
            _say(f"  skipped {render.untrusted(who)}: {why}")
        if plan.interrupted:
            _say(
                f"Delivery unconfirmed: {len(plan.interrupted)} (a run that stopped had handed "
                "them to the server; not sent again)"
            )
        if dry_run:
            if plan.to_send:
                consoles.out.rule("One message in full (its token is an example)")
                sample = out.compose(plan.to_send[0])
                # Its headers carry the member's live ballot token (Reply-To, References):
                # shown as the audit folder shows them, by placeholder.
                from steervote.evidence.redact import redact

                shown = redact(message_preview(sample).encode("utf-8")).decode("utf-8")
                consoles.out.print(render.safe(shown, 20_000, oneline=False))
            _say("Dry run: nothing written, nothing sent.")
            return
        if not plan.to_send and not plan.interrupted:
            _say("Nothing to send.")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput(
                    f"no terminal to confirm on: pass --yes to send the {what.lower()}"
                )
            if plan.to_send and not typer.confirm(
                f"Send {render.plural(len(plan.to_send), 'message')} now?"
            ):
                raise typer.Exit(ExitCode.FAILED)
        transport = cleanup.enter_context(closing(transport_of(settings, store=store)))
        with progress_bar(len(plan.to_send)) as advance:
            result = send_notices(
                plan,
                store,
                transport,
                addressing,
                out.compose,
                now=now,
                progress=lambda _: advance(),
            )
    tried = {(x.recipient, x.key) for x in plan.to_send}
    render.notices(consoles.out, [n for n in result.notices if (n.recipient, n.key) in tried])
    _say(
        f"Sent now: {result.sent_now}; failed: {result.failed_now}"
        + (f"; delivery unconfirmed: {result.unconfirmed_now}" if result.unconfirmed_now else "")
    )
    if result.error:
        consoles.err.print(f"error: {result.error}; re-run to send the rest", markup=False)
    if result.failed_now or result.error or result.unconfirmed_now:
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def acknowledge(
    ctx: typer.Context,
    motion_id: Annotated[str, _MOTION],
    dry_run: Annotated[bool, _DRY_RUN] = False,
    yes: Annotated[bool, _YES] = False,
) -> None:
    """Send each member a receipt of their vote as it now stands, with the words it was
    read from (or the ruling), to their address on the roll.

    Only members whose current vote has no receipt yet get one: a changed vote gets a
    new receipt; re-running sends nothing twice. Run `tally` first.

    Examples:

    \b
      steervote acknowledge new-constitution --dry-run
      steervote acknowledge new-constitution --yes
    """
    from steervote.services import member_loop

    _send(
        ctx,
        "Receipts",
        motion_id,
        lambda s, a, t: member_loop.acknowledge(s, motion_id, a, now=t),
        dry_run,
        yes,
    )


@app.command()
def ask(
    ctx: typer.Context,
    motion_id: Annotated[str, _MOTION],
    member: Annotated[
        list[str] | None,
        typer.Option(
            "--member",
            metavar="MEMBER",
            help="Ask only this member (id, address or name); repeatable. Default: every "
            "member awaiting review.",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            metavar="TEXT",
            help="Say this, instead of steervote's reason, as why the reply could not be counted.",
        ),
    ] = None,
    dry_run: Annotated[bool, _DRY_RUN] = False,
    yes: Annotated[bool, _YES] = False,
) -> None:
    """Ask each member whose reply awaits review for one word: FOR, AGAINST or ABSTAIN.

    Once per reply asked about. Their answer is matched like a reply to the ballot and
    counted only when it is that one word (with greetings or thanks); anything else stays
    in review with the new words shown. Before the deadline only.

    Examples:

    \b
      steervote ask new-constitution --dry-run
      steervote ask new-constitution --member sam-tarry
    """
    from steervote.services import member_loop

    _send(
        ctx,
        "Requests",
        motion_id,
        lambda s, a, t: member_loop.ask(
            s, motion_id, a, now=t, members=member or (), reason=reason
        ),
        dry_run,
        yes,
    )


@app.command()
def remind(
    ctx: typer.Context,
    motion_id: Annotated[str, _MOTION],
    include_review: Annotated[
        bool, typer.Option("--include-review", help="Remind members awaiting review too.")
    ] = False,
    min_interval: Annotated[
        str,
        typer.Option(
            "--min-interval",
            metavar="DURATION",
            help="Never remind a member reminded less than this long ago (e.g. 24h, 2d, 90m).",
        ),
    ] = "24h",
    dry_run: Annotated[bool, _DRY_RUN] = False,
    yes: Annotated[bool, _YES] = False,
) -> None:
    """Remind each member who has not voted, before the deadline: the motion, the time
    left in the committee's time zone, and how to vote.

    Examples:

    \b
      steervote remind new-constitution --dry-run
      steervote remind new-constitution --min-interval 48h --yes
    """
    from steervote.core.deadline import parse_duration
    from steervote.services import member_loop

    try:
        interval = parse_duration(min_interval.strip())
    except OverflowError:
        raise InvalidInput(f"--min-interval {min_interval!r}: too long") from None
    if interval is None:
        raise InvalidInput(
            f"--min-interval {min_interval!r}: expected a duration like 24h, 2d or 90m"
        )
    if interval < timedelta(hours=1):
        # A short interval would remind again everyone reminded by a run just before (even
        # one re-run to finish after a dropped connection): members mailed every minute.
        raise InvalidInput(f"--min-interval {min_interval!r}: at least 1h between reminders")
    _send(
        ctx,
        "Reminders",
        motion_id,
        lambda s, a, t: member_loop.remind(
            s, motion_id, a, now=t, include_review=include_review, min_interval=interval
        ),
        dry_run,
        yes,
    )


@app.command()
def announce(
    ctx: typer.Context,
    motion_id: Annotated[str, _MOTION],
    provisional: Annotated[
        bool,
        typer.Option(
            "--provisional",
            help="Announce a result that is not yet final, marked provisional: one still "
            "pending, a tie awaiting the casting vote, or one rulings on replies in review "
            "could change.",
        ),
    ] = False,
    counts_only: Annotated[
        bool, typer.Option("--counts-only", help="Leave out the list of members and their votes.")
    ] = False,
    dry_run: Annotated[bool, _DRY_RUN] = False,
    yes: Annotated[bool, _YES] = False,
) -> None:
    """Announce the result to every member and observer: the result, the counts, the
    rule, the quorum, the deadline, the authority, and each member's vote.

    Before the deadline only a decided result, after it only a final one: none while a
    tie awaits the chair's casting vote or rulings on replies in review could change it
    (rule on them first, or pass --provisional to announce it marked provisional). Sent
    once per result; if the result changes later (a ruling), re-running sends a
    correction that says what changed.

    Examples:

    \b
      steervote announce new-constitution --dry-run
      steervote announce new-constitution --counts-only
    """
    from steervote.services import member_loop

    _send(
        ctx,
        "Announcements",
        motion_id,
        lambda s, a, t: member_loop.announce(
            s, motion_id, a, now=t, provisional=provisional, counts_only=counts_only
        ),
        dry_run,
        yes,
    )
