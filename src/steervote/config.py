"""steervote.toml + environment -> frozen settings; secrets from env or a command."""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from steervote import config_mail
from steervote.config_mail import OAuth2Settings
from steervote.config_problems import SettingProblems, shown
from steervote.config_server import SECURITY as SECURITY
from steervote.config_server import Security as Security
from steervote.config_server import ServerSettings as ServerSettings
from steervote.config_server import server_settings
from steervote.config_toml import read_toml
from steervote.core.address import mailbox_problem
from steervote.core.deadline import timezone_named
from steervote.core.fields import closest, did_you_mean
from steervote.core.mail_text import header_problem
from steervote.core.motion_file import DEFAULT_MAX_ATTACHMENT_BYTES
from steervote.errors import ConfigInvalid

CONFIG_NAME = "steervote.toml"
DEFAULT_SENDER = "steervote <steervote@localhost>"
DEFAULT_REPLY_TO = "votes@localhost"


@dataclass(frozen=True, slots=True)
class BallotSettings:
    """Addresses ballots are sent from and replied to."""

    written_sender: str | None = None  # [ballot] from, None if not written
    reply_to: str = DEFAULT_REPLY_TO
    plus_tokens: bool = False
    timezone: str | None = None
    # Attachment bytes one ballot may carry (before base64), checked by validate.
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    # Why nothing can be sent with these settings (a `<file>: [ballot] from: ...` line), or
    # None: a problem that only sending has, so that commands which send nothing still run.
    sending_problem: str | None = None

    @property
    def sender(self) -> str:
        """The From of every ballot and notice; ConfigInvalid (the sending problem) when
        there is none to send with, so nothing is sent from a made-up address."""
        if self.sending_problem is not None:
            raise ConfigInvalid(self.sending_problem)
        return self.written_sender or DEFAULT_SENDER


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

    def check_sending(self) -> None:
        """Nothing, or ConfigInvalid with the problems only sending has (`[ballot] from:
        required when [smtp] is configured`): what a command that sends, or checks that
        sending would work (validate, propose, check), calls after loading."""
        if self.ballot.sending_problem is not None:
            raise ConfigInvalid(self.ballot.sending_problem)

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


