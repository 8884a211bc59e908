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
    ) -> None:
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

    def __repr__(self) -> str:  # Never show the password, even in a traceback.
        return f"SmtpTransport({self.host}:{self.port}, security={self.security!r})"

    def __enter__(self) -> SmtpTransport:
        self._connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fail(self, what: str, error: BaseException) -> MailServerError:
        cause = " ".join(str(error).split()) or type(error).__name__
        if self._password:
            cause = cause.replace(self._password, "***")
        return MailServerError(f"SMTP {self.host}:{self.port}: {what}: {cause}")

    def _connect(self) -> _SMTP | _SMTP_SSL:
        if self._connection is not None:
            return self._connection
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
                connection.ehlo()
            if self.username is not None:
                self._login(connection)
        except ssl.SSLCertVerificationError as error:
            _quietly_close(connection)
            raise self._fail("certificate verification failed", error) from None
        except smtplib.SMTPAuthenticationError as error:
            _quietly_close(connection)
            raise self._fail(f"login refused for {self.username!r}", error) from None
        except (smtplib.SMTPException, OSError) as error:
            _quietly_close(connection)
            raise self._fail("cannot connect", error) from None
        self._connection = connection
        return connection

    def _login(self, connection: smtplib.SMTP) -> None:
        """AUTH as smtplib does; with a non-ASCII user name or password, AUTH PLAIN in UTF-8.

        smtplib encodes credentials as ASCII; SASL PLAIN (RFC 4616) carries UTF-8.
        """
        user, password = self.username or "", self._password or ""
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
