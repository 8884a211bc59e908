"""validate and propose: check a motion file; send its ballots."""

from __future__ import annotations

import sys
from contextlib import ExitStack, closing
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from steervote.cli import (
    app,
    consoles,
    login,
    message_preview,
    now,
    open_store,
    progress_bar,
    settings_of,
    throttled,
    transport_of,
)
from steervote.cli.propose_report import report, resend_hint, say, send_time, who
from steervote.errors import ExitCode, InvalidInput
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from steervote.adapters.store import Store
    from steervote.cli.propose_stores import StoreGuard
    from steervote.config import Settings
    from steervote.core.ballot import Addressing, Attachment
    from steervote.core.motion import Motion
    from steervote.core.records import AddressChange, Amendment
    from steervote.services.propose import Plan, Transport


def _extensions(transport: Transport) -> dict[str, str] | None:
    """An SMTP server's EHLO extensions (connecting to ask); None for the local outbox."""
    from steervote.adapters.smtp import SmtpTransport

    return transport.extensions() if isinstance(transport, SmtpTransport) else None


@app.command()
def validate(
    ctx: typer.Context,
    motion_file: Annotated[Path, typer.Argument(help="The motion YAML file.", metavar="MOTION")],
) -> None:
    """Check a motion file, its committee and attachments, and the config; print a
    summary. Writes nothing. Problems in the config and in the files are all reported.

    Examples:

    \b
      steervote validate motions/new-constitution.yaml
      steervote validate motions/new-constitution.yaml --config steervote.toml
    """
    from rich.text import Text

    from steervote import render
    from steervote.core.ballot import Addressing, fingerprint
    from steervote.errors import ConfigInvalid, MotionInvalid

    try:
        settings, config_problem = settings_of(ctx), None
    except ConfigInvalid as e:  # The motion is checked too: one run names every problem.
        settings, config_problem = _defaults(), e
    else:
        try:  # what only sending needs ([ballot] from with [smtp]): validate names it too
            settings.check_sending()
        except ConfigInvalid as e:
            config_problem = e
    try:
        motion, attachments = _motion(settings, motion_file)
    except MotionInvalid as e:
        if config_problem is None:
            raise
        raise InvalidInput(f"{config_problem}\n{e}") from None
    if config_problem is not None:
        raise config_problem
    render.motion_summary(consoles.out, motion, fingerprint(motion, attachments))
    _smtputf8_note(motion, Addressing(settings.ballot.sender, settings.ballot.reply_to, False))
    consoles.out.print(_config_line(settings), markup=False, highlight=False)
    consoles.out.print(Text.assemble(("OK", "green"), f": {motion_file} is a valid motion."))


def _defaults() -> Settings:
    """The built-in settings, to check a motion with when the config cannot be read."""
    from steervote.config import BallotSettings, Settings

    here = Path.cwd()
    return Settings(here, None, f"sqlite:///{here / 'steervote.db'}", BallotSettings(), None, None)


