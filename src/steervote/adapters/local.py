"""Local mail: a Maildir outbox instead of SMTP, and Maildir or mbox files to read replies from.

UIDs of local sources are ordinals (1, 2, 3 ... in a stable order: Maildir by file name,
which starts with the delivery time; mbox by position). An ordinal only keeps naming the same
message while the folder is appended to in that order, so UIDVALIDITY is derived from the path
AND the folder's listing: any change at all (a new message, a deletion) gives a new
UIDVALIDITY, the caller re-reads the folder from the start, and de-duplication on Message-ID
and bytes downstream keeps the count right. An unchanged folder reads nothing new. A
path-only UIDVALIDITY would be cheaper for growing folders but would silently skip a new
message after any deletion, and a skipped vote is the one error we cannot have.

Symbolic links are never followed: a link is not a message (it could name /etc/passwd,
or itself), and neither is a directory, a FIFO or a device. Such entries, and files that
cannot be read, are passed over and listed by not_read(); none stops a count.
"""

from __future__ import annotations

import copy
import hashlib
import mailbox
import os
import re
import stat as file_mode
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from steervote.adapters.smtp import SendResult
from steervote.adapters.source import UNKNOWN_TIME, Fetched, ReceivedFrom, date_header_time
from steervote.core.parse import HEAD_LIMIT, head_of


def _uidvalidity(*parts: str) -> int:
    """A non-zero 31-bit number from the given text (IMAP UIDVALIDITY is 32-bit)."""
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8", "surrogateescape"), digest_size=4)
    return (int.from_bytes(digest.digest(), "big") & 0x7FFFFFFF) or 1


def _batched(items: Iterator[Fetched], batch_size: int) -> Iterator[list[Fetched]]:
    batch: list[Fetched] = []
    for item in items:
        batch.append(item)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


class MaildirOutbox:
    """Writes each message into a Maildir (created if missing) instead of sending it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).absolute()
        self._opened: mailbox.Maildir | None = None

    @property
    def _maildir(self) -> mailbox.Maildir:
        # Created at the first message, not before: a run refused for bad input leaves no
        # outbox behind (exit 2 means nothing was written).
        if self._opened is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._opened = mailbox.Maildir(self.path, create=True)
        return self._opened

    def __enter__(self) -> MaildirOutbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(
        self, msg: EmailMessage | bytes, *, sender: str, recipients: Sequence[str]
    ) -> SendResult:
        """Store the message as it would have been sent (without Bcc), always accepted."""
        if not recipients:
            raise ValueError("a message needs at least one recipient")
        if not isinstance(msg, bytes) and ("Bcc" in msg or "Resent-Bcc" in msg):
            # As smtplib does: a shallow copy, whose header list del replaces, not mutates.
            msg = copy.copy(msg)
            del msg["Bcc"]
            del msg["Resent-Bcc"]
        key = self._maildir.add(msg)
        return SendResult(ok=True, code=None, reason=f"written to {self.path / 'new' / key}")

    def close(self) -> None:
        """Nothing to release; here so an outbox and an SMTP transport are interchangeable."""


class MaildirSource:
    """Read a Maildir (new/ and cur/) without moving or changing any file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).absolute()
        self._passed_over: dict[str, str] = {}
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise FileNotFoundError(f"{self.path} is not a Maildir (no cur/ or new/)")

    @property
    def key(self) -> str:
        """maildir:/absolute/path."""
        return f"maildir:{self.path}"

    def _listing(self) -> list[tuple[str, Path]]:
        """(unique name, file) sorted by unique name; the ":2,FLAGS" suffix is ignored.

        Only regular files (by lstat: a symbolic link is not followed); every other entry
        is noted for not_read().
        """
        entries = []
        passed_over: dict[str, str] = {}
        for sub in ("new", "cur"):
            directory = self.path / sub
            try:
                if directory.is_symlink():
                    passed_over[f"{sub}/"] = "a symbolic link, not followed"
                    continue
                if not directory.is_dir():
                    continue
                with os.scandir(directory) as it:
                    for entry in it:
                        if entry.name.startswith("."):
                            continue
                        why = _not_a_message(entry)
                        if why is not None:
                            passed_over[f"{sub}/{entry.name}"] = why
                            continue
                        entries.append((entry.name.split(":", 1)[0], Path(entry.path)))
            except OSError as e:
                passed_over[f"{sub}/"] = f"cannot be listed ({e.strerror or type(e).__name__})"
        entries.sort()
        self._passed_over.update(passed_over)
        return entries

    def not_read(self) -> list[str]:
        """Entries passed over by the last listing or read, each "new/NAME: why"."""
        return [f"{name}: {why}" for name, why in sorted(self._passed_over.items())]

    def uidvalidity(self) -> int:
        """Derived from the path and every message's unique name: any change renumbers."""
        return _uidvalidity(self.key, *(name for name, _ in self._listing()))

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> Iterator[list[Fetched]]:
        """Messages after the ordinal after_uid, with the delivery time in the file name.

        received_at is the delivery time a Maildir name starts with (`maildir-name`), else
        the file's mtime (`file-time`): a copy (`cp -r`) has new mtimes but the same names.
        """
        yield from _batched(self._read(self._listing(), after_uid, max_size), batch_size)

    def _read(
        self, listing: list[tuple[str, Path]], after_uid: int, max_size: int
    ) -> Iterator[Fetched]:
        for uid, (_, path) in enumerate(listing, start=1):
            if uid <= after_uid:
                continue
            try:
                try:
                    stat, raw, head = _read_file(path, max_size)
                except FileNotFoundError:
                    # A mail client moved it (new/ -> cur/) while we read: find it again.
                    moved = self._find(path.name.split(":", 1)[0])
                    if moved is None:
                        continue  # Deleted meanwhile: it is no longer in the folder.
                    stat, raw, head = _read_file(moved, max_size)
            except OSError as e:
                # Unreadable, or replaced by a link or a FIFO since the listing: passed over
                # and listed, never the end of the count.
                where = f"{path.parent.name}/{path.name}"
                self._passed_over[where] = f"unreadable ({e.strerror or type(e).__name__})"
                continue
            # Maildir delivery names the file by its delivery time and writes it once.
            mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
            named = delivery_time(path.name, mtime)
            yield Fetched(
                uid=uid,
                raw=raw,
                size=stat.st_size,
                received_at=named or mtime,
                received_from="maildir-name" if named else "file-time",
                head=head,
            )

    def _find(self, unique: str) -> Path | None:
        for name, path in self._listing():
            if name == unique:
                return path
        return None

    def close(self) -> None:
        """Nothing to release."""


