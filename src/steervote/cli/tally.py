"""tally and status: read replies, count, report."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from steervote.cli import (
    app,
    check_recorded,
    consoles,
    imap_source_of,
    now,
    open_store,
    settings_of,
)
from steervote.errors import InvalidInput
from steervote.terminal import this_program, untrusted

if TYPE_CHECKING:
    from steervote.adapters.source import MailSource
    from steervote.adapters.store import Store
    from steervote.config import Settings
    from steervote.services.review import Report


def _source(settings: Settings, spec: str | None) -> MailSource:
    from steervote.adapters.local import MaildirSource, MboxSource

    kind, _, path = (spec or "").partition(":")
    try:
        if spec is None and settings.imap is None:
            # The default inbox is made (empty) only here, when tally is about to read it:
            # never for --offline, a missing store or an unknown motion id.
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
        return imap_source_of(settings)
    raise InvalidInput(f"--source {spec!r}: expected imap, maildir:PATH or mbox:PATH")


@app.command()
def tally(
    ctx: typer.Context,
    motion_id: Annotated[
        str | None,
        typer.Argument(metavar="MOTION", help="Motion id (default: every recorded motion)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            metavar="SOURCE",
            help="Where replies are: imap (the [imap] config), maildir:PATH or mbox:PATH. "
            "Default: [imap] if configured, else the Maildir mail/inbox/ beside the config "
            "(created empty when tally reads it and it is missing).",
        ),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Report from the store without reading mail.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    csv_file: Annotated[
        str | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            help="Also write every member of each motion to this CSV file, one row each "
            "with a motion column, in UTF-8 with a byte-order mark so that spreadsheet "
            "programs read accents. '-' writes it to standard output instead of the report.",
        ),
    ] = None,
    forget_source: Annotated[
        str | None,
        typer.Option(
            "--forget-source",
            metavar="SOURCE",
            help="Forget a source read by mistake (imap, maildir:PATH or mbox:PATH): its "
            "messages leave every report. Refused while it holds a vote or a reply in review.",
        ),
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

    Examples:

    \b
      steervote tally new-constitution
      steervote tally --offline
      steervote tally new-constitution --json > result.json
      steervote tally new-constitution --source mbox:replies.mbox
    """
    from steervote import export

    if forget_source is not None:
        given = {
            "MOTION": motion_id is not None,
            "--source": source is not None,
            "--offline": offline,
            "--json": as_json,
            "--csv": csv_file is not None,
            "--rescan": rescan,
        }
        if any(given.values()):
            also = ", ".join(name for name, on in given.items() if on)
            raise InvalidInput(f"--forget-source is a job of its own: run it without {also}")
        _forget(ctx, forget_source)
        return
    csv_out = export.CsvOutput(csv_file) if csv_file is not None else None
    if csv_out is not None and csv_out.to_stdout and as_json:
        raise InvalidInput("--csv - and --json both write to standard output: choose one")
    settings = settings_of(ctx)
    # tally never creates a store: with nothing proposed there is nothing to count, and a
    # tally run in the wrong folder must leave nothing behind. A motion id is checked
    # before any mail is read, so a mistyped one records nothing.
    store = open_store(settings, create=False)
    if motion_id:
        check_recorded(store, motion_id)
    # The CSV file is opened before any mail is read: a path that cannot be written
    # stops the run with nothing recorded.
    with csv_out or contextlib.nullcontext():
        if csv_out is not None:
            csv_out.refuse_over(_precious(settings))
        if not offline:
            _collect(settings, store, source, quiet=as_json, rescan=rescan)
        reports = _reports(store, motion_id, ballots=as_json)
        if csv_out is not None:
            csv_out.write([r.result for r in reports])
    if as_json:
        objs = [export.tally_json(r.result, r.ignored, r.ballots) for r in reports]
        export.print_json(objs[0] if motion_id else objs)
        return
    if csv_out is not None and csv_out.to_stdout:
        return
    from steervote import render

    if not reports:
        start = f"{this_program()} propose MOTION.yaml"
        consoles.out.print(f"No motions recorded yet. Start with: {start}")
    for r in reports:
        render.tally(consoles.out, r.result, r.ignored)
        if r.sent is not None:
            consoles.out.print(
                render.sent_line(r.result.motion.id, r.sent), markup=False, highlight=False
            )


