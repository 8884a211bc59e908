"""The steervote command line: parse, build adapters from config, call one service, render.

Heavy modules (sqlmodel, imapclient) are imported inside the commands that need
them, so `steervote --help` starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from steervote import __version__
from steervote.errors import ExitCode, InvalidInput, SteervoteError
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from email.message import EmailMessage

    from rich.console import Console

    from steervote.adapters.source import MailSource
    from steervote.adapters.store import Store
    from steervote.config import ServerSettings, Settings
    from steervote.core.ballot import Addressing, Attachment
    from steervote.core.motion import Motion
    from steervote.core.records import BallotRecord
    from steervote.services.propose import Transport

app = typer.Typer(
    name="steervote",
    help="Committee motions decided by email: personal ballots out, replies read and "
    "counted, a result that can be shown to be right.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rendering it through rich would double the start-up time of --help.
    rich_markup_mode=None,
)


class _Consoles:
    """stdout and stderr consoles, made on first use so --help never imports rich."""

    @functools.cached_property
    def out(self) -> Console:
        from rich.console import Console

        return Console()

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, soft_wrap=True)


_consoles = _Consoles()


def _login() -> str:
    import getpass

    return getpass.getuser()


def _now() -> datetime:
    return datetime.now(UTC)


def _version(value: bool) -> None:
    if value:
        _consoles.out.print(f"steervote {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="steervote.toml to use (default: $STEERVOTE_CONFIG, else ./steervote.toml, "
            "else built-in defaults: SQLite and mail/ folders in the current directory).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    ctx.obj = config


def _settings(ctx: typer.Context) -> Settings:
    from steervote.config import load_settings

    return load_settings(ctx.obj)


def _store(settings: Settings) -> Store:
    from steervote.adapters.store import Store

    return Store(settings.database_url)


def _password(server: ServerSettings) -> str | None:
    from steervote.adapters.secrets import resolve_password

    return resolve_password(server.password_env, server.password_command, os.environ)


def _extensions(transport: Transport) -> dict[str, str] | None:
    """An SMTP server's EHLO extensions (connecting to ask); None for the local outbox."""
    from steervote.adapters.smtp import SmtpTransport

    return transport.extensions() if isinstance(transport, SmtpTransport) else None


def _transport(settings: Settings) -> Transport:
    if settings.smtp is None:
        from steervote.adapters.local import MaildirOutbox

        return MaildirOutbox(settings.outbox)
    from steervote.adapters.smtp import SmtpTransport

    s = settings.smtp
    return SmtpTransport(s.host, s.port, s.security, s.username, _password(s))


def _source(settings: Settings, spec: str | None) -> MailSource:
    from steervote.adapters.local import MaildirSource, MboxSource

    kind, _, path = (spec or "").partition(":")
    try:
        if spec is None and settings.imap is None:
            settings.inbox.mkdir(parents=True, exist_ok=True)
            for sub in ("cur", "new", "tmp"):
                (settings.inbox / sub).mkdir(exist_ok=True)
            return MaildirSource(settings.inbox)
        if kind == "maildir" and path:
            return MaildirSource(Path(path))
        if kind == "mbox" and path:
            return MboxSource(Path(path))
    except FileNotFoundError as e:
        raise InvalidInput(f"--source {spec}: {e}") from None
    if spec in (None, "imap"):
        if settings.imap is None:
            raise InvalidInput("--source imap: no [imap] section in the config")
        from steervote.adapters.imap import ImapSource

        s = settings.imap
        return ImapSource(
            s.host,
            s.port,
            s.security,
            s.username or "",
            _password(s) or "",
            s.folder,
        )
    raise InvalidInput(f"--source {spec!r}: expected imap, maildir:PATH or mbox:PATH")


# --- commands ---------------------------------------------------------------------


@app.command()
def validate(
    ctx: typer.Context,
    motion_file: Annotated[Path, typer.Argument(help="The motion YAML file.", metavar="MOTION")],
) -> None:
    """Check a motion file, its committee and attachments; print a summary. Writes nothing."""
    from rich.text import Text

    from steervote import render
    from steervote.core.ballot import Addressing, fingerprint

    settings = _settings(ctx)
    motion, attachments = _motion(settings, motion_file)
    render.motion_summary(_consoles.out, motion, fingerprint(motion, attachments))
    _smtputf8_note(motion, Addressing(settings.ballot.sender, settings.ballot.reply_to, False))
    _consoles.out.print(Text.assemble(("OK", "green"), f": {motion_file} is a valid motion."))


