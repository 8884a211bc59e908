"""The steervote command line: the Typer app, its shared options and helpers.

Each command (or close group) lives in its own module here: it parses, builds adapters
from config, calls one service and renders. Heavy modules (sqlmodel, imapclient, rich)
are imported inside the commands that need them, so `steervote --help` starts fast.
"""

from __future__ import annotations

import copy
import functools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer
from typer.core import TyperArgument, TyperGroup

from steervote import __version__
from steervote.errors import InvalidInput, SteervoteError
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from email.message import EmailMessage

    from rich.console import Console

    from steervote.adapters.imap import ImapSource
    from steervote.adapters.oauth import AccessTokens
    from steervote.adapters.store import Store
    from steervote.config import ServerSettings, Settings
    from steervote.core.send_schedule import Limits
    from steervote.services.propose import Transport

CONFIG_HELP = (
    "steervote.toml to use (default: $STEERVOTE_CONFIG, else ./steervote.toml, else "
    "built-in defaults: SQLite and mail/ folders in the current directory)."
)


def _config_after(ctx: typer.Context, param: Any, value: Path | None) -> Path | None:
    """--config given after the command: it sets what `settings_of` reads, as before it."""
    if value is not None:
        if ctx.obj is not None and Path(ctx.obj) != Path(value):
            raise typer.BadParameter(f"given twice: {ctx.obj} and {value}", ctx, param)
        ctx.obj = Path(value)
    return value


class _PlainArgument(TyperArgument):
    """An argument shown the POSIX way: `MOTION` when required, `[MEMBER]` when not, and
    in the Arguments list with its type only when that type is a choice
    (`VOTE <for|against|abstain|none>`): Typer's own `{MOTION}` and `<str>` read as syntax
    a user must type."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx: Any) -> str | None:
        return super().display_type_rich(ctx) if self.type_descriptor.is_choice else None

    def process_value(self, ctx: Any, value: Any) -> Any:
        """An argument given as '' or spaces is refused, never taken as left out: `tally ''`
        must not read the mailbox for every motion, nor `rule M ''` find a member."""
        if isinstance(value, str) and not value.strip():
            raise typer.BadParameter("is empty", ctx, self)
        try:
            return super().process_value(ctx, value)
        except typer.BadParameter as e:  # Typer's conversion says "Value error, …"
            e.message = e.message.removeprefix("Value error, ")
            raise


class _Commands(TyperGroup):
    """The app's commands, each also taking the global --config after its name
    (`steervote tally --config x.toml`), as git and pip take their global options.

    Each command gets a copy of the app's own --config option (built by Typer from
    `_main`), which sets the command's context object instead of passing a value.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        [config] = [p for p in self.params if p.name == "config"]
        for command in self.commands.values():
            option: Any = copy.copy(config)  # Typer's own option class, whatever it is
            option.expose_value = False
            option.callback = _config_after
            option.help = CONFIG_HELP
            command.params.append(option)
            for param in command.params:
                if type(param) is TyperArgument:
                    param.__class__ = _PlainArgument


app = typer.Typer(
    name="steervote",
    help="Committee motions decided by email: personal ballots out, replies read and "
    "counted, a result that can be shown to be right.",
    cls=_Commands,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: rendering it through rich would double the start-up time of --help.
    rich_markup_mode=None,
)


class _Unpadded:
    """A console's stream that, when it is not a terminal, drops the spaces before each
    line's end: rich pads table cells and wrapped lines to the console's width, and piped
    output (a file, grep, a diff) must not carry them. On a terminal it writes as is.

    The stream is looked up at each write (sys.stdout may be replaced, as by tests).
    `underlying` is that stream, for text written exactly (a raw message).
    """

    def __init__(self, stream: Callable[[], TextIO]) -> None:
        self._stream = stream
        self._held = ""  # spaces at the end of the last write: trailing unless text follows

    @property
    def underlying(self) -> TextIO:
        return self._stream()

    def isatty(self) -> bool:
        isatty = getattr(self._stream(), "isatty", None)
        try:
            return bool(isatty()) if isatty is not None else False
        except ValueError:  # a closed stream
            return False

    def write(self, text: str) -> int:
        out = self._stream()
        held, self._held = self._held, ""
        if self.isatty():
            out.write(held + text)
            return len(text)
        *lines, last = (held + text).split("\n")
        kept = last.rstrip(" ")
        self._held = last[len(kept) :]
        out.write("\n".join([*(line.rstrip(" ") for line in lines), kept]))
        return len(text)

    def flush(self) -> None:
        self._stream().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream(), name)


