"""The steervote command line: the Typer app, its shared options and helpers.

Each command (or close group) lives in its own module here: it parses, builds adapters
from config, calls one service and renders. Heavy modules (sqlmodel, imapclient, rich)
are imported inside the commands that need them, so `steervote --help` starts fast.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from steervote import __version__
from steervote.errors import SteervoteError
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from email.message import EmailMessage

    from rich.console import Console

    from steervote.adapters.store import Store
    from steervote.config import ServerSettings, Settings
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


class Consoles:
    """stdout and stderr consoles, made on first use so --help never imports rich."""

    @functools.cached_property
    def out(self) -> Console:
        from rich.console import Console

        return Console()

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, soft_wrap=True)


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


def settings_of(ctx: typer.Context) -> Settings:
    from steervote.config import load_settings

    return load_settings(ctx.obj)


def open_store(settings: Settings) -> Store:
    from steervote.adapters.store import Store

    return Store(settings.database_url)


def password(server: ServerSettings) -> str | None:
    from steervote.adapters.secrets import resolve_password

    return resolve_password(server.password_env, server.password_command, os.environ)


def transport_of(settings: Settings) -> Transport:
    """Where mail goes: the [smtp] server, else the local outbox (mail/outbox/)."""
    if settings.smtp is None:
        from steervote.adapters.local import MaildirOutbox

        return MaildirOutbox(settings.outbox)
    from steervote.adapters.smtp import SmtpTransport

    s = settings.smtp
    return SmtpTransport(s.host, s.port, s.security, s.username, password(s))


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
from steervote.cli import propose, tally, review, show, notify, audit, demo  # noqa: E402, F401
# isort: on
