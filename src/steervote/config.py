"""steervote.toml + environment -> frozen settings; secrets from env or a command."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, cast

from steervote import config_mail
from steervote.config_mail import Auth, OAuth2Settings
from steervote.core.mail_text import header_problem
from steervote.core.motion_file import DEFAULT_MAX_ATTACHMENT_BYTES
from steervote.errors import ConfigInvalid

CONFIG_NAME = "steervote.toml"
SECURITY = ("none", "starttls", "ssl")
Security = Literal["none", "starttls", "ssl"]
DEFAULT_SENDER = "steervote <steervote@localhost>"
DEFAULT_REPLY_TO = "votes@localhost"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """An SMTP or IMAP server; the password itself is resolved only when connecting."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password_env: str | None = None
    password_command: str | None = None
    folder: str = "INBOX"
    # How to sign in: "password", or "oauth2" with a token from oauth2_token_command or
    # the built-in sign-in ([oauth2], `steervote login`); None mechanism: what is offered.
    auth: Auth = "password"
    oauth2_token_command: str | None = None
    oauth2_mechanism: str | None = None
    provider: str | None = None  # the preset it was filled from (providers.toml)
    # [smtp] only: messages this mailbox may send a minute and in any 24 hours.
    max_per_minute: int | None = None
    max_per_day: int | None = None

    def __repr__(self) -> str:
        # Never print a secret: only where it comes from.
        return f"{self.host}:{self.port} ({self.security})"