def _motion(settings: Settings, path: Path) -> tuple[Motion, tuple[Attachment, ...]]:
    """The motion, validated, and its papers, read within [ballot] max_attachment_bytes."""
    from steervote.core.motion_file import load_motion
    from steervote.services.propose import read_attachments

    limit = settings.ballot.max_attachment_bytes
    motion = load_motion(path, now=_now(), max_attachment_bytes=limit)
    return motion, read_attachments(motion, limit)


def _smtputf8_note(motion: Motion, addressing: Addressing) -> None:
    from steervote import render
    from steervote.services.propose import smtputf8_addresses

    needing = smtputf8_addresses(motion, addressing)
    if needing:
        _consoles.out.print(
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

    settings = _settings(ctx)
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
        transport = None if only_shows else cleanup.enter_context(closing(_transport(settings)))
        if transport is not None:  # Asked before anything is written.
            service.check_server(
                motion, addressing, attachments, extensions=_extensions(transport), server=where
            )
        store = None if only_shows and not store_exists(settings.database_url) else _store(settings)
        if store is not None and not only_shows:
            # Held from planning to the last status: a second run exits 1 naming this one.
            held = cleanup.enter_context(store.propose_lock(motion.id, now=_now()))
            if held.took_over is not None:
                _consoles.out.print(f"Note: {held.note()}.", markup=False, highlight=False)
        plan = service.plan(
            motion, store, addressing, now=_now(), attachments=attachments, resend=resend or ()
        )
        render.motion_summary(_consoles.out, plan.motion, plan.fingerprint, title="Propose")
        _consoles.out.print(
            f"Transport: {where}\nTo send: {len(plan.to_send)} "
            f"({sum(x.voting for x in plan.to_send)} ballots, "
            f"{sum(not x.voting for x in plan.to_send)} copies); already sent: {plan.already_sent}",
            markup=False,
            highlight=False,
        )
        if plan.interrupted:
            _consoles.out.print(
                f"Delivery unconfirmed: {len(plan.interrupted)} (a propose that stopped had "
                "handed them to the server; not sent again)",
                markup=False,
                highlight=False,
            )
        if dry_run:
            first = plan.motion.committee.members[0]
            sample = compose_ballot(
                plan.motion, first, new_token(), addressing, plan.attachments, _now()
            )
            _consoles.out.rule("One ballot in full (token shown is an example)")
            _consoles.out.print(render.safe(_ballot_preview(sample), 20_000, oneline=False))
            _consoles.out.print("Dry run: nothing written, nothing sent.")
            return
        if not plan.to_send and not plan.interrupted:
            _consoles.out.print("Every ballot has already been sent. Nothing to do.")
            if plan.unconfirmed:
                _consoles.out.print(
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
        with _progress(len(plan.to_send)) as advance:
            result = service.propose(
                plan, store, transport, addressing, now=_now, progress=lambda _: advance()
            )
    render.ballots(_consoles.out, result.ballots)
    failed = [x for x in result.ballots if x.status is BallotStatus.FAILED]
    _consoles.out.print(
        f"Sent now: {result.sent_now}; failed: {len(failed)}; "
        f"pending: {sum(x.status is BallotStatus.PENDING for x in result.ballots)}"
    )
    if result.error:
        _consoles.err.print(f"error: {result.error}; re-run propose to send the rest", markup=False)
    if failed:
        # The table may be cut to the terminal's width: name each refusal in full here.
        _consoles.err.print(
            f"error: {len(failed)} ballot(s) refused: {_who(failed, detail=True)}; "
            "re-run propose to retry them",
            markup=False,
            highlight=False,
        )
    unsure = [x for x in result.ballots if service.unconfirmed(x)]
    if result.unconfirmed_now:
        # Every one of them, this run's and earlier runs': a run that found some may have
        # been stopped before it could name them.
        _consoles.err.print(
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


def _ballot_preview(msg: EmailMessage) -> str:
    head = "\n".join(f"{k}: {v}" for k, v in msg.items())
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    names = [p.get_filename() for p in msg.iter_attachments()]
    tail = f"\n[attachments: {', '.join(n or '?' for n in names)}]" if names else ""
    return f"{head}\n\n{text}{tail}"


class _progress:
    """A progress bar for large electorates; nothing for small ones."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: object | None = None

    def __enter__(self) -> Callable[[], None]:
        if self.total <= 50 or not _consoles.out.is_terminal:
            return lambda: None
        from rich.progress import Progress

        bar = Progress(console=_consoles.out)
        bar.start()
        task = bar.add_task("Sending", total=self.total)
        self.bar = bar
        return lambda: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()  # type: ignore[attr-defined]


@app.command()
def tally(
    ctx: typer.Context,
    motion_id: Annotated[
        str | None, typer.Argument(help="Motion id (default: every recorded motion).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Where replies are: imap (the [imap] config), maildir:PATH or mbox:PATH. "
            "Default: [imap] if configured, else mail/inbox/ beside the config."
        ),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Report from the store without reading mail.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the members table to this CSV file.")
    ] = None,
    rescan: Annotated[
        bool,
        typer.Option(
            "--rescan",
            help="Read the source again from the start, e.g. after raising [tally] "
            "max_message_bytes: messages too large before are read; nothing is counted twice.",
        ),
    ] = False,
) -> None:
    """Read new replies, match and classify them, and report each motion's result.

    Never changes the mailbox; safe to re-run: only new mail is read (all of it with
    --rescan).
    """
    from steervote import export
    from steervote.services.review import all_reports, report

    settings = _settings(ctx)
    store = _store(settings)
    if not offline:
        _collect(settings, store, source, quiet=as_json, rescan=rescan)
    reports = (
        [report(store, motion_id, now=_now())] if motion_id else all_reports(store, now=_now())
    )
    if csv_file is not None and reports:
        export.tally_csv(csv_file, reports[0].result)
    if as_json:
        objs = [export.tally_json(r.result, r.ignored) for r in reports]
        export.print_json(objs[0] if motion_id else objs)
        return
    from steervote import render

    if not reports:
        _consoles.out.print("No motions recorded yet. Start with: steervote propose MOTION.yaml")
    for r in reports:
        render.tally(_consoles.out, r.result, r.ignored)


def _collect(
    settings: Settings, store: Store, spec: str | None, *, quiet: bool, rescan: bool
) -> None:
    from steervote.services.collect import collect

    mail = _source(settings, spec)
    try:
        result = collect(
            mail,
            store,
            now=_now,
            max_size=settings.max_message_bytes,
            rescan=rescan,
            authserv_ids=settings.trusted_authserv_ids,
            received_by=settings.trusted_received_by,
        )
    finally:
        mail.close()
    if not quiet:
        if result.rescanned:
            rescan_note = " (UIDVALIDITY changed: full rescan)"
        else:
            rescan_note = " (--rescan: read from the start)" if rescan else ""
        _consoles.err.print(
            f"Read {result.read} new message(s) from {result.mailbox}{rescan_note}: "
            f"{result.votes} vote(s), {result.needs_review} for review, {result.ignored} ignored"
            + (f", {result.already_recorded} already recorded" if result.already_recorded else "")
            + _not_read(result.not_read),
            markup=False,
            highlight=False,
        )


def _not_read(entries: Sequence[str]) -> str:
    """ "; 2 entries not read (new/x: a symbolic link, not a message; ...)", or ""."""
    if not entries:
        return ""
    from steervote import render

    shown = "; ".join(render.untrusted(e) for e in entries[:5])
    more = f"; and {len(entries) - 5} more" if len(entries) > 5 else ""
    noun = "entry" if len(entries) == 1 else "entries"
    return f"; {len(entries)} {noun} not read ({shown}{more})"


@app.command()
def review(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(help="Motion id.")],
) -> None:
    """List every reply awaiting review, with the member's own words."""
    from steervote import render
    from steervote.services.review import report

    r = report(_store(_settings(ctx)), motion_id, now=_now())
    render.review(_consoles.out, r.result, r.replies)


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
        _store(_settings(ctx)),
        motion_id,
        member_id,
        choices[vote.lower()],
        reason=reason,
        ruled_by=by or _login(),
        now=_now(),
    )
    _consoles.out.print(f"Ruling recorded for {member_id} on {motion_id}.", markup=False)
    _consoles.out.print(render.result_line(r.result), markup=False, highlight=False)


@app.command()
def status(ctx: typer.Context) -> None:
    """A table of recorded motions with their counts and result (reads no mail)."""
    from steervote import render
    from steervote.services.review import all_reports

    reports = all_reports(_store(_settings(ctx)), now=_now())
    render.status(_consoles.out, [r.result for r in reports])


@app.command()
def demo(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to run it (default: a new temp dir).")
    ] = None,
) -> None:
    """The whole flow with no mail server: propose to a local outbox, simulated replies, tally."""
    from steervote.demo import run_demo

    run_demo(_consoles.out, directory, now=_now())


def _fail(e: SteervoteError) -> NoReturn:
    # Error text quotes files a user did not type (field names, paths, config keys): shown
    # escaped, never as markup or emoji codes (":x:").
    message = "\n".join(untrusted(line, 2000) for line in str(e).splitlines())
    _consoles.err.print(
        f"error: {message}", markup=False, highlight=False, emoji=False, soft_wrap=True
    )
    raise SystemExit(int(e.exit_code))


def main() -> None:
    """Console entry point: typed errors become one line on stderr and their exit code."""
    try:
        app()
    except SteervoteError as e:
        _fail(e)
