"""`steervote check`: resolve every secret and token, connect and sign in to IMAP and SMTP,
and say for each step whether it worked and, where not, the fix in plain words.

Nothing is changed: the IMAP folder is EXAMINEd (read-only), and no mail is sent unless a
test message is asked for. Secrets and tokens are never part of what is said.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from imapclient.exceptions import IMAPClientError, LoginError

from steervote.adapters.imap import ImapSource
from steervote.adapters.oauth import AccessTokens, tokens_for
from steervote.adapters.secrets import resolve_password
from steervote.adapters.smtp import SmtpTransport
from steervote.config import ServerSettings, Settings
from steervote.config_mail import mail_presets
from steervote.core.send_schedule import Limits
from steervote.errors import SteervoteError
from steervote.services.check_steps import (
    Step,
    connect_failure,
    mechanism_fix,
    one_line,
    refused,
    secret_fix,
    security_words,
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


def check(
    settings: Settings,
    env: Mapping[str, str],
    *,
    imap: bool = True,
    smtp: bool = True,
    timeout: float = 15,
    test_message: EmailMessage | None = None,
) -> CheckResult:
    """Every step for [imap] (when `imap`) and [smtp] (when `smtp`); with `test_message`,
    also send it through SMTP. A step that fails ends its server's steps."""
    steps: list[Step] = []
    secrets: list[str] = []
    if imap:
        if settings.imap is None:
            steps.append(Step(True, "replies", f"read from the Maildir {settings.inbox}"))
        else:
            steps += _imap(settings, settings.imap, env, timeout, secrets)
    if smtp:
        if settings.smtp is None:
            steps.append(Step(True, "ballots", f"go to the local outbox {settings.outbox}"))
        else:
            steps += _smtp(settings, settings.smtp, env, timeout, test_message, secrets)
    return CheckResult(tuple(_hide(step, secrets) for step in steps))


def _hide(step: Step, secrets: list[str]) -> Step:
    """The step with no secret in it, whatever a server or command echoed."""
    said, fix = step.said, step.fix
    for secret in secrets:
        said, fix = said.replace(secret, "***"), fix.replace(secret, "***")
    return Step(step.ok, step.what, said, fix)


def _credential(
    label: str,
    settings: Settings,
    server: ServerSettings,
    env: Mapping[str, str],
    secrets: list[str],
) -> tuple[Step, str | None, AccessTokens | None]:
    """The password or the access token, resolved (never shown)."""
    try:
        tokens = tokens_for(
            server.auth, server.oauth2_token_command, settings.oauth2, server.username, env
        )
        if tokens is not None:
            token = tokens.access_token()
            secrets.append(token)
            fixed = _Fixed(token, tokens.source, tokens.remedy)
            return Step(True, f"{label} token", f"from {tokens.source} (not shown)"), None, fixed
        secret = resolve_password(server.password_env, server.password_command, env)
        if secret:
            secrets.append(secret)
    except SteervoteError as e:
        remedy = "run `steervote login`" if server.auth == "oauth2" else "see the error"
        return Step(False, f"{label} sign-in secret", str(e), secret_fix(e, remedy)), None, None
    if secret is None:
        return (
            Step(
                False,
                f"{label} password",
                "none configured",
                "set password_env (an environment variable's name) or password_command",
            ),
            None,
            None,
        )
    where = f"${server.password_env}" if server.password_env else "password_command"
    return Step(True, f"{label} password", f"from {where} (not shown)"), secret, None


@dataclass(frozen=True, slots=True)
class _Fixed:
    """A token already fetched, so a command is not run twice."""

    token: str
    source: str
    remedy: str

    def access_token(self) -> str:
        return self.token