# "1483524600.M123456P789.host,S=2048:2,S" (Dovecot), "1483524600.12345.host" (qmail):
# Unix seconds, and with Dovecot the microseconds after "M".
_DELIVERY_NAME = re.compile(r"(\d{9,10})\.(?:M(\d{1,6})P)?")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def delivery_time(name: str, mtime: datetime) -> datetime | None:
    """The delivery time a Maildir file name starts with, as aware UTC, or None.

    None when the name does not start with Unix seconds, or names a time before 2000 or
    after the file was written (a delivering agent names the file, then writes it: a name
    ahead of the file's own time, beyond a minute of clock skew, is not its delivery; a
    "proven" receipt time in the future could make a late vote look in time).
    """
    m = _DELIVERY_NAME.match(name)
    if m is None:
        return None
    at = datetime.fromtimestamp(int(m.group(1)), UTC)
    if m.group(2):
        at += timedelta(microseconds=int(m.group(2)))  # written unpadded: M1 is 1 us
    if at < _EARLIEST or at > mtime + timedelta(minutes=1):
        return None
    return at


def _not_a_message(entry: os.DirEntry[str]) -> str | None:
    """Why a directory entry is not a message file (by lstat), or None when it is one."""
    try:
        if entry.is_symlink():
            return "a symbolic link, not a message"
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as e:
        return f"unreadable ({e.strerror or type(e).__name__})"
    if file_mode.S_ISDIR(mode):
        return "a directory, not a message"
    if not file_mode.S_ISREG(mode):
        return "not a regular file, not a message"
    return None


class _NotAFile(OSError):
    """What was listed as a regular file is something else by the time it is opened."""


