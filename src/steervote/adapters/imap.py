"""Read replies from an IMAP folder without changing it: EXAMINE, BODY.PEEK, UID batches."""

from __future__ import annotations

import contextlib
import re
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from steervote.adapters.source import Fetched
from steervote.core.parse import HEAD_LIMIT, head_of
from steervote.errors import MailServerError

if TYPE_CHECKING:
    from steervote.adapters.oauth import AccessTokens

Security = Literal["none", "starttls", "ssl"]

# At most this many UIDs in one FETCH command: Dovecot refuses long argument lists
# ("Too long argument" at 20,000 UIDs), and imapclient 4 only takes explicit UIDs.
_UIDS_PER_COMMAND = 1000
# A batch also stops growing at this many bytes of message bodies, so a folder of large
# messages is never held in memory at once, whatever batch_size says.
_BATCH_BYTES = 64_000_000


class ImapSource:
    """One IMAP folder, opened read-only; the connection is made on first use."""

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str,
        password: str,
        folder: str = "INBOX",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30,
        *,
        retry_delays: Sequence[float] = (0.5, 2.0),
        sleep: Callable[[float], None] = time.sleep,
        tokens: AccessTokens | None = None,
        mechanism: str | None = None,
    ) -> None:
        """With `tokens`, sign in with an OAuth2 access token (SASL XOAUTH2 or OAUTHBEARER,
        RFC 7628: `mechanism`, else whichever the server offers, XOAUTH2 first) instead of
        the password."""
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"security must be none, starttls or ssl, not {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.folder = folder
        self._ssl_context = ssl_context
        self.timeout = timeout
        self._retry_delays = tuple(retry_delays)
        self._sleep = sleep
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._tokens = tokens
        self._mechanism = mechanism.upper() if mechanism else None
        self._secrets = [password] if password else []

    @property
    def key(self) -> str:
        """imap://user@host:port/folder: the mailbox's identity for remembered state."""
        return (
            f"imap://{quote(self.username, safe='')}@{self.host}:{self.port}/"
            f"{quote(self.folder, safe='/')}"
        )

    def __enter__(self) -> ImapSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:  # Never show the password, even in a traceback.
        return f"ImapSource({self.key!r}, security={self.security!r})"

    # --- connection ------------------------------------------------------------------

    def _where(self) -> str:
        return f"IMAP {self.host}:{self.port}"

    def _fail(self, what: str, error: BaseException) -> MailServerError:
        cause = " ".join(str(error).split()) or type(error).__name__
        for secret in self._secrets:
            cause = cause.replace(secret, "***")
        return MailServerError(f"{self._where()}: {what}: {cause}")

    def _connect_once(self) -> IMAPClient:
        # The token first: a sign-in that cannot be had opens no connection.
        token = self.access_token()
        client = self.open_connection()
        try:
            self.sign_in(client, token)
            selected = self.examine(client)
        except BaseException:
            _quietly_shut(client)
            raise
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        return client

    # The steps of connecting, one by one (`steervote check` reports each).

    def access_token(self) -> str | None:
        """The OAuth2 access token to sign in with (None: a password is used)."""
        if self._tokens is None:
            return None
        token = self._tokens.access_token()
        self._secrets.append(token)
        return token

    def open_connection(self) -> IMAPClient:
        """Connect, and with security = "starttls" switch to TLS; raw network, TLS and
        IMAP errors as they come."""
        # Loading the CA store costs ~50 ms: only where TLS is used.
        context = None
        if self.security != "none":
            context = self._ssl_context or ssl.create_default_context()
        client = IMAPClient(
            self.host,
            self.port,
            ssl=self.security == "ssl",
            ssl_context=context if self.security == "ssl" else None,
            timeout=self.timeout,
        )
        try:
            if self.security == "starttls":
                assert context is not None
                client.starttls(context)
        except BaseException:
            _quietly_shut(client)
            raise
        return client

    mechanism_used: str | None = None

    def sign_in(self, client: IMAPClient, token: str | None) -> None:
        """Log in with the password, or AUTHENTICATE with the token (XOAUTH2 or OAUTHBEARER).

        LoginError when refused; MailServerError when the server offers neither mechanism.
        """
        if token is None:
            self.mechanism_used = "password"
            if self.username.isascii() and self._password.isascii():
                client.login(self.username, self._password)
            else:
                # LOGIN's arguments are ASCII strings in imaplib; AUTHENTICATE PLAIN
                # (RFC 4616) carries a UTF-8 user name and password.
                client.plain_login(self.username, self._password)
            return
        offered = [m for m in ("XOAUTH2", "OAUTHBEARER") if client.has_capability(f"AUTH={m}")]
        mechanism = self._mechanism or (offered[0] if offered else None)
        if mechanism is None or mechanism not in offered:
            wanted = mechanism or "XOAUTH2 or OAUTHBEARER"
            raise MailServerError(
                f"{self._where()}: the server offered no {wanted} sign-in "
                f'(it offers {_auth_offered(client) or "none"}): use auth = "password", '
                "or the mechanism it offers (oauth2_mechanism)"
            )
        self.mechanism_used = mechanism
        if mechanism == "OAUTHBEARER":
            client.oauthbearer_login(self.username, token)
        else:
            client.oauth2_login(self.username, token)

    def examine(self, client: IMAPClient) -> dict[bytes, Any]:
        """EXAMINE the folder (read-only SELECT): its EXISTS, UIDVALIDITY, ..."""
        # Aware datetimes from INTERNALDATE, not naive local time.
        client.normalise_times = False
        return dict(client.select_folder(self.folder, readonly=True))

    def _connect(self) -> IMAPClient:
        """Connect, log in and EXAMINE the folder, retrying only network failures."""
        if self._client is not None:
            return self._client
        attempts = len(self._retry_delays) + 1
        for attempt in range(attempts):
            try:
                self._client = self._connect_once()
                return self._client
            except ssl.SSLCertVerificationError as error:
                raise self._fail("certificate verification failed", error) from None
            except LoginError as error:
                if self._tokens is not None:
                    raise self._fail(
                        f"token refused for {self.username!r} ({self.mechanism_used or 'OAuth2'}"
                        f", from {self._tokens.source}): {self._tokens.remedy}; the server said",
                        error,
                    ) from None
                raise self._fail(f"login refused for {self.username!r}", error) from None
            except (OSError, IMAPClientAbortError) as error:
                # Unreachable, reset, timed out or cut off: worth another try.
                if attempt + 1 == attempts:
                    raise self._fail(f"cannot connect after {attempts} attempts", error) from None
                self._sleep(self._retry_delays[attempt])
            except IMAPClientError as error:
                # The server answered, but refused (no such folder, no STARTTLS...).
                raise self._fail("the server refused the session", error) from None
        raise AssertionError("unreachable")

    def not_read(self) -> list[str]:
        """Nothing is passed over: the server lists only messages."""
        return []

    def close(self) -> None:
        """Log out; a connection that is already broken is simply dropped."""
        if self._client is not None:
            _quietly_shut(self._client)
            self._client = None

    # --- reading ---------------------------------------------------------------------

    def uidvalidity(self) -> int:
        """UIDVALIDITY of the folder as selected by this session."""
        self._connect()
        assert self._uidvalidity is not None
        return self._uidvalidity

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> Iterator[list[Fetched]]:
        """Messages with UID > after_uid in ascending order; bodies over max_size not fetched."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        client = self._connect()
        try:
            # "UID n:*" always matches the last message even when its UID is below n
            # (RFC 3501: "*" is the largest UID in use), so filter again here.
            uids = sorted(
                uid for uid in client.search(["UID", f"{after_uid + 1}:*"]) if uid > after_uid
            )
            for start in range(0, len(uids), batch_size):
                yield from self._fetch_batch(client, uids[start : start + batch_size], max_size)
        except (OSError, IMAPClientError) as error:
            self.close()
            raise self._fail("reading failed", error) from None

    def _fetch_batch(
        self, client: IMAPClient, uids: list[int], max_size: int
    ) -> Iterator[list[Fetched]]:
        meta: dict[int, Any] = {}
        for start in range(0, len(uids), _UIDS_PER_COMMAND):
            meta.update(_sizes_and_dates(client, uids[start : start + _UIDS_PER_COMMAND]))
        # Messages expunged since the SEARCH are gone from the folder: nothing to read.
        present = [uid for uid in uids if uid in meta]
        group: list[int] = []
        group_bytes = 0
        for uid in present:
            size = int(meta[uid][b"RFC822.SIZE"])
            fits = size <= max_size
            if group and (
                len(group) >= _UIDS_PER_COMMAND or (fits and group_bytes + size > _BATCH_BYTES)
            ):
                yield self._fetch_bodies(client, group, meta, max_size)
                group, group_bytes = [], 0
            group.append(uid)
            group_bytes += size if fits else 0
        if group:
            yield self._fetch_bodies(client, group, meta, max_size)

    def _fetch_bodies(
        self, client: IMAPClient, uids: list[int], meta: dict[int, Any], max_size: int
    ) -> list[Fetched]:
        wanted = [uid for uid in uids if int(meta[uid][b"RFC822.SIZE"]) <= max_size]
        bodies = _bodies(client, wanted) if wanted else {}
        large = [uid for uid in uids if int(meta[uid][b"RFC822.SIZE"]) > max_size]
        heads = _heads(client, large) if large else {}
        fetched = []
        for uid in uids:
            size = int(meta[uid][b"RFC822.SIZE"])
            raw: bytes | None = None
            if size <= max_size:
                if uid not in bodies:
                    continue  # Expunged between the two FETCH commands.
                raw = bodies[uid]
            fetched.append(
                Fetched(
                    uid=uid,
                    raw=raw,
                    size=size,
                    received_at=_utc(meta[uid][b"INTERNALDATE"]),
                    received_from="internaldate",
                    head=heads.get(uid) if raw is None else None,
                )
            )
        return fetched


_UID_IN = re.compile(rb"\bUID (\d+)")
_META = re.compile(
    rb"^\d+ \((?=.*\bUID (?P<uid>\d+))(?=.*\bRFC822\.SIZE (?P<size>\d+))"
    rb'(?=.*\bINTERNALDATE "(?P<date>[^"]+)")'
)


def _sizes_and_dates(client: IMAPClient, uids: list[int]) -> dict[int, Any]:
    """RFC822.SIZE and INTERNALDATE of these messages, as imapclient would give them.

    Read through imaplib, like the bodies; a reply of another shape goes to imapclient.
    """
    imap = getattr(client, "_imap", None)
    if imap is not None:
        status, data = imap.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE INTERNALDATE)")
        found: dict[int, Any] = {}
        for line in data if status == "OK" else [None]:
            m = _META.match(line) if isinstance(line, bytes) else None
            if m is None:
                break
            try:
                date = _internaldate(m["date"])
            except ValueError:
                break
            found[int(m["uid"])] = {b"RFC822.SIZE": int(m["size"]), b"INTERNALDATE": date}
        else:
            return found
    return dict(client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"]))


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DATE_TIME = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def _internaldate(value: bytes) -> datetime:
    """RFC 3501 date-time ("27-Nov-2026 06:14:54 +0000"), whatever the process locale."""
    m = _DATE_TIME.fullmatch(value.decode("ascii").strip())
    if m is None or m[2].title() not in _MONTHS:
        raise ValueError(f"unreadable INTERNALDATE {value!r}")
    offset = timedelta(hours=int(m[8]), minutes=int(m[9])) * (1 if m[7] == "+" else -1)
    local = datetime(
        int(m[3]),
        _MONTHS[m[2].title()],
        int(m[1]),
        int(m[4]),
        int(m[5]),
        int(m[6]),
        tzinfo=timezone(offset),
    )
    return local.astimezone(UTC)


def _bodies(client: IMAPClient, uids: list[int]) -> dict[int, bytes]:
    """BODY.PEEK[] of these messages (never sets \\Seen; the folder is EXAMINEd anyway).

    imapclient's response parser costs four times the whole fetch on large batches, so the
    bodies are read through its imaplib connection, whose reply is a plain list of
    (prefix, literal) pairs. Where that reply is not in the expected shape, imapclient
    reads it instead.
    """
    imap = getattr(client, "_imap", None)
    if imap is not None:
        status, data = imap.uid("FETCH", ",".join(map(str, uids)), "(BODY.PEEK[])")
        found = _literals(data) if status == "OK" else None
        if found is not None and set(found) >= set(uids):
            return found
    return {uid: bytes(v[b"BODY[]"]) for uid, v in client.fetch(uids, ["BODY.PEEK[]"]).items()}


def _heads(client: IMAPClient, uids: list[int]) -> dict[int, bytes]:
    """The header blocks of these messages (BODY.PEEK[HEADER], at most HEAD_LIMIT bytes).

    Read for messages too large to fetch whole, so that they can still be matched to a
    member. A server that does not answer with headers gives none.
    """
    found: dict[int, bytes] = {}
    for start in range(0, len(uids), _UIDS_PER_COMMAND):
        part = uids[start : start + _UIDS_PER_COMMAND]
        replies = client.fetch(part, [f"BODY.PEEK[HEADER]<0.{HEAD_LIMIT}>"])
        for uid, values in replies.items():
            head = next((v for k, v in values.items() if k.startswith(b"BODY[HEADER]")), None)
            if isinstance(head, bytes):
                found[uid] = head_of(head)
    return found


def _literals(data: list[Any]) -> dict[int, bytes] | None:
    """UID -> literal from an imaplib FETCH reply; None if its shape is not understood."""
    found: dict[int, bytes] = {}
    for i, item in enumerate(data):
        if not isinstance(item, tuple):
            continue
        prefix, literal = item
        if b"BODY[]" not in prefix or not isinstance(literal, bytes):
            return None
        uid = _UID_IN.search(prefix)
        if uid is None and i + 1 < len(data) and isinstance(data[i + 1], bytes):
            uid = _UID_IN.search(data[i + 1])  # some servers put UID after the literal
        if uid is None:
            return None
        found[int(uid.group(1))] = literal
    return found


def _auth_offered(client: IMAPClient) -> str:
    caps = [c.decode("ascii", "replace") for c in client.capabilities()]
    return " ".join(c[5:] for c in caps if c.upper().startswith("AUTH="))


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:  # Only if normalise_times were on: local time.
        value = value.astimezone()
    return value.astimezone(UTC)


def _quietly_shut(client: IMAPClient) -> None:
    # Closing is best effort: the connection may already be gone, and the error that
    # brought us here is the one worth reporting.
    try:
        client.logout()
    except (OSError, IMAPClientError):
        with contextlib.suppress(OSError, IMAPClientError):
            client.shutdown()