def _config_line(settings: Settings) -> str:
    """Which config was checked, and where it sends, reads and records."""
    from steervote.adapters.store import redact_url

    where = str(settings.source) if settings.source else "none (built-in defaults)"
    send = f"SMTP {settings.smtp!r}" if settings.smtp else f"the local outbox {settings.outbox}"
    read = f"IMAP {settings.imap!r}" if settings.imap else f"the Maildir {settings.inbox}"
    return (
        f"Config: {where}: ballots go to {send}; replies are read from {read}; "
        f"the store is {redact_url(settings.database_url)}."
    )


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
    no_check: Annotated[
        bool,
        typer.Option(
            "--no-check", help="Skip the SMTP sign-in check (`steervote check`) run first."
        ),
    ] = False,
    add_member: Annotated[
        list[str] | None,
        typer.Option(
            "--add-member",
            metavar="MEMBER",
            help="After the ballots went out, admit this member (by id), added to the "
            "committee in the motion file, and send them a ballot: an amendment of the "
            "electorate, recorded with --reason and who made it; the motion's fingerprint "
            "changes. Repeatable.",
        ),
    ] = None,
    amend_member: Annotated[
        list[str] | None,
        typer.Option(
            "--amend-member",
            metavar="MEMBER",
            help="After the ballots went out, take this member's changed email and aliases "
            "from the committee in the motion file: an amendment of the electorate, recorded "
            "with --reason, who made it and the old and new addresses. A new email is taken "
            "only while their ballot has not gone out (it failed, or is pending): this run "
            "sends it there, with the same token. Aliases can change at any time. Repeatable.",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            metavar="TEXT",
            help="Why the electorate is amended, kept with the amendment (with --add-member "
            "or --amend-member).",
        ),
    ] = None,
    allow_late_send: Annotated[
        bool,
        typer.Option(
            "--allow-late-send",
            help="Send even when the sending limits mean the last ballot would go out after "
            "voting closes.",
        ),
    ] = False,
    second_store: Annotated[
        bool,
        typer.Option(
            "--second-store",
            help="Send although another store on this computer already holds ballots of this "
            "motion (the same id, or the same motion under another id): every member gets a "
            "second ballot, whose replies only this store sees. Without it such a run is "
            "refused, naming the other store.",
        ),
    ] = False,
) -> None:
    """Send every voting member a personal ballot (observers an information copy).

    Safe to re-run: only ballots not yet sent are sent. A ballot handed to the server
    without its confirmation (a broken connection, a killed run) is never sent again
    unless named with --resend. One propose of a motion runs at a time. A motion changed
    after its ballots went out is refused, naming each change; a member added to the
    committee, or a member's changed email or aliases, are taken only by a recorded
    amendment (--add-member, --amend-member). Everything (files, addresses, the SMTP
    server's SMTPUTF8 and SIZE) is checked before anything is written. Run where there is
    no store yet, it says a new one will be created; a motion whose ballots another store
    on this computer holds (propose run from the wrong folder, or with another --config)
    is refused unless --second-store. Exit 0 when all ballots are sent, 1 when any failed
    or is unconfirmed, 2 on invalid input.

    Examples:

    \b
      steervote propose motions/new-constitution.yaml --dry-run
      steervote propose motions/new-constitution.yaml
      steervote propose motions/new-constitution.yaml --resend sam-tarry
      steervote propose vote.yaml --add-member ann-other --reason "left off"
      steervote propose vote.yaml --amend-member sam-tarry --reason "it bounced"
    """
    from steervote import render
    from steervote.adapters.store import store_exists
    from steervote.cli import propose_stores as stores
    from steervote.core.ballot import Addressing, compose_ballot, new_token
    from steervote.services import propose as service

    settings = settings_of(ctx)
    motion, attachments = _motion(settings, motion_file)
    amend = _amendment(motion, add_member, amend_member, reason)
    b = settings.ballot
    addressing = Addressing(b.sender, b.reply_to, b.plus_tokens)
    where = (
        f"local outbox {settings.outbox}" if settings.smtp is None else f"SMTP {settings.smtp!r}"
    )
    # A run that will only show the plan (a dry run, or no terminal to confirm on and
    # no --yes) must not create a database either.
    only_shows = dry_run or (not yes and not sys.stdin.isatty())
    guard = stores.guard_of(settings, motion, attachments)
    with ExitStack() as cleanup:
        transport = None if only_shows else cleanup.enter_context(closing(transport_of(settings)))
        if transport is not None and settings.smtp is not None and not no_check:
            _check_smtp(settings)  # `steervote check`'s SMTP steps, before anything is written
        if transport is not None:  # Asked before anything is written.
            service.check_server(
                motion, addressing, attachments, extensions=_extensions(transport), server=where
            )
        # A new store is created only once the plan is shown, checked and confirmed: a run
        # that only shows it, is refused, or is answered no leaves no database behind.
        store = open_store(settings) if store_exists(settings.database_url) else None
        if store is not None and not only_shows:
            _hold(cleanup, store, motion.id)
        planned = partial(
            service.plan,
            motion,
            addressing=addressing,
            attachments=attachments,
            resend=resend or (),
            amend=amend,
        )
        plan = planned(store, now=now())
        _show_plan(
            settings, store, plan, where, guard, refuse_late=not dry_run and not allow_late_send
        )
        here = stores.place(settings)
        stores.refuse_elsewhere(
            guard,
            motion.id,
            plan,
            here=here if store is not None else f"a new store at {here}",
            allowed=second_store,
        )
        if dry_run:
            # A ballot this run would send (an added member's, a corrected address's), as
            # it goes; else the first member's.
            members = {m.id: m for m in plan.motion.committee.members}
            going = [members[b.recipient] for b in plan.to_send if b.voting]
            first = going[0] if going else plan.motion.committee.members[0]
            sample = compose_ballot(
                plan.motion, first, new_token(), addressing, plan.attachments, now()
            )
            consoles.out.rule("One ballot in full (token shown is an example)")
            consoles.out.print(render.safe(message_preview(sample), 20_000, oneline=False))
            consoles.out.print("Dry run: nothing written, nothing sent.")
            return
        if not plan.to_send and not plan.interrupted and plan.amendment is None:
            _nothing_to_do(plan, _rerun(ctx, motion_file))
            return
        if not yes and not _confirmed(plan, None if store is not None else here):
            consoles.out.print("Nothing sent.")
            return
        if store is None:
            # The answer was yes: the store is created now, and the plan made again under
            # its lock (another run may have begun while the question waited).
            store = open_store(settings)
            _hold(cleanup, store, motion.id)
            plan = planned(store, now=now())
        assert transport is not None
        if plan.to_send:
            stores.remember(guard, plan, now())
        with progress_bar(len(plan.to_send)) as advance:
            result = service.propose(
                plan,
                store,
                throttled(transport, settings, store),
                addressing,
                now=now,
                progress=lambda _: advance(),
            )
    report(result, motion, _rerun(ctx, motion_file))