def _imap(
    settings: Settings,
    s: ServerSettings,
    env: Mapping[str, str],
    timeout: float,
    secrets: list[str],
) -> Iterator[Step]:
    where = f"IMAP {s.host}:{s.port}"
    step, secret, tokens = _credential("IMAP", settings, s, env, secrets)
    yield step
    if not step.ok:
        return
    source = ImapSource(
        s.host,
        s.port,
        s.security,
        s.username or "",
        secret or "",
        s.folder,
        timeout=timeout,
        tokens=tokens,
        mechanism=s.oauth2_mechanism,
    )
    try:
        client = source.open_connection()
    except (OSError, IMAPClientError) as e:
        yield connect_failure(where, "imap", s, e, timeout)
        return
    try:
        yield Step(True, where, f"connected ({security_words(s.security)})")
        try:
            source.sign_in(client, source.access_token())
        except LoginError as e:
            yield refused("IMAP", s, tokens, source.mechanism_used, e)
            return
        except SteervoteError as e:
            yield Step(False, "IMAP sign-in", one_line(e), mechanism_fix(s))
            return
        yield Step(True, "IMAP sign-in", f"as {s.username} ({source.mechanism_used})")
        try:
            selected = source.examine(client)
        except IMAPClientError as e:
            yield Step(False, f"IMAP folder {s.folder}", one_line(e), _folders(client))
            return
        n = int(selected.get(b"EXISTS", 0))
        yield Step(
            True,
            f"IMAP folder {s.folder}",
            f"{n:,} {'message' if n == 1 else 'messages'}, UIDVALIDITY "
            f"{int(selected[b'UIDVALIDITY'])} (opened read-only)",
        )
    finally:
        with contextlib.suppress(OSError, IMAPClientError):
            client.logout()


def _folders(client: Any) -> str:
    try:
        names = [str(f[2]) for f in client.list_folders()]
    except (OSError, IMAPClientError):
        return "set [imap] folder to a folder of this mailbox"
    shown = ", ".join(sorted(names)[:20])
    return f"set [imap] folder to one of this mailbox's folders: {shown}"


def _smtp(
    settings: Settings,
    s: ServerSettings,
    env: Mapping[str, str],
    timeout: float,
    test_message: EmailMessage | None,
    secrets: list[str],
) -> Iterator[Step]:
    where = f"SMTP {s.host}:{s.port}"
    secret: str | None = None
    tokens: AccessTokens | None = None
    if s.username is not None:
        step, secret, tokens = _credential("SMTP", settings, s, env, secrets)
        yield step
        if not step.ok:
            return
    transport = SmtpTransport(
        s.host,
        s.port,
        s.security,
        s.username,
        secret,
        timeout=timeout,
        tokens=tokens,
        mechanism=s.oauth2_mechanism,
    )
    try:
        connection = transport.open_connection()
    except (OSError, smtplib.SMTPException) as e:
        yield connect_failure(where, "smtp", s, e, timeout)
        return
    try:
        features = connection.esmtp_features
        yield Step(True, where, f"connected ({security_words(s.security)}); {_offers(features)}")
        if s.username is not None:
            try:
                transport.sign_in(connection, transport.access_token())
            except smtplib.SMTPAuthenticationError as e:
                yield refused("SMTP", s, tokens, transport.mechanism_used, e)
                return
            except (SteervoteError, smtplib.SMTPException) as e:
                yield Step(False, "SMTP sign-in", one_line(e), mechanism_fix(s))
                return
            yield Step(True, "SMTP sign-in", f"as {s.username} ({transport.mechanism_used})")
        yield _limits(s)
        if test_message is not None:
            yield _send_test(connection, test_message)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.quit()


def _offers(features: Mapping[str, str]) -> str:
    size = features.get("size", "")
    parts = [
        f"takes messages up to {int(size):,} bytes"
        if size.isdigit() and int(size)
        else "states no size limit",
        "SMTPUTF8 offered" if "smtputf8" in features else "no SMTPUTF8 (ASCII addresses only)",
        f"AUTH {features['auth'].strip()}" if features.get("auth") else "no AUTH offered",
    ]
    return "; ".join(parts)


def _limits(s: ServerSettings) -> Step:
    limits = Limits(s.max_per_minute, s.max_per_day)
    if not limits:
        return Step(
            True,
            "sending limits",
            "none set ([smtp] max_per_minute, max_per_day): right for a mail relay; a "
            "mailbox provider suspends sending past its limits",
        )
    said = ", ".join(
        x
        for x in (
            f"{limits.per_minute:,} a minute" if limits.per_minute else "",
            f"{limits.per_day:,} in any 24 hours" if limits.per_day else "",
        )
        if x
    )
    preset = mail_presets().get(s.provider or "")
    source = f" ({preset.label}'s published limits unless set)" if preset else ""
    return Step(True, "sending limits", said + source)


def _send_test(connection: smtplib.SMTP, message: EmailMessage) -> Step:
    to = str(message["To"])
    try:
        refused = connection.send_message(message)
    except smtplib.SMTPException as e:
        return Step(False, "test message", one_line(e), "see what the server said")
    if refused:
        return Step(False, "test message", f"refused: {refused}", "check the address")
    return Step(True, "test message", f"sent to {to}")
