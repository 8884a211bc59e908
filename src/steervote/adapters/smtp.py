"""Send ballots over SMTP: one connection for many messages, refusals reported, never resent twice.

A dropped connection is retried once on a new connection, but only when the server cannot
have taken the message: RFC 5321 makes the server responsible for a message only once it
has received the final "." of DATA. If the connection breaks after we sent that "." and
before we read the reply, the message may or may not have been delivered (RFC 1047). We
then do NOT resend it (a member must never get a ballot twice because of us) and report
`delivery_unknown=True`, so the caller records the ballot as "unknown" for a human to check.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal

from steervote.core.address import ascii_address
from steervote.errors import MailServerError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from steervote.adapters.oauth import AccessTokens

Security = Literal["none", "starttls", "ssl"]
_END_OF_DATA = b"\r\n.\r\n"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the server said about one message."""

    ok: bool
    code: int | None
    reason: str
    # Addresses the server refused while accepting the message for the others.
    refused: tuple[str, ...] = ()
    # The connection broke after the whole message was sent: it may have been delivered.
    delivery_unknown: bool = False


class _Tracking:
    """Notes when the end-of-data "." has left us, i.e. the server may own the message."""

    data_sent = False

    def send(self, s: ReadableBuffer | str) -> None:
        super().send(s)  # type: ignore[misc]
        # Commands are single lines; only the message body ends in CRLF "." CRLF.
        if isinstance(s, bytes) and s.endswith(_END_OF_DATA):
            self.data_sent = True


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTP_SSL(_Tracking, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """An SMTP connection reused for many messages; use it as a context manager."""

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30,
        *,
        tokens: AccessTokens | None = None,
        mechanism: str | None = None,
    ) -> None:
        """With `tokens` (and a username), AUTH with an OAuth2 access token: XOAUTH2 or
        OAUTHBEARER (RFC 7628), `mechanism` or whichever the server offers, XOAUTH2 first."""
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"security must be none, starttls or ssl, not {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self._ssl_context = ssl_context
        self.timeout = timeout
        self._connection: _SMTP | _SMTP_SSL | None = None
        self._tokens = tokens
        self._mechanism = mechanism.upper() if mechanism else None
        self._secrets = [password] if password else []
        self.mechanism_used: str | None = None

    def __repr__(self) -> str:  # Never show the password, even in a traceback.
        return f"SmtpTransport({self.host}:{self.port}, security={self.security!r})"

    def __enter__(self) -> SmtpTransport:
        self._connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fail(self, what: str, error: BaseException) -> MailServerError:
        cause = " ".join(str(error).split()) or type(error).__name__
        for secret in self._secrets:
            cause = cause.replace(secret, "***")
        return MailServerError(f"SMTP {self.host}:{self.port}: {what}: {cause}")

    def _connect(self) -> _SMTP | _SMTP_SSL:
        if self._connection is not None:
            return self._connection
        connection: _SMTP | _SMTP_SSL | None = None
        try:
            # The token first: a sign-in that cannot be had opens no connection.
            token = self.access_token() if self.username is not None else None
            connection = self.open_connection()
            if self.username is not None:
                self.sign_in(connection, token)
        except ssl.SSLCertVerificationError as error:
            _quietly_close(connection)
            raise self._fail("certificate verification failed", error) from None
        except smtplib.SMTPAuthenticationError as error:
            _quietly_close(connection)
            if self._tokens is not None:
                raise self._fail(
                    f"token refused for {self.username!r} ({self.mechanism_used or 'OAuth2'}, "
                    f"from {self._tokens.source}): {self._tokens.remedy}; the server said",
                    error,
                ) from None
            raise self._fail(f"login refused for {self.username!r}", error) from None
        except (smtplib.SMTPException, OSError) as error:
            _quietly_close(connection)
            raise self._fail("cannot connect", error) from None
        except BaseException:  # No token to be had, or no mechanism offered: said already.
            _quietly_close(connection)
            raise
        self._connection = connection
        return connection

    # The steps of connecting, one by one (`steervote check` reports each).

    def access_token(self) -> str | None:
        """The OAuth2 access token to sign in with (None: a password is used)."""
        if self._tokens is None:
            return None
        token = self._tokens.access_token()
        self._secrets.append(token)
        return token

    def open_connection(self) -> _SMTP | _SMTP_SSL:
        """Connect (TLS at once with security = "ssl"), EHLO, and STARTTLS where asked;
        raw network, TLS and SMTP errors as they come."""
        connection: _SMTP | _SMTP_SSL | None = None
        try:
            if self.security == "ssl":
                connection = _SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._tls_context()
                )
            else:
                connection = _SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                connection.starttls(context=self._tls_context())
            connection.ehlo_or_helo_if_needed()
        except BaseException:
            _quietly_close(connection)
            raise
        return connection

    def sign_in(self, connection: smtplib.SMTP, token: str | None) -> None:
        """AUTH with the password as smtplib does (with a non-ASCII user name or password,
        AUTH PLAIN in UTF-8: smtplib encodes credentials as ASCII, SASL PLAIN (RFC 4616)
        carries UTF-8), or with the token. SMTPAuthenticationError when refused."""
        user, password = self.username or "", self._password or ""
        if token is not None:
            self._oauth2_login(connection, user, token)
            return
        self.mechanism_used = "password"
        if user.isascii() and password.isascii():
            connection.login(user, password)
            return
        connection.ehlo_or_helo_if_needed()
        mechanisms = connection.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in mechanisms:
            raise smtplib.SMTPNotSupportedError(
                "the server offers no AUTH PLAIN, which a non-ASCII user name or password needs"
            )
        response = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        code, reply = connection.docmd("AUTH", f"PLAIN {response}")
        if code == 334:  # The server asks for the response rather than taking it at once.
            code, reply = connection.docmd(response)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    def _oauth2_login(self, connection: smtplib.SMTP, user: str, token: str) -> None:
        """AUTH XOAUTH2 or OAUTHBEARER (RFC 7628 §3.1) with the token.

        A refusal comes as a 334 carrying an error (a JSON status, base64); the client
        answers it with an empty response (XOAUTH2) or a lone ^A (OAUTHBEARER, §3.2.3), and
        the server then says 535.
        """
        connection.ehlo_or_helo_if_needed()
        offered = connection.esmtp_features.get("auth", "").upper().split()
        usable = [m for m in ("XOAUTH2", "OAUTHBEARER") if m in offered]
        mechanism = self._mechanism or (usable[0] if usable else None)
        if mechanism is None or mechanism not in offered:
            raise MailServerError(
                f"SMTP {self.host}:{self.port}: the server offered no "
                f"{mechanism or 'XOAUTH2 or OAUTHBEARER'} sign-in (it offers "
                f'{" ".join(offered) or "no AUTH"}): use auth = "password", or the mechanism '
                "it offers (oauth2_mechanism)"
            )
        self.mechanism_used = mechanism
        if not (user.isascii() and token.isascii()):
            # SASL here is ASCII (smtplib encodes it so); a token is (RFC 6750 b64token).
            raise MailServerError(
                f"SMTP {self.host}:{self.port}: the user name and the access token must be "
                "ASCII for an OAuth2 sign-in (check username and what gives the token)"
            )
        if mechanism == "XOAUTH2":
            first, after_error = f"user={user}\x01auth=Bearer {token}\x01\x01", ""
        else:
            name = user.replace("=", "=3D").replace(",", "=2C")
            first, after_error = f"n,a={name},\x01auth=Bearer {token}\x01\x01", "\x01"

        def respond(challenge: bytes | None = None) -> str:
            return first if challenge is None else after_error

        connection.auth(mechanism, respond, initial_response_ok=True)

    def extensions(self) -> dict[str, str]:
        """The server's EHLO keywords (lower case) and their parameters: connects if needed.

        For checks before sending (SMTPUTF8, SIZE); raises MailServerError as sending does.
        """
        connection = self._connect()
        try:
            connection.ehlo_or_helo_if_needed()
        except (smtplib.SMTPException, OSError) as error:
            self._connection = None
            _quietly_close(connection)
            raise self._fail("cannot connect", error) from None
        return dict(connection.esmtp_features)

    def _tls_context(self) -> ssl.SSLContext:
        # Made once and only for TLS: loading the system's CA store takes ~0.1 s, which
        # every reconnect paid, even with security = "none".
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def close(self) -> None:
        """QUIT politely; a broken connection is simply dropped."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(connection)

    def send(
        self, msg: EmailMessage | bytes, *, sender: str, recipients: Sequence[str]
    ) -> SendResult:
        """Send one message (or its rendered bytes); a refusal is returned, a dead server raises.

        A server that cannot be reached or drops the connection twice raises MailServerError.
        """
        if not recipients:
            raise ValueError("a message needs at least one recipient")
        # An internationalised domain goes as A-labels; only a non-ASCII local part (or a
        # header in UTF-8) needs SMTPUTF8 (RFC 6531), which the caller checked is offered.
        sender = ascii_address(sender) or sender
        rcpts = [ascii_address(r) or r for r in recipients]
        utf8 = not all(a.isascii() for a in (sender, *rcpts)) or (
            isinstance(msg, bytes) and not msg.partition(b"\r\n\r\n")[0].isascii()
        )
        for attempt in (1, 2):
            connection = self._connect()
            connection.data_sent = False
            try:
                if isinstance(msg, bytes):
                    options = _utf8_options(connection) if utf8 else []
                    refused = connection.sendmail(sender, rcpts, msg, mail_options=options)
                else:
                    refused = connection.send_message(msg, sender, rcpts)
                return _result(refused)
            except smtplib.SMTPRecipientsRefused as error:
                if all(code != 421 for code, _ in error.recipients.values()):
                    return _refused_all(error)
                # 421: the server is closing the connection; it did not take the message.
                failure: Exception = error
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                if error.smtp_code != 421:
                    return SendResult(
                        ok=False, code=error.smtp_code, reason=_text(error.smtp_error)
                    )
                failure = error
            except smtplib.SMTPResponseException as error:  # e.g. EHLO refused
                return SendResult(ok=False, code=error.smtp_code, reason=_text(error.smtp_error))
            except smtplib.SMTPNotSupportedError as error:  # e.g. SMTPUTF8 needed
                return SendResult(ok=False, code=None, reason=_describe(error))
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                failure = error
            # A 421 is a definite "not taken"; only silence after the "." is ambiguous.
            data_sent = connection.data_sent and not isinstance(
                failure, smtplib.SMTPResponseException
            )
            self._connection = None
            _quietly_close(connection)
            if data_sent:
                return SendResult(
                    ok=False,
                    code=None,
                    reason=(
                        "connection lost after the message was sent, before the server "
                        f"confirmed it ({_describe(failure)}); it may have been delivered, "
                        "so it was not sent again"
                    ),
                    delivery_unknown=True,
                )
            if attempt == 2:
                raise self._fail("connection lost twice while sending", failure)
        raise AssertionError("unreachable")


def _utf8_options(connection: smtplib.SMTP) -> list[str]:
    connection.ehlo_or_helo_if_needed()
    return ["SMTPUTF8", "BODY=8BITMIME"] if connection.has_extn("8bitmime") else ["SMTPUTF8"]


def _result(refused: dict[str, tuple[int, bytes]]) -> SendResult:
    if not refused:
        return SendResult(ok=True, code=250, reason="accepted")
    address, (code, text) = next(iter(refused.items()))
    return SendResult(
        ok=False,
        code=code,
        reason=f"{address}: {_text(text)}",
        refused=tuple(refused),
    )


def _refused_all(error: smtplib.SMTPRecipientsRefused) -> SendResult:
    recipients: dict[str, tuple[int, bytes]] = error.recipients
    address, (code, text) = next(iter(recipients.items()))
    return SendResult(
        ok=False, code=code, reason=f"{address}: {_text(text)}", refused=tuple(recipients)
    )


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _describe(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _quietly_close(connection: smtplib.SMTP | None) -> None:
    # Closing a socket that is already broken may fail again; the first error matters.
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.close()