def _show_plan(
    settings: Settings,
    store: Store | None,
    plan: Plan,
    where: str,
    guard: StoreGuard,
    *,
    refuse_late: bool,
) -> None:
    """The motion, where its ballots go, how many, and (under sending limits) how long;
    that the store will be created if it does not exist yet."""
    from steervote import render
    from steervote.cli import propose_stores as stores

    render.motion_summary(consoles.out, plan.motion, plan.fingerprint, title="Propose")
    if plan.amendment is not None:
        _amendment_note(plan)
        if store is not None:
            _read_before(store, plan)
    if store is None:
        stores.new_store_note(settings, guard)
    voting = sum(x.voting for x in plan.to_send)
    say(
        f"Transport: {where}\nTo send: {render.plural(len(plan.to_send), 'message')} "
        f"({render.plural(voting, 'ballot')}, "
        f"{render.plural(len(plan.to_send) - voting, 'copy', 'copies')}); "
        f"already sent: {plan.already_sent:,}"
    )
    if plan.interrupted:
        n = len(plan.interrupted)
        say(
            f"Delivery unconfirmed: {render.plural(n, 'message')} (a propose that stopped had "
            f"handed {'it' if n == 1 else 'them'} to the server; not sent again)"
        )
    send_time(settings, store, plan, refuse=refuse_late)


def _nothing_to_do(plan: Plan, rerun: str) -> None:
    consoles.out.print("Every ballot has already been sent. Nothing to do.")
    if plan.unconfirmed:
        say(
            f"Delivery still unconfirmed: {who(plan.unconfirmed, limit=None)}; {resend_hint(rerun)}"
        )


def _confirmed(plan: Plan, new_store: str | None) -> bool:
    """The secretary's yes (InvalidInput without a terminal: --yes is needed). The question
    names the store it creates, if it creates one."""
    from steervote import render

    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to confirm on: pass --yes to send the ballots")
    if not plan.to_send:
        return True
    send = f"send {render.plural(len(plan.to_send), 'message')} now?"
    question = f"Create the store {new_store} and {send}" if new_store else send.capitalize()
    return typer.confirm(untrusted(question, 2000))


def _rerun(ctx: typer.Context, motion_file: Path) -> str:
    """The command that resumes this propose, as the secretary can type it."""
    import shlex

    from steervote.terminal import this_program

    config = f" --config {shlex.quote(str(ctx.obj))}" if ctx.obj is not None else ""
    return f"{this_program()} propose {shlex.quote(str(motion_file))}{config}"


