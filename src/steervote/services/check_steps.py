"""The steps `steervote check` reports, and what to tell the user when one fails: the fix
in plain words, with the provider's own settings where a preset names them."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass

from imapclient.exceptions import CapabilityError

from steervote.adapters.oauth import AccessTokens
from steervote.config import ServerSettings
from steervote.config_mail import mail_presets
from steervote.errors import SteervoteError

_DEFAULTS = {"imap": ("ssl", 993, "starttls", 143), "smtp": ("ssl", 465, "starttls", 587)}


@dataclass(frozen=True, slots=True)
class Step:
    """One thing checked: what, whether it worked, what was found, and the fix if not."""

    ok: bool
    what: str
    said: str
    fix: str = ""


def secret_fix(error: SteervoteError, remedy: str) -> str:
    text = str(error)
    if "not set" in text:
        return "export the variable before running steervote, or use password_command"
    return remedy


def refused(
    label: str,
    s: ServerSettings,
    tokens: AccessTokens | None,
    mechanism: str | None,
    error: BaseException,
) -> Step:
    said = one_line(error)
    if tokens is not None:
        return Step(
            False,
            f"{label} sign-in",
            f"token refused for {s.username} ({mechanism or 'OAuth2'}): {said}",
            f"token refused: {tokens.remedy}",
        )
    fix = "check username and the password"
    if s.provider in ("gmail", "google-workspace", "microsoft365"):
        fix += (
            f" ({mail_presets()[s.provider].label} refuses account passwords: use auth = "
            '"oauth2", or an app password where the account allows one)'
        )
    return Step(False, f"{label} sign-in", f"password refused for {s.username}: {said}", fix)


def mechanism_fix(s: ServerSettings) -> str:
    if s.auth == "oauth2":
        return 'the server offered no XOAUTH2 or OAUTHBEARER: use auth = "password" here'
    return "check username and the password"


def connect_failure(
    where: str, kind: str, s: ServerSettings, error: BaseException, timeout: float
) -> Step:
    """The connection step that failed, with what most likely fixes it."""
    said = one_line(error)
    ports = ports_hint(kind, s)
    if isinstance(error, ssl.SSLCertVerificationError):
        return Step(
            False,
            where,
            f"certificate verification failed: {error.verify_message}",
            f"check that host is the server's name ({s.host}); a self-signed certificate "
            "must be trusted by this machine (SSL_CERT_FILE)",
        )
    if isinstance(error, ssl.SSLError):
        return Step(
            False,
            where,
            f"TLS failed ({error.reason or said})",
            f"port {s.port} does not speak TLS at once: {ports}",
        )
    if isinstance(error, CapabilityError) or "STARTTLS" in said.upper():
        return Step(False, where, f"no STARTTLS offered ({said})", ports)
    if isinstance(error, ConnectionRefusedError):
        return Step(False, where, "connection refused", f"nothing listens there: {ports}")
    if isinstance(error, socket.gaierror):
        return Step(False, where, f"no such host ({said})", "check host")
    if isinstance(error, TimeoutError | socket.timeout):
        hint = ports if s.security != "ssl" else "check host, port and any firewall"
        return Step(False, where, f"no answer within {timeout:g} s", hint)
    return Step(False, where, said, ports)


def ports_hint(kind: str, s: ServerSettings) -> str:
    """What security and port to use, in words: the provider's, else the usual ones."""
    preset = mail_presets().get(s.provider or "")
    if preset is not None:
        e = getattr(preset, kind)
        return f'{preset.label} needs security = "{e.security}" on port {e.port}'
    tls, tls_port, start, start_port = _DEFAULTS[kind]
    return (
        f'use security = "{tls}" on port {tls_port}, or security = "{start}" on port '
        f"{start_port} (what the provider's settings page says)"
    )


def security_words(security: str) -> str:
    return {"ssl": "TLS", "starttls": "STARTTLS", "none": "no TLS"}[security]


def one_line(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {' '.join(said.split())}"
    return " ".join(str(error).split()) or type(error).__name__