def _precious(settings: Settings) -> list[Path]:
    """Files a CSV must never be written over: the SQLite store and the config."""
    out = []
    url = settings.database_url
    if url.startswith("sqlite:///"):
        out.append(Path(url.removeprefix("sqlite:///")))
    if settings.source is not None:
        out.append(settings.source)
    return out


def _forget(ctx: typer.Context, spec: str) -> None:
    """tally --forget-source: the source's identity as tally records it, then forget it."""
    from steervote.adapters.store import StoreError

    settings = settings_of(ctx)
    kind, _, path = spec.partition(":")
    if kind in ("maildir", "mbox") and path:
        key = f"{kind}:{Path(path).absolute()}"
    elif spec == "imap":
        key = _source(settings, spec).key
    else:
        raise InvalidInput(f"--forget-source {spec!r}: expected imap, maildir:PATH or mbox:PATH")
    store = open_store(settings, create=False)
    read = store.mailboxes()
    if key not in read:
        shown = "; ".join(untrusted(k) for k in read) or "none yet"
        raise InvalidInput(
            f"--forget-source: {untrusted(key)} was never read, so there is nothing to "
            f"forget. Sources read: {shown}"
        )
    try:
        n = store.forget_mailbox(key)
    except StoreError as e:
        raise InvalidInput(f"--forget-source: {e}") from None
    noun = "message" if n == 1 else "messages"
    consoles.out.print(f"Forgot {key}: {n} {noun} recorded from it.", markup=False, highlight=False)


def _reports(store: Store, motion_id: str | None, *, ballots: bool) -> list[Report]:
    """The motion asked for, or every recorded motion (with ballot counts if `ballots`)."""
    from steervote.services.review import all_reports, report

    if motion_id:
        return [report(store, motion_id, now=now(), ballots=ballots)]
    return all_reports(store, now=now(), ballots=ballots)


def _collect(
    settings: Settings, store: Store, spec: str | None, *, quiet: bool, rescan: bool
) -> None:
    from steervote.cli import reading_progress
    from steervote.render import plural
    from steervote.services.collect import collect

    mail = _source(settings, spec)
    try:
        with reading_progress() as progress:
            result = collect(
                mail,
                store,
                now=now,
                max_size=settings.max_message_bytes,
                rescan=rescan,
                authserv_ids=settings.trusted_authserv_ids,
                received_by=settings.trusted_received_by,
                progress=progress,
            )
    finally:
        mail.close()
    if not quiet:
        # A local folder renumbers whenever a file is added: its rescan is routine (and
        # cheap: what it gave before is skipped unread), not worth a word.
        if result.rescanned and not result.mailbox.startswith(("maildir:", "mbox:")):
            rescan_note = " (UIDVALIDITY changed: full rescan)"
        else:
            rescan_note = " (--rescan: read from the start)" if rescan else ""
        # A local folder is read whole each time; what it gave before is skipped unread and
        # is not "new" (nor, in the counts, anything at all).
        new = result.read - result.already_recorded
        before = result.already_recorded
        consoles.err.print(
            f"Read {plural(new, 'new message')} from {result.mailbox}{rescan_note}: "
            f"{result.votes:,} read as {'a vote' if result.votes == 1 else 'votes'}, "
            f"{result.needs_review:,} for review, "
            f"{result.ignored:,} ignored"
            + (f"; {before:,} recorded before, skipped" if before else "")
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
def status(ctx: typer.Context) -> None:
    """A table of recorded motions with their counts and result (reads no mail).

    Examples:

    \b
      steervote status
      steervote status --config ../steering-group/steervote.toml
    """
    from steervote import render
    from steervote.services.review import all_reports

    reports = all_reports(open_store(settings_of(ctx), create=False), now=now())
    render.status(consoles.out, [r.result for r in reports])
    for r in reports:
        if r.sent is not None:
            consoles.out.print(
                render.sent_line(r.result.motion.id, r.sent), markup=False, highlight=False
            )