def _check_smtp(settings: Settings) -> None:
    """`steervote check`'s SMTP steps, shown; exit 1 with nothing written if one fails."""
    import os

    from steervote.cli.check import print_steps
    from steervote.services.check import check

    result = check(settings, os.environ, imap=False)
    print_steps([s for s in result.steps if s.ok])
    for failed in (s for s in result.steps if not s.ok):
        consoles.err.print(
            f"error: {untrusted(failed.what, 200)}: {untrusted(failed.said, 2000)}"
            + (f"; fix: {untrusted(failed.fix, 2000)}" if failed.fix else "")
            + "; nothing was recorded or sent",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(ExitCode.FAILED)


def _hold(cleanup: ExitStack, store: Store, motion_id: str) -> None:
    """Take the motion's propose lock until `cleanup` closes (planning to the last status):
    a second run exits 1 naming this one."""
    held = cleanup.enter_context(store.propose_lock(motion_id, now=now()))
    if held.took_over is not None:
        consoles.out.print(f"Note: {held.note()}.", markup=False, highlight=False)


def _amendment(
    motion: Motion, added: list[str] | None, amended: list[str] | None, reason: str | None
) -> Amendment | None:
    """The amendment asked for, or None; InvalidInput for --add-member or --amend-member
    without --reason. A member is named by id, address or name, as in the motion file's
    committee."""
    from steervote.core.member_lookup import find_member
    from steervote.core.records import Amendment

    if not added and not amended:
        if reason is not None:
            raise InvalidInput("--reason goes with --add-member or --amend-member")
        return None
    option = "--add-member" if added else "--amend-member"
    if reason is None or not reason.strip():
        raise InvalidInput(f"{option}: say why with --reason (kept with the motion)")
    ids = tuple(dict.fromkeys(find_member(motion, a).id for a in added or ()))
    changing = tuple(dict.fromkeys(find_member(motion, a).id for a in amended or ()))
    both = sorted(set(ids) & set(changing))
    if both:
        raise InvalidInput(
            f"--add-member and --amend-member both name {', '.join(both)}: a member added "
            "comes with the addresses the file gives them"
        )
    return Amendment(ids, reason.strip(), login(), now(), amended=changing)


def _amendment_note(plan: Plan) -> None:
    from steervote.core.ballot import format_fingerprint

    a = plan.amendment
    assert a is not None
    what = [f"adds {', '.join(a.added)}"] if a.added else []
    what += [_address_change(c) for c in a.changed]
    fingerprint = (
        f"The motion's fingerprint changes from {format_fingerprint(a.old_digest)} to "
        f"{format_fingerprint(a.new_digest)}: the ballots already sent keep the old one."
        if a.new_digest != a.old_digest
        else f"The motion's fingerprint stays {format_fingerprint(a.new_digest)} (it covers "
        "where ballots go, not aliases)."
    )
    said = (
        f"Amendment of the electorate: {'; '.join(what)} ({a.reason}); now "
        f"{plan.motion.electorate} voting members, quorum {plan.motion.quorum}. {fingerprint}"
    )
    consoles.out.print(untrusted(said, 4000), markup=False, highlight=False, soft_wrap=True)


def _read_before(store: Store, plan: Plan) -> None:
    """Say which messages from the addresses this amendment gives members were read
    before it as no member's: they are forgotten when it is recorded, and read again (as
    the member's) by the next `tally --rescan`."""
    from steervote.services.propose import read_before
    from steervote.terminal import this_program

    found = read_before(store, plan)
    if not found:
        return
    n = len(found)
    say(
        f"Note: {n:,} {'message' if n == 1 else 'messages'} from the addresses this "
        f"amendment gives {', '.join(sorted({member for _, member in found}))} "
        f"{'was' if n == 1 else 'were'} read before it as no member's. Recording the "
        f"amendment forgets {'it' if n == 1 else 'them'}, so that "
        f"`{this_program()} tally {plan.motion.id} --rescan` reads "
        f"{'it' if n == 1 else 'them'} again as the member's."
    )


def _address_change(c: AddressChange) -> str:
    """'changes sam-tarry's email from a@x to b@x, aliases from none to c@y'."""
    said = []
    if c.new_email != c.old_email:
        said.append(f"email from {c.old_email} to {c.new_email}")
    if c.new_aliases != c.old_aliases:
        said.append(
            f"aliases from {', '.join(c.old_aliases) or 'none'} "
            f"to {', '.join(c.new_aliases) or 'none'}"
        )
    return f"changes {c.member_id}'s {', '.join(said)}"
