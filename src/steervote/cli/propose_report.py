"""What propose says after it sends (or would send): the ballots' table, what failed or
is unconfirmed, a vote that has not started, and how long sending takes under limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

import typer

from steervote.cli import consoles, now
from steervote.errors import ExitCode, InvalidInput
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from steervote.adapters.store import Store
    from steervote.config import Settings
    from steervote.core.motion import Motion
    from steervote.core.records import BallotRecord
    from steervote.services.propose import Plan, ProposeResult


def report(result: ProposeResult, motion: Motion, rerun: str) -> None:
    """The ballots' table and counts, what failed or is unconfirmed, and when no ballot went
    out, that voting has not started; exit 1 when anything failed or is unconfirmed."""
    from steervote import render
    from steervote.core.records import BallotStatus
    from steervote.services import propose as service

    render.ballots(consoles.out, result.ballots)
    failed = [x for x in result.ballots if x.status is BallotStatus.FAILED]
    consoles.out.print(
        f"Sent now: {result.sent_now}; failed: {len(failed)}; "
        f"pending: {sum(x.status is BallotStatus.PENDING for x in result.ballots)}"
    )
    if result.error:
        consoles.err.print(f"error: {result.error}; re-run propose to send the rest", markup=False)
    if failed:
        # The table may be cut to the terminal's width: name each refusal in full here.
        hint = amend_hint(rerun, went_out=service.any_went_out(result.ballots))
        say_err(
            f"error: {render.plural(len(failed), 'ballot')} refused: "
            f"{who(failed, detail=True)}; re-run propose to retry them; {hint}"
        )
    unsure = [x for x in result.ballots if service.unconfirmed(x)]
    if result.unconfirmed_now:
        # Every one of them, this run's and earlier runs': a run that found some may have
        # been stopped before it could name them.
        it = "it" if len(unsure) == 1 else "them"
        say_err(
            f"warning: {render.plural(len(unsure), 'ballot')} may not have been delivered "
            f"(handed to the server, which never confirmed {it}: the connection broke or the "
            f"propose sending {it} stopped; not sent again): {who(unsure, limit=None)}; "
            f"{resend_hint(rerun)}"
        )
    if not service.any_went_out(result.ballots):
        say(not_started(motion, rerun))
    if failed or result.error or result.unconfirmed_now:
        raise typer.Exit(ExitCode.FAILED)


def not_started(motion: Motion, rerun: str) -> str:
    """What a run that sent no ballot at all means for the vote, and how to go on. A
    relative deadline counts from the first ballot that goes out (services.propose.plan)."""
    from steervote.core.deadline import parse_duration

    if parse_duration(motion.closes_spec):
        when = (
            f", and the deadline (closes: {motion.closes_spec}) counts from the first ballot "
            "that goes out."
        )
    else:
        when = (
            f"; it still closes at {motion.closes.astimezone(UTC):%Y-%m-%d %H:%M} UTC, as the "
            "motion file says."
        )
    return (
        f"No ballot went out: voting has not started{when} Once the problem above is "
        f"fixed, re-run: {rerun}"
    )


def say(text: str) -> None:
    consoles.out.print(
        untrusted(text, 4000, oneline=False), markup=False, highlight=False, soft_wrap=True
    )


def say_err(text: str) -> None:
    consoles.err.print(text, markup=False, highlight=False, soft_wrap=True)


def send_time(settings: Settings, store: Store | None, plan: Plan, *, refuse: bool) -> None:
    """Under [smtp] sending limits, say how long sending takes and when the last ballot
    goes; InvalidInput (nothing written) when that is after voting closes and `refuse`."""
    from steervote import render
    from steervote.cli import sending_limits
    from steervote.core.send_schedule import schedule

    limits = sending_limits(settings)
    if not limits or not plan.to_send:
        return
    sent = store.sent_since(now() - timedelta(hours=24)) if store is not None else []
    when = schedule(len(plan.to_send), limits, sent, now())
    said = ", ".join(
        x
        for x in (
            f"{limits.per_minute:,} a minute" if limits.per_minute else "",
            f"{limits.per_day:,} in any 24 hours" if limits.per_day else "",
        )
        if x
    )
    runs = (
        f"; it takes {when.runs} runs: each stops at the daily limit, re-run propose after "
        "the time it names (or daily, from cron)"
        if when.runs > 1
        else ""
    )
    n = len(plan.to_send)
    consoles.out.print(
        f"Sending limits: {said} ([smtp] max_per_minute, max_per_day): "
        f"{render.plural(n, 'message')} {'takes' if n == 1 else 'take'} about "
        f"{duration(when.duration)}; the last goes out about "
        f"{when.last.astimezone(UTC):%Y-%m-%d %H:%M} UTC{runs}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    closes = plan.motion.closes
    if when.last > closes:
        late = (
            f"the last ballot would go out about {when.last.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
            f"after voting closes at {closes.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        )
        if refuse:
            raise InvalidInput(
                f"{late}: send through a mail relay with higher limits (README: Sending "
                "limits), give the vote longer, or pass --allow-late-send; nothing was "
                "recorded or sent"
            )
        consoles.out.print(f"Warning: {late}.", markup=False, highlight=False)


def duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def resend_hint(rerun: str) -> str:
    """How to send again a ballot that never arrived; `rerun` is this propose as typed
    (the program, the motion file, quoted for a shell, and any --config)."""
    return (
        "check the mail server's log, and send again one that never arrived with "
        f"`{rerun} --resend MEMBER`"
    )


def amend_hint(rerun: str, *, went_out: bool) -> str:
    """How to give a member whose ballot was refused a corrected address: once any ballot
    went out, by an amendment (services.propose.plan); before, by a plain re-run."""
    if not went_out:
        return f"a wrong address: correct it in the committee file, then `{rerun}`"
    return (
        "a wrong address: correct it in the committee file, then "
        f"`{rerun} --amend-member MEMBER --reason TEXT`"
    )


def who(records: Sequence[BallotRecord], *, detail: bool = False, limit: int | None = 5) -> str:
    """Names and addresses, the first `limit` of them (None: all)."""
    from steervote import render

    limit = len(records) if limit is None else limit
    shown = [
        render.untrusted(f"{b.name} <{b.address}>" + (f" ({b.detail})" if detail else ""))
        for b in records[:limit]
    ]
    more = f" and {len(records) - limit} more" if len(records) > limit else ""
    return ", ".join(shown) + more