def _open_file(path: Path) -> int:
    """A file descriptor for reading a regular file, never through a symbolic link.

    O_NOFOLLOW refuses a link (ELOOP); O_NONBLOCK keeps a FIFO from blocking the open,
    and fstat then refuses anything that is not a regular file.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    if not file_mode.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _NotAFile(0, "not a regular file")
    return fd


def _read_file(path: Path, max_size: int) -> tuple[os.stat_result, bytes | None, bytes | None]:
    """(stat, the bytes, None) within max_size, else (stat, None, the header block)."""
    with os.fdopen(_open_file(path), "rb") as file:
        stat = os.fstat(file.fileno())
        if stat.st_size <= max_size:
            return stat, file.read(), None
        return stat, None, head_of(file.read(HEAD_LIMIT))


class MboxSource:
    """Read an mbox file (one "From " line before each message) without changing it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).absolute()
        if self.path.is_symlink():
            # Never followed: a link could name any file on the machine.
            raise FileNotFoundError(
                f"{self.path} is a symbolic link; give the path of the mbox file itself"
            )
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} is not an mbox file")

    @property
    def key(self) -> str:
        """mbox:/absolute/path."""
        return f"mbox:{self.path}"

    def uidvalidity(self) -> int:
        """Derived from the path, size and modification time: any change renumbers."""
        stat = self.path.lstat()
        return _uidvalidity(self.key, str(stat.st_size), str(stat.st_mtime_ns))

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> Iterator[list[Fetched]]:
        """Messages after the ordinal after_uid, streamed from the file."""
        yield from _batched(self._read(after_uid, max_size), batch_size)

    def _read(self, after_uid: int, max_size: int) -> Iterator[Fetched]:
        for uid, (from_line, raw, size, head) in enumerate(_mbox_messages(self.path, max_size), 1):
            if uid <= after_uid:
                continue
            received_at, received_from = _mbox_time(from_line, raw or head)
            yield Fetched(
                uid=uid,
                raw=raw,
                size=size,
                received_at=received_at,
                received_from=received_from,
                head=head,
            )

    def not_read(self) -> list[str]:
        """Nothing is passed over in an mbox: every message in it is read."""
        return []

    def close(self) -> None:
        """Nothing to release."""


def _mbox_messages(
    path: Path, max_size: int
) -> Iterator[tuple[bytes, bytes | None, int, bytes | None]]:
    """(From line, message bytes or None when over max_size, size, header block when over).

    A line starting with "From " after an empty line (or at the start) begins a message,
    as in the mboxo/mboxrd formats; the empty line before it belongs to the separator.
    Only messages within max_size are kept in memory (of larger ones, their headers).
    """
    from_line: bytes | None = None
    lines: list[bytes] = []
    size = 0
    last = b""
    with os.fdopen(_open_file(path), "rb") as file:
        for line in file:
            if line.startswith(b"From ") and last in (b"", b"\n", b"\r\n"):
                if from_line is not None:
                    yield _finish(from_line, lines, size, last, max_size)
                from_line, lines, size, last = line, [], 0, b"From"
                continue
            last = line
            if from_line is None:
                continue  # Text before the first "From " line is not a message.
            size += len(line)
            # Room for the separator line that _finish strips, and for the headers of a
            # message too large to keep.
            if size <= max_size + 2 or size <= HEAD_LIMIT:
                lines.append(line)
    if from_line is not None:
        yield _finish(from_line, lines, size, last, max_size)


def _finish(
    from_line: bytes, lines: list[bytes], size: int, last: bytes, max_size: int
) -> tuple[bytes, bytes | None, int, bytes | None]:
    if last in (b"\n", b"\r\n"):  # The separator before the next "From " line.
        size -= len(last)
        if lines and lines[-1] is last:
            lines = lines[:-1]
    if size <= max_size:
        return from_line, b"".join(lines), size, None
    # What was kept of a message too large to read: its first max_size bytes or so.
    return from_line, None, size, head_of(b"".join(lines))


def _mbox_time(from_line: bytes, raw: bytes | None) -> tuple[datetime, ReceivedFrom]:
    """The "From " line date, else the Date header, else unknown.

    A From line with a UTC offset ("Thu Nov 27 04:59:00 2025 +0100") is proven
    ("from-line"). Without one it is the delivery agent's local time, or UTC (Python's
    mailbox module), which cannot be told apart: read as UTC and marked not proven
    ("from-line-local"), so that a reply near the deadline goes to review.
    """
    # "From sender@example.org Thu Nov 27 04:59:00 2025" (the sender may be missing).
    words = from_line.decode("ascii", "replace").split()
    for start in (2, 1):
        text = " ".join(words[start : start + 5])
        try:
            local = datetime.strptime(text, "%a %b %d %H:%M:%S %Y")
        except ValueError:
            continue
        zone = words[start + 5] if len(words) > start + 5 else ""
        try:
            offset = datetime.strptime(zone, "%z").utcoffset() if zone[:1] in ("+", "-") else None
        except ValueError:
            offset = None
        if zone and offset is not None:
            return (local - offset).replace(tzinfo=UTC), "from-line"
        return local.replace(tzinfo=UTC), "from-line-local"
    if raw is not None:
        header_time = date_header_time(raw)
        if header_time is not None:
            return header_time, "date-header"
    return UNKNOWN_TIME, "unknown"
