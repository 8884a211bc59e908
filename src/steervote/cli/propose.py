"""validate and propose: check a motion file; send its ballots."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack, closing
from pathlib import Path
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
    from steervote.config import Settings
    from steervote.core.ballot import Addressing, Attachment
    from steervote.core.motion import Motion
    from steervote.core.records import BallotRecord
    from steervote.services.propose import Transport


def _extensions(transport: Transport) -> dict[str, str] | None:
    """An SMTP server's EHLO extensions (connecting to ask); None for the local outbox."""
    from steervote.adapters.smtp import SmtpTransport

    return transport.extensions() if isinstance(transport, SmtpTransport) else None


@app.command()
def validate(
    ctx: typer.Context,
    motion_file: Annotated[Path, typer.Argument(help="The motion YAML file.", metavar="MOTION")],
) -> None:
    """Check a motion file, its committee and attachments; print a summary. Writes nothing."""
    from rich.text import Text

    from steervote import render
    from steervote.core.ballot import Addressing, fingerprint

    settings = settings_of(ctx)
    motion, attachments = _motion(settings, motion_file)
    render.motion_summary(consoles.out, motion, fingerprint(motion, attachments))
    _smtputf8_note(motion, Addressing(settings.ballot.sender, settings.ballot.reply_to, False))
    consoles.out.print(Text.assemble(("OK", "green"), f": {motion_file} is a valid motion."))


def _motion(settings: Settings, path: Path) -> tuple[Motion, tuple[Attachment, ...]]:
    """The motion, validated, and its papers, read within [ballot] max_attachment_bytes."""
    from steervote.core.motion_file import load_motion
    from steervote.services.propose import read_attachments

    limit = settings.ballot.max_attachment_bytes
    motion = load_motion(path, now=now(), max_attachment_bytes=limit)
    return motion, read_attachments(motion, limit)


def _smtputf8_note(motion: Motion, addressing: Addressing) -> None:
    from steervote import render
    from steervote.services.propose import smtputf8_addresses

    needing = smtputf8_addresses(motion, addressing)
    if needing:
        consoles.out.print(
            f"Note: {render.untrusted(', '.join(needing[:3]))}"
            + (f" and {len(needing) - 3} more" if len(needing) > 3 else "")
            + " can be sent to only through a server that offers SMTPUTF8 (the local outbox "
            "takes them; propose asks an SMTP server before it records anything).",
            markup=False,
            highlight=False,
        )