class Consoles:
    """stdout and stderr consoles, made on first use so --help never imports rich.

    Automatic highlighting is off: rich would colour numbers, paths and any word followed
    by brackets as if they were code. Piped output carries no padding spaces (`_Unpadded`).
    """

    @functools.cached_property
    def out(self) -> Console:
        from rich.console import Console

        return Console(file=_Unpadded(lambda: sys.stdout), highlight=False)  # type: ignore[arg-type]

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(
            file=_Unpadded(lambda: sys.stderr),  # type: ignore[arg-type]
            stderr=True,
            soft_wrap=True,
            highlight=False,
        )


consoles = Consoles()


def login() -> str:
    import getpass

    return getpass.getuser()


def now() -> datetime:
    return datetime.now(UTC)


def _version(value: bool) -> None:
    if value:
        consoles.out.print(f"steervote {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="PATH", help=CONFIG_HELP + " Also after a command."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    ctx.obj = config


def settings_of(ctx: typer.Context) -> Settings:
    from steervote.config import load_settings

    return load_settings(ctx.obj)


def open_store(settings: Settings, *, create: bool = True) -> Store:
    """The store the settings name. With create=False (every command that only reads, or
    needs a motion already recorded) a store that does not exist yet is not created:
    InvalidInput "no store here" instead, so a command run in the wrong folder leaves
    nothing behind. For PostgreSQL "does not exist" means its tables are absent."""
    from steervote.adapters.store import Store, store_exists

    if not create and not store_exists(settings.database_url):
        raise InvalidInput(_no_store(settings))
    return Store(settings.database_url)


def _no_store(settings: Settings) -> str:
    """'no store here (looked for ./steervote.db; ...)': where it looked, and what to do."""
    from steervote.adapters.store import redact_url

    url = settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        try:
            where = f"./{path.absolute().relative_to(Path.cwd())}"
        except ValueError:  # not under the current folder: the whole path
            where = str(path)
    else:
        where = f"{redact_url(url)}, which has no steervote tables"
    if settings.source is None:
        return f"no store here (looked for {where}; use --config or cd to the workspace)"
    return (
        f"no store yet (looked for {where}, the database of {settings.source}; "
        "nothing has been proposed with this config)"
    )


def check_recorded(store: Store, motion_id: str) -> None:
    """UnknownMotion, with "did you mean" and the recorded motions, unless `motion_id` is
    recorded. Asked before any mail is read: a mistyped id must record nothing."""
    from steervote.errors import UnknownMotion

    known = store.motion_ids()
    if motion_id not in known:
        raise UnknownMotion.among(motion_id, known)


def password(server: ServerSettings) -> str | None:
    from steervote.adapters.secrets import resolve_password

    if server.auth == "oauth2":
        return None
    return resolve_password(server.password_env, server.password_command, os.environ)


def tokens_of(settings: Settings, server: ServerSettings) -> AccessTokens | None:
    """Where a server signed in with OAuth2 gets its access tokens: oauth2_token_command,
    else the built-in sign-in of [oauth2] (`steervote login`); None for a password."""
    from steervote.adapters.oauth import tokens_for

    s = server
    return tokens_for(s.auth, s.oauth2_token_command, settings.oauth2, s.username, os.environ)


def transport_of(settings: Settings, *, store: Store | None = None) -> Transport:
    """Where mail goes: the [smtp] server, else the local outbox (mail/outbox/). Given the
    store, an SMTP server with sending limits is throttled (`throttled`)."""
    if settings.smtp is None:
        from steervote.adapters.local import MaildirOutbox

        return MaildirOutbox(settings.outbox)
    from steervote.adapters.smtp import SmtpTransport

    s = settings.smtp
    transport = SmtpTransport(
        s.host,
        s.port,
        s.security,
        s.username,
        password(s),
        tokens=tokens_of(settings, s),
        mechanism=s.oauth2_mechanism,
    )
    return transport if store is None else throttled(transport, settings, store)


def sending_limits(settings: Settings) -> Limits:
    """[smtp] max_per_minute and max_per_day (none for the local outbox)."""
    from steervote.core.send_schedule import Limits

    s = settings.smtp
    return Limits(s.max_per_minute, s.max_per_day) if s is not None else Limits()


def throttled(transport: Transport, settings: Settings, store: Store) -> Transport:
    """An SMTP transport under [smtp]'s sending limits (counting what the store says went
    out in the last 24 hours) that also stops the run at a server's quota reply; the local
    outbox as it is."""
    if settings.smtp is None:
        return transport
    limits = sending_limits(settings)
    from datetime import timedelta

    from steervote.adapters.throttle import ThrottledTransport

    return ThrottledTransport(
        transport, limits, store.sent_since(now() - timedelta(hours=24)), now=now
    )


def imap_source_of(settings: Settings) -> ImapSource:
    """The [imap] folder (load_settings made sure there is one before calling this)."""
    from steervote.adapters.imap import ImapSource

    s = settings.imap
    assert s is not None
    return ImapSource(
        s.host,
        s.port,
        s.security,
        s.username or "",
        password(s) or "",
        s.folder,
        tokens=tokens_of(settings, s),
        mechanism=s.oauth2_mechanism,
    )


class progress_bar:
    """A progress bar for large electorates; nothing for small ones."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: object | None = None

    def __enter__(self) -> Callable[[], None]:
        if self.total <= 50 or not consoles.out.is_terminal:
            return lambda: None
        from rich.progress import Progress

        bar = Progress(console=consoles.out)
        bar.start()
        task = bar.add_task("Sending", total=self.total)
        self.bar = bar
        return lambda: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()  # type: ignore[attr-defined]


READ_PROGRESS_AFTER = 300  # messages read before `tally` shows how many on a terminal


class reading_progress:
    """How many messages `tally` has read so far, on a line of stderr that goes away when
    it is done: only on a terminal, and only once more than READ_PROGRESS_AFTER messages
    were read (the collect service reports each batch it has recorded)."""

    def __init__(self) -> None:
        self.read = 0
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not consoles.err.is_terminal:
            return lambda n: None
        return self._advance

    def _advance(self, n: int) -> None:
        self.read += n
        if self.bar is None:
            if self.read <= READ_PROGRESS_AFTER:
                return
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=consoles.err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("")
        self.bar.update(self.task, description=f"Reading mail: {self.read:,} messages read")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def message_preview(msg: EmailMessage) -> str:
    """A composed message as a dry run shows it: headers, the text part, attachment names."""
    head = "\n".join(f"{k}: {v}" for k, v in msg.items())
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    names = [p.get_filename() for p in msg.iter_attachments()]
    tail = f"\n[attachments: {', '.join(n or '?' for n in names)}]" if names else ""
    return f"{head}\n\n{text}{tail}"


def _fail(e: SteervoteError) -> NoReturn:
    # Error text quotes files a user did not type (field names, paths, config keys): shown
    # escaped, never as markup or emoji codes (":x:").
    message = "\n".join(untrusted(line, 2000) for line in str(e).splitlines())
    consoles.err.print(
        f"error: {message}", markup=False, highlight=False, emoji=False, soft_wrap=True
    )
    raise SystemExit(int(e.exit_code))


def main() -> None:
    """Console entry point: typed errors become one line on stderr and their exit code."""
    try:
        app()
    except SteervoteError as e:
        _fail(e)


# The commands register themselves on `app` when imported, in --help's order.
# isort: off
from steervote.cli import (  # noqa: E402, F401
    propose,
    tally,
    review,
    members,
    withdraw,
    show,
    notify,
    audit,
    check,
    signin,
    demo,
)
# isort: on