def load_settings(
    config: Path | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Settings:
    """Read settings from --config, STEERVOTE_CONFIG or ./steervote.toml; none at all is valid.

    ConfigInvalid names every independent problem at once, one a line
    (`<file>: [section] key: what`), after a first line `<file>: N problems:` if several.
    A problem only sending has is not raised here but kept (`Settings.check_sending`), so
    that a command which sends nothing is not stopped by it.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    path, named_by = _config_path(config, env, cwd)
    data = read_toml(path, named_by) if path is not None else {}
    where = str(path) if path else "defaults"
    found = SettingProblems()
    covered = _check_keys(data, where, found)
    data = {k: v for k, v in data.items() if k in _SECTIONS and isinstance(v, dict)}
    base = (path.parent if path else cwd).resolve()
    url = found.check(_database_url, data.get("database", {}), env, where)
    ballot = data.get("ballot", {})
    bs = found.check(_ballot, ballot, where)
    smtp = found.check(server_settings, data, "smtp", where)
    imap = found.check(server_settings, data, "imap", where)
    missing = [key for key in ("from", "reply_to") if key not in ballot]
    if bs is not None and "smtp" in data and missing:
        # The built-in steervote@localhost and votes@localhost reach no one through a real
        # server: ballots would go out whose replies (the votes) could never arrive.
        bs = replace(
            bs,
            sending_problem="\n".join(
                f"{where}: [ballot] {key}: required when [smtp] is configured" for key in missing
            ),
        )
    tally = data.get("tally", {})
    limit = found.check(_message_limit, tally, where)
    authserv_ids = found.check(_names, tally, "trusted_authserv_ids", where)
    received_by = found.check(_names, tally, "trusted_received_by", where)
    presets = _presets(data)
    oauth2_body = data.get("oauth2")
    if presets is None and oauth2_body is not None and "provider" not in oauth2_body:
        oauth2_body = None  # its provider was to come from the wrong preset: not checked
    oauth2 = found.check(config_mail.oauth2_settings, oauth2_body, where, presets or [])
    for server, section in ((imap, "imap"), (smtp, "smtp")):
        if (
            server is not None
            and server.auth == "oauth2"
            and not server.oauth2_token_command
            and "oauth2" not in data
        ):
            found.add(
                f'{where}: [{section}] auth = "oauth2" needs oauth2_token_command, or an '
                "[oauth2] section to sign in with `steervote login`"
            )
    found.raise_any(where, covered)
    assert bs is not None and limit is not None and authserv_ids is not None
    assert received_by is not None
    url = url or f"sqlite:///{base / 'steervote.db'}"
    return Settings(
        base, path, url, bs, smtp, imap, limit, authserv_ids, received_by, oauth2=oauth2
    )


def _config_path(config: Path | None, env: Mapping[str, str], cwd: Path) -> tuple[Path | None, str]:
    """The config file to read (None: the built-in defaults), and what named it, as a
    message about it says ("given with --config", "named by $STEERVOTE_CONFIG")."""
    if config is not None:
        return config, "given with --config"
    if env.get("STEERVOTE_CONFIG"):
        return Path(env["STEERVOTE_CONFIG"]), "named by $STEERVOTE_CONFIG"
    if (cwd / CONFIG_NAME).is_file():
        return cwd / CONFIG_NAME, ""
    return None, ""


def _presets(data: dict[str, Any]) -> list[config_mail.MailPreset] | None:
    """The mail presets [imap] and [smtp] name; None if one names none steervote knows (that
    is reported with its section)."""
    presets = []
    for section in ("imap", "smtp"):
        try:
            preset = config_mail.preset_of(data.get(section, {}), section, "")
        except ConfigInvalid:
            return None
        if preset is not None:
            presets.append(preset)
    return presets


# The stores steervote is tested with: SQLite (its own file) and PostgreSQL through psycopg 3.
DATABASE_KINDS = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"


def _database_url(body: dict[str, Any], env: Mapping[str, str], where: str) -> str | None:
    """$STEERVOTE_DATABASE_URL, else [database] url, checked; None if neither is set."""
    url = env.get("STEERVOTE_DATABASE_URL")
    if url:
        _check_database_url(url, "$STEERVOTE_DATABASE_URL")
        return url
    url = config_mail.text(body, "url", "database", where)
    if url is not None:
        _check_database_url(url, f"{where}: [database] url")
    return url


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


def _ballot(body: dict[str, Any], where: str) -> BallotSettings:
    """The [ballot] section; ConfigInvalid with each of its problems, one a line."""
    found = SettingProblems()
    sender = found.check(config_mail.text, body, "from", "ballot", where)
    reply_to = found.check(config_mail.text, body, "reply_to", "ballot", where)
    for key, value in (("from", sender), ("reply_to", reply_to)):
        if value is not None:
            found.check(_check_mailbox, value, f"{where}: [ballot] {key}")
    reply_to = reply_to or DEFAULT_REPLY_TO
    plus_tokens = found.check(_bool, body, "plus_tokens", where, "ballot", default=False)
    timezone = found.check(_timezone, body, where)
    limit = found.check(_attachment_limit, body, where)
    found.raise_lines()
    assert plus_tokens is not None and limit is not None
    return BallotSettings(sender, reply_to, plus_tokens, timezone, limit)


def _timezone(body: dict[str, Any], where: str) -> str | None:
    """[ballot] timezone: an IANA name, or None."""
    name = config_mail.text(body, "timezone", "ballot", where)
    if name is not None:
        try:
            timezone_named(name)
        except ValueError:
            hint = did_you_mean(name, zoneinfo.available_timezones())
            raise ConfigInvalid(
                f"{where}: [ballot] timezone: {shown(name)} is not a timezone"
                f"{hint or ' (expected an IANA name such as Europe/London)'}"
            ) from None
    return name


def _attachment_limit(ballot: dict[str, Any], where: str) -> int:
    limit = ballot.get("max_attachment_bytes", DEFAULT_MAX_ATTACHMENT_BYTES)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= _MAX_LIMIT:
        raise ConfigInvalid(
            f"{where}: [ballot] max_attachment_bytes: expected a whole number of bytes "
            f"from 0 to {_MAX_LIMIT}, got {shown(limit)}"
        )
    return limit


def _message_limit(tally: dict[str, Any], where: str) -> int:
    limit = tally.get("max_message_bytes", 10_000_000)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1024:
        raise ConfigInvalid(
            f"{where}: [tally] max_message_bytes: expected a whole number of bytes, 1024 or "
            f"more, got {shown(limit)}"
        )
    return limit


def _check_mailbox(value: str, where: str) -> None:
    """A From or Reply-To value as written: one header line with nothing invisible in it,
    then one sound mailbox (core.address.mailbox_problem: the rule member addresses
    follow too); ConfigInvalid saying why not and showing the form expected."""
    problem = header_problem(value)
    if problem is not None:
        raise ConfigInvalid(f"{where}: {shown(value)} {problem}")
    problem = mailbox_problem(value)
    if problem is not None:
        raise ConfigInvalid(
            f"{where}: {shown(value)} is not an email address: {problem} "
            "(expected Name <address@domain>, or just address@domain)"
        )


def _names(body: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of host names or authserv-ids, lowercase; ConfigInvalid unless one."""
    value = body.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() and not any(c.isspace() for c in v.strip()) for v in value
    ):
        raise ConfigInvalid(
            f"{where}: [tally] {key}: expected a list of host names in quotes, got {shown(value)}"
        )
    return tuple(v.strip().lower().rstrip(".") for v in value)


def _check_keys(data: dict[str, Any], where: str, found: SettingProblems) -> set[tuple[str, str]]:
    """Every unknown section, section that is not a table, password and unknown setting
    into `found`; the (section, key) each misspelt setting was meant to be."""
    covered: set[tuple[str, str]] = set()
    for section, body in data.items():
        if section not in _SECTIONS:
            found.add(
                f"{where}: unknown section [{section}]"
                + (did_you_mean(section, _SECTIONS) or f" (known: {', '.join(sorted(_SECTIONS))})")
            )
            continue
        if not isinstance(body, dict):
            found.add(
                f"{where}: [{section}] must be a table (a [{section}] line and settings under it)"
            )
            continue
        if "password" in body:
            # A password in a committed file is how secrets leak; refuse it outright.
            found.add(
                f"{where}: [{section}] password: not allowed in a file; "
                "use password_env or password_command"
            )
        for key in body:
            if key in _SECTIONS[section] or key == "password":
                continue
            known = _SECTIONS[section]
            hint = did_you_mean(key, known) or f" (known: {', '.join(sorted(known))})"
            found.add(f"{where}: [{section}] {key}: unknown setting{hint}")
            covered.update((section, c) for c in closest(key, known) if c not in body)
    return covered


def _bool(body: dict[str, Any], key: str, where: str, section: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ConfigInvalid(
            f"{where}: [{section}] {key}: expected true or false (no quotes), got {shown(value)}"
        )
    return value