@app.command()
def propose(
    ctx: typer.Context,
    motion_file: Annotated[Path, typer.Argument(help="The motion YAML file.", metavar="MOTION")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent and one ballot in full.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Send without asking.")] = False,
    resend: Annotated[
        list[str] | None,
        typer.Option(
            "--resend",
            metavar="MEMBER",
            help="Send again the ballot of this member (id or address) whose delivery is "
            "unconfirmed, once you know it never arrived. Repeatable.",
        ),
    ] = None,
) -> None:
    """Send every voting member a personal ballot (observers an information copy).

    Safe to re-run: only ballots not yet sent are sent. A ballot handed to the server
    without its confirmation (a broken connection, a killed run) is never sent again
    unless named with --resend. One propose of a motion runs at a time. A motion changed
    after its ballots went out is refused. Everything (files, addresses, the SMTP
    server's SMTPUTF8 and SIZE) is checked before anything is written. Exit 0 when all
    ballots are sent, 1 when any failed or is unconfirmed, 2 on invalid input.
    """
    from steervote import render
    from steervote.adapters.store import store_exists
    from steervote.core.ballot import Addressing, compose_ballot, new_token
    from steervote.core.records import BallotStatus
    from steervote.services import propose as service

    settings = settings_of(ctx)
    motion, attachments = _motion(settings, motion_file)
    b = settings.ballot
    addressing = Addressing(b.sender, b.reply_to, b.plus_tokens)
    where = (
        f"local outbox {settings.outbox}" if settings.smtp is None else f"SMTP {settings.smtp!r}"
    )
    # A run that will only show the plan (a dry run, or no terminal to confirm on and
    # no --yes) must not create a database either.
    only_shows = dry_run or (not yes and not sys.stdin.isatty())
    with ExitStack() as cleanup:
        transport = None if only_shows else cleanup.enter_context(closing(transport_of(settings)))
        if transport is not None:  # Asked before anything is written.
            service.check_server(
                motion, addressing, attachments, extensions=_extensions(transport), server=where
            )
        store = (
            None if only_shows and not store_exists(settings.database_url) else open_store(settings)
        )
        if store is not None and not only_shows:
            # Held from planning to the last status: a second run exits 1 naming this one.
            held = cleanup.enter_context(store.propose_lock(motion.id, now=now()))
            if held.took_over is not None:
                consoles.out.print(f"Note: {held.note()}.", markup=False, highlight=False)
        plan = service.plan(
            motion, store, addressing, now=now(), attachments=attachments, resend=resend or ()
        )
        render.motion_summary(consoles.out, plan.motion, plan.fingerprint, title="Propose")
        consoles.out.print(
            f"Transport: {where}\nTo send: {len(plan.to_send)} "
            f"({sum(x.voting for x in plan.to_send)} ballots, "
            f"{sum(not x.voting for x in plan.to_send)} copies); already sent: {plan.already_sent}",
            markup=False,
            highlight=False,
        )
        if plan.interrupted:
            consoles.out.print(
                f"Delivery unconfirmed: {len(plan.interrupted)} (a propose that stopped had "
                "handed them to the server; not sent again)",
                markup=False,
                highlight=False,
            )
        if dry_run:
            first = plan.motion.committee.members[0]
            sample = compose_ballot(
                plan.motion, first, new_token(), addressing, plan.attachments, now()
            )
            consoles.out.rule("One ballot in full (token shown is an example)")
            consoles.out.print(render.safe(message_preview(sample), 20_000, oneline=False))
            consoles.out.print("Dry run: nothing written, nothing sent.")
            return
        if not plan.to_send and not plan.interrupted:
            consoles.out.print("Every ballot has already been sent. Nothing to do.")
            if plan.unconfirmed:
                consoles.out.print(
                    f"Delivery still unconfirmed: {_who(plan.unconfirmed, limit=None)}; "
                    f"{_RESEND_HINT}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            return
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput("no terminal to confirm on: pass --yes to send the ballots")
            if plan.to_send and not typer.confirm(f"Send {len(plan.to_send)} message(s) now?"):
                raise typer.Exit(ExitCode.FAILED)
        assert store is not None and transport is not None
        with progress_bar(len(plan.to_send)) as advance:
            result = service.propose(
                plan, store, transport, addressing, now=now, progress=lambda _: advance()
            )
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
        consoles.err.print(
            f"error: {len(failed)} ballot(s) refused: {_who(failed, detail=True)}; "
            "re-run propose to retry them",
            markup=False,
            highlight=False,
        )
    unsure = [x for x in result.ballots if service.unconfirmed(x)]
    if result.unconfirmed_now:
        # Every one of them, this run's and earlier runs': a run that found some may have
        # been stopped before it could name them.
        consoles.err.print(
            f"warning: {len(unsure)} ballot(s) may not have been delivered (handed to the "
            "server, which never confirmed them: the connection broke or the propose sending "
            f"them stopped; not sent again): {_who(unsure, limit=None)}; {_RESEND_HINT}",
            markup=False,
            highlight=False,
        )
    if failed or result.error or result.unconfirmed_now:
        raise typer.Exit(ExitCode.FAILED)


_RESEND_HINT = (
    "check the mail server's log, and send again one that never arrived with "
    "`steervote propose MOTION --resend MEMBER`"
)


def _who(records: Sequence[BallotRecord], *, detail: bool = False, limit: int | None = 5) -> str:
    """Names and addresses, the first `limit` of them (None: all)."""
    from steervote import render

    limit = len(records) if limit is None else limit
    shown = [
        render.untrusted(f"{b.name} <{b.address}>" + (f" ({b.detail})" if detail else ""))
        for b in records[:limit]
    ]
    more = f" and {len(records) - limit} more" if len(records) > limit else ""
    return ", ".join(shown) + more