@dataclass(frozen=True, slots=True)
class BallotSettings:
    """Addresses ballots are sent from and replied to."""

    sender: str = DEFAULT_SENDER
    reply_to: str = DEFAULT_REPLY_TO
    plus_tokens: bool = False
    timezone: str | None = None
    # Attachment bytes one ballot may carry (before base64), checked by validate.
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the CLI needs to build adapters."""

    base_dir: Path
    source: Path | None  # the config file, or None when running on defaults
    database_url: str
    ballot: BallotSettings
    smtp: ServerSettings | None
    imap: ServerSettings | None
    max_message_bytes: int = 10_000_000
    # Authentication-Results authserv-ids of the receiving servers (RFC 8601); empty: the
    # topmost Authentication-Results header is the receiving server's.
    trusted_authserv_ids: tuple[str, ...] = ()
    # Host names whose Received: headers (their `by` part) prove a receipt time.
    trusted_received_by: tuple[str, ...] = ()
    # The built-in OAuth2 sign-in used by `steervote login` and auth = "oauth2".
    oauth2: OAuth2Settings | None = None

    @property
    def outbox(self) -> Path:
        """The local Maildir ballots go to when no [smtp] is configured."""
        return self.base_dir / "mail" / "outbox"

    @property
    def inbox(self) -> Path:
        """The local Maildir replies are read from when no [imap] is configured."""
        return self.base_dir / "mail" / "inbox"


_SECTIONS: dict[str, set[str]] = {
    "database": {"url"},
    "ballot": {"from", "reply_to", "plus_tokens", "timezone", "max_attachment_bytes"},
    "smtp": {"host", "port", "security", "username", "password_env", "password_command"}
    | config_mail.SERVER_KEYS
    | config_mail.SMTP_KEYS,
    "imap": {"host", "port", "security", "username", "password_env", "password_command", "folder"}
    | config_mail.SERVER_KEYS,
    "oauth2": config_mail.OAUTH2_KEYS,
    "tally": {"max_message_bytes", "trusted_authserv_ids", "trusted_received_by"},
}
_DEFAULT_PORTS = {
    ("smtp", "none"): 25,
    ("smtp", "starttls"): 587,
    ("smtp", "ssl"): 465,
    ("imap", "none"): 143,
    ("imap", "starttls"): 143,
    ("imap", "ssl"): 993,
}


def load_settings(
    config: Path | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Settings:
    """Read settings from --config, STEERVOTE_CONFIG or ./steervote.toml; none at all is valid."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    path = config or (Path(env["STEERVOTE_CONFIG"]) if env.get("STEERVOTE_CONFIG") else None)
    if path is None and (cwd / CONFIG_NAME).is_file():
        path = cwd / CONFIG_NAME
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigInvalid(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigInvalid(f"{path}: not valid TOML: {e}") from None
        except UnicodeDecodeError:
            raise ConfigInvalid(f"{path}: not UTF-8 text (save the file as UTF-8)") from None
        except OSError as e:  # a folder, a file that cannot be read
            raise ConfigInvalid(f"{path}: cannot be read: {e.strerror or e}") from None
    where = str(path) if path else "defaults"
    _check_keys(data, where)
    base = (path.parent if path else cwd).resolve()

    db = data.get("database", {})
    url = env.get("STEERVOTE_DATABASE_URL")
    if url:
        _check_database_url(url, "$STEERVOTE_DATABASE_URL")
    else:
        url = _str(db, "url", where, "database")
        if url is not None:
            _check_database_url(url, f"{where}: [database] url")
    if url is None:
        url = f"sqlite:///{base / 'steervote.db'}"
    ballot = data.get("ballot", {})
    bs = BallotSettings(
        sender=_str(ballot, "from", where, "ballot") or DEFAULT_SENDER,
        reply_to=_str(ballot, "reply_to", where, "ballot") or DEFAULT_REPLY_TO,
        plus_tokens=_bool(ballot, "plus_tokens", where, "ballot", default=False),
        timezone=_str(ballot, "timezone", where, "ballot"),
        max_attachment_bytes=_attachment_limit(ballot, where),
    )
    for field, value in (("from", bs.sender), ("reply_to", bs.reply_to)):
        _check_mailbox(value, f"{where}: [ballot] {field}")
    smtp = _server(data, "smtp", where)
    imap = _server(data, "imap", where)
    if smtp is not None and "from" not in ballot:
        raise ConfigInvalid(f"{where}: [ballot] from: required when [smtp] is configured")
    tally = data.get("tally", {})
    limit = tally.get("max_message_bytes", 10_000_000)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1024:
        raise ConfigInvalid(f"{where}: [tally] max_message_bytes: must be an integer >= 1024")
    authserv_ids = _names(tally, "trusted_authserv_ids", where)
    received_by = _names(tally, "trusted_received_by", where)
    presets = [
        p for p in (config_mail.preset_of(data.get(s, {}), s, where) for s in ("imap", "smtp")) if p
    ]
    oauth2 = config_mail.oauth2_settings(data.get("oauth2"), where, presets)
    for server in (imap, smtp):
        if (
            server is not None
            and server.auth == "oauth2"
            and not server.oauth2_token_command
            and oauth2 is None
        ):
            raise ConfigInvalid(
                f'{where}: [{"imap" if server is imap else "smtp"}] auth = "oauth2" needs '
                "oauth2_token_command, or an [oauth2] section to sign in with `steervote login`"
            )
    return Settings(
        base, path, url, bs, smtp, imap, limit, authserv_ids, received_by, oauth2=oauth2
    )


# The stores steervote is tested with: SQLite (its own file) and PostgreSQL through psycopg 3.
DATABASE_KINDS = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"


def _check_database_url(url: str, where: str) -> None:
    """ConfigInvalid unless the URL names one of the two supported stores. The message
    quotes only the URL's scheme: the rest may hold a password."""
    if url.startswith("sqlite:///") and url.removeprefix("sqlite:///").strip():
        return
    if url.startswith("postgresql+psycopg://"):
        return
    scheme = url.partition("://")[0] if "://" in url else ""
    said = f"{scheme}:// is not a supported database" if scheme else "not a database URL"
    hint = ""
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        hint = " (PostgreSQL is reached through psycopg 3: write postgresql+psycopg://...)"
    elif scheme == "sqlite":
        hint = " (a SQLite store is a file: sqlite:/// then its path)"
    raise ConfigInvalid(f"{where}: {said}; use {DATABASE_KINDS}{hint}")


# No mail server takes a message of more than a few hundred megabytes.
_MAX_LIMIT = 1_000_000_000


def _attachment_limit(ballot: dict[str, Any], where: str) -> int:
    limit = ballot.get("max_attachment_bytes", DEFAULT_MAX_ATTACHMENT_BYTES)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= _MAX_LIMIT:
        raise ConfigInvalid(
            f"{where}: [ballot] max_attachment_bytes: must be a whole number of bytes "
            f"from 0 to {_MAX_LIMIT}"
        )
    return limit


def _check_mailbox(value: str, where: str) -> None:
    """A From or Reply-To value ("Name <address>" or an address): one header line, one
    sound address; ConfigInvalid saying why not."""
    problem = header_problem(value)
    address = parseaddr(value)[1]
    if problem is None and (address.count("@") != 1 or not all(address.split("@"))):
        problem = "is not an email address"
    if problem is not None:
        raise ConfigInvalid(f"{where}: {value!r}: {problem}")


def _names(body: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of host names or authserv-ids, lowercase; ConfigInvalid unless one."""
    value = body.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() and not any(c.isspace() for c in v.strip()) for v in value
    ):
        raise ConfigInvalid(f"{where}: [tally] {key}: must be a list of host names")
    return tuple(v.strip().lower().rstrip(".") for v in value)


def _check_keys(data: dict[str, Any], where: str) -> None:
    for section, body in data.items():
        if section not in _SECTIONS:
            raise ConfigInvalid(
                f"{where}: unknown section [{section}] (known: {', '.join(sorted(_SECTIONS))})"
            )
        if not isinstance(body, dict):
            raise ConfigInvalid(f"{where}: [{section}] must be a table")
        if "password" in body:
            # A password in a committed file is how secrets leak; refuse it outright.
            raise ConfigInvalid(
                f"{where}: [{section}] password: not allowed in a file; "
                "use password_env or password_command"
            )
        for key in body:
            if key not in _SECTIONS[section]:
                known = ", ".join(sorted(_SECTIONS[section]))
                raise ConfigInvalid(f"{where}: [{section}] {key}: unknown setting (known: {known})")


def _server(data: dict[str, Any], section: str, where: str) -> ServerSettings | None:
    body = data.get(section)
    if body is None:
        return None
    preset = config_mail.preset_of(body, section, where)
    host, port, security = config_mail.endpoint(body, section, where, preset)
    if not isinstance(host, str) and host is not None:
        raise ConfigInvalid(f"{where}: [{section}] host: must be a string")
    if not host:
        raise ConfigInvalid(f"{where}: [{section}] host: required (or provider = ...)")
    try:
        host.encode("idna")  # what connecting will do; a control or bidi mark cannot pass
    except UnicodeError:
        raise ConfigInvalid(f"{where}: [{section}] host: not a host name") from None
    if security not in SECURITY:
        raise ConfigInvalid(
            f"{where}: [{section}] security: {security!r} is not one of {', '.join(SECURITY)}"
        )
    port = port if port is not None else _DEFAULT_PORTS[(section, security)]
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigInvalid(f"{where}: [{section}] port: must be an integer 1-65535")
    if body.get("password_env") and body.get("password_command"):
        raise ConfigInvalid(f"{where}: [{section}]: set password_env or password_command, not both")
    return ServerSettings(
        host=host,
        port=port,
        security=cast(Security, security),
        username=_str(body, "username", where, section),
        password_env=_str(body, "password_env", where, section),
        password_command=_str(body, "password_command", where, section),
        folder=_str(body, "folder", where, section) or "INBOX",
        **config_mail.server_auth(body, section, where, preset),
        **(config_mail.limits(body, where, preset) if section == "smtp" else {}),
    )


def _str(body: dict[str, Any], key: str, where: str, section: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigInvalid(f"{where}: [{section}] {key}: must be a string")
    return value


def _bool(body: dict[str, Any], key: str, where: str, section: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ConfigInvalid(f"{where}: [{section}] {key}: must be true or false")
    return value
