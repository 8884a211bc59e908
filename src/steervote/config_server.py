"""[smtp] and [imap]: a mail server's settings, checked, with a provider preset filled in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from steervote import config_mail
from steervote.config_mail import Auth
from steervote.config_problems import SettingProblems, shown
from steervote.errors import ConfigInvalid

SECURITY = ("none", "starttls", "ssl")
Security = Literal["none", "starttls", "ssl"]


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


_DEFAULT_PORTS = {
    ("smtp", "none"): 25,
    ("smtp", "starttls"): 587,
    ("smtp", "ssl"): 465,
    ("imap", "none"): 143,
    ("imap", "starttls"): 143,
    ("imap", "ssl"): 993,
}


def server_settings(data: dict[str, Any], section: str, where: str) -> ServerSettings | None:
    """[smtp] or [imap], None if absent; ConfigInvalid with each problem, one a line."""
    body = data.get(section)
    if body is None:
        return None
    found = SettingProblems()
    preset = found.check(config_mail.preset_of, body, section, where)
    host, port, security = config_mail.endpoint(body, section, where, preset)
    if not (found.lines and host is None):  # an unknown provider was to give the host
        found.check(_host, host, section, where)
    if security not in SECURITY:
        found.add(
            f"{where}: [{section}] security: expected one of {', '.join(SECURITY)}, "
            f"got {shown(security)}"
        )
    elif port is None:
        port = _DEFAULT_PORTS[(section, security)]
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536
    ):
        found.add(f"{where}: [{section}] port: expected a whole number 1-65535, got {shown(port)}")
    if body.get("password_env") and body.get("password_command"):
        found.add(f"{where}: [{section}]: set password_env or password_command, not both")
    strings = {
        key: found.check(config_mail.text, body, key, section, where)
        for key in ("username", "password_env", "password_command", "folder")
    }
    auth = found.check(config_mail.server_auth, body, section, where, preset)
    limits = found.check(config_mail.limits, body, where, preset) if section == "smtp" else {}
    found.raise_lines()
    assert auth is not None and limits is not None and isinstance(host, str)
    return ServerSettings(
        host=host,
        port=port,
        security=cast(Security, security),
        username=strings["username"],
        password_env=strings["password_env"],
        password_command=strings["password_command"],
        folder=strings["folder"] or "INBOX",
        **auth,
        **limits,
    )


def _host(host: object, section: str, where: str) -> None:
    if host is None or host == "":
        raise ConfigInvalid(f"{where}: [{section}] host: required (or provider = ...)")
    if not isinstance(host, str):
        raise ConfigInvalid(
            f"{where}: [{section}] host: expected a host name in quotes, got {shown(host)}"
        )
    try:
        host.encode("idna")  # what connecting will do; a control or bidi mark cannot pass
    except UnicodeError:
        raise ConfigInvalid(
            f"{where}: [{section}] host: {shown(host)} is not a host name"
        ) from None
