"""The store: SQLModel tables, numbered migrations, and frozen values in and out.

ORM rows never leave this module. Times go in as aware UTC; SQLite hands them
back naive (it has no time zones), so every time read is made aware UTC again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    LargeBinary,
    UniqueConstraint,
    bindparam,
    event,
    func,
    inspect,
    or_,
    text,
)
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from steervote.core.address import normalize_address
from steervote.core.ballot import ballot_text, format_fingerprint
from steervote.core.match import Directory
from steervote.core.motion import (
    CastingVote,
    Committee,
    Member,
    Motion,
    Observer,
    Threshold,
)
from steervote.core.receipt import UNPROVEN
from steervote.core.records import (
    AddressChange,
    Amendment,
    BallotRecord,
    BallotStatus,
    Disposition,
    IgnoredMessage,
    NoticeKind,
    NoticeRecord,
    Received,
    RecordedMessage,
    Ruling,
    Undo,
)
from steervote.core.storable import storable
from steervote.core.strength import Strength
from steervote.core.vote import Vote
from steervote.core.withdrawal import Withdrawal
from steervote.errors import ConfigInvalid, ProposeRunning, SteervoteError


class StoreError(SteervoteError):
    """The database could not be opened or written."""


class TallyRaced(StoreError):
    """Another tally recorded the same messages at the same time; nothing of this batch was
    written (its transaction rolled back), so running tally again reads them once."""


# --- tables ---------------------------------------------------------------


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"
    version: int = Field(primary_key=True)
    applied_at: datetime


class MotionRow(SQLModel, table=True):
    __tablename__ = "motion"
    id: str = Field(primary_key=True)
    title: str
    text: str
    committee_id: str
    committee_name: str
    timezone: str
    proposer: str
    threshold: str
    quorum: int
    closes: datetime
    closes_spec: str
    require_token: bool
    authority: str | None = None
    casting_vote: str
    attachments: str  # JSON list of paths, as given
    papers: str = "[]"  # JSON list of [file name, SHA-256] of each attachment (migration 5)
    withdrawn_at: datetime | None = None  # `withdraw` (migration 8)
    withdrawn_by: str = ""
    withdrawn_reason: str = ""
    links: str  # JSON list
    observers: str  # JSON list of [name, email]
    digest: str
    recorded_at: datetime


class MemberRow(SQLModel, table=True):
    __tablename__ = "member"
    motion_id: str = Field(primary_key=True, foreign_key="motion.id")
    member_id: str = Field(primary_key=True)
    position: int
    name: str
    email: str
    aliases: str  # JSON list
    role: str | None = None


class BallotRow(SQLModel, table=True):
    __tablename__ = "ballot"
    motion_id: str = Field(primary_key=True, foreign_key="motion.id")
    recipient: str = Field(primary_key=True)
    position: int
    name: str
    address: str
    voting: bool
    token: str | None = Field(default=None, unique=True)
    message_id: str
    status: str
    detail: str = ""
    sent_at: datetime | None = None


class MailboxRow(SQLModel, table=True):
    __tablename__ = "mailbox"
    key: str = Field(primary_key=True)
    uidvalidity: int
    last_uid: int
    updated_at: datetime


class MessageRow(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_motion_member", "motion_id", "member_id"),
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_message_mailbox_uid"),
    )
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    uidvalidity: int
    uid: int
    message_id: str = Field(index=True)
    sha256: str = Field(index=True)
    sender: str
    subject: str
    size: int
    received_at: datetime
    received_from: str
    motion_id: str | None = None
    member_id: str | None = None
    how: str = ""
    disposition: str
    vote: str | None = None
    evidence: str = ""
    own_text: str = ""
    reason: str = ""
    recorded_at: datetime
    strength: str = ""  # core.strength.Strength (migration 2)
    dated: datetime | None = None  # the message's Date header, UTC (migration 2)


class MessageTieRow(SQLModel, table=True):
    """A further motion and member a message is reviewed on (a thread naming several)."""

    __tablename__ = "message_tie"
    id: int | None = Field(default=None, primary_key=True)
    message: int = Field(index=True, foreign_key="message.id")
    motion_id: str = Field(index=True)
    member_id: str


class ProposeLockRow(SQLModel, table=True):
    """Who holds the propose of a motion (migration 3); see Store.propose_lock."""

    __tablename__ = "propose_lock"
    motion_id: str = Field(primary_key=True)
    pid: int
    host: str
    since: datetime
    holder: str  # random, this holding's own: a run releases only its own lock


class MessageRawRow(SQLModel, table=True):
    """The raw bytes of a message tied to a motion, zlib-compressed, once per SHA-256
    (migration 4): the evidence `show --raw` prints and `audit` writes out."""

    __tablename__ = "message_raw"
    sha256: str = Field(primary_key=True)
    size: int  # bytes, uncompressed
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class NoticeRow(SQLModel, table=True):
    """A receipt, ask, reminder or announcement (migration 6); see core.records.NoticeRecord."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("motion_id", "kind", "recipient", "key", name="uq_notice_what"),
    )
    id: int | None = Field(default=None, primary_key=True)
    motion_id: str = Field(index=True, foreign_key="motion.id")
    kind: str
    recipient: str
    key: str
    name: str
    address: str
    token: str | None = Field(default=None, unique=True)
    message_id: str
    refers_to: str = ""
    summary: str = ""
    status: str
    detail: str = ""
    created_at: datetime
    sent_at: datetime | None = None


class AmendmentRow(SQLModel, table=True):
    """Members added after the ballots went out (migration 9); see core.records.Amendment."""

    __tablename__ = "amendment"
    id: int | None = Field(default=None, primary_key=True)
    motion_id: str = Field(index=True, foreign_key="motion.id")
    added: str  # JSON list of member ids
    reason: str
    by: str
    at: datetime
    old_digest: str
    new_digest: str
    # JSON list of [member id, old email, new email, old aliases, new aliases] (migration 10)
    changed: str = "[]"


class RulingRow(SQLModel, table=True):
    __tablename__ = "ruling"
    id: int | None = Field(default=None, primary_key=True)
    motion_id: str = Field(index=True, foreign_key="motion.id")
    member_id: str
    vote: str | None = None
    reason: str
    ruled_by: str
    ruled_at: datetime


class RulingUndoRow(SQLModel, table=True):
    """The undo of a ruling (migration 7), recorded beside it: a ruling is never deleted."""

    __tablename__ = "ruling_undo"
    id: int | None = Field(default=None, primary_key=True)
    ruling_id: int = Field(foreign_key="ruling.id", unique=True)
    reason: str
    undone_by: str
    undone_at: datetime


# --- values the store hands out ---------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedMotion:
    """A motion as recorded, with what is needed to refuse a changed re-run."""

    motion: Motion
    digest: str
    recorded_at: datetime
    # (file name, SHA-256 hex) of each paper; None: recorded before papers were (migration 5)
    papers: tuple[tuple[str, str], ...] | None = None
    withdrawn: Withdrawal | None = None


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The run holding (or that held) the propose of a motion: its process, host, start."""

    pid: int
    host: str
    since: datetime  # aware UTC

    def describe(self) -> str:
        """Process and start, as `pid 123, since 2027-01-12 09:30:00 UTC`."""
        return f"{self.process()}, since {self.started()}"

    def process(self) -> str:
        """The process, as `pid 123`, or `pid 123 on otherhost` when not on this host."""
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where}"

    def started(self) -> str:
        """The start, as `2027-01-12 09:30:00 UTC`."""
        return f"{self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True, slots=True)
class HeldLock:
    """The propose lock of a motion, held; took_over: a dead run's lock this one took."""

    motion_id: str
    holder: LockHolder
    took_over: LockHolder | None

    def note(self) -> str:
        """What to tell the user about a lock taken over; "" when none was."""
        if self.took_over is None:
            return ""
        gone = self.took_over
        return (
            f"took over the lock of propose {gone.process()} (since {gone.started()}), "
            "which is no longer running"
        )


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A received message and its disposition, ready to record."""

    uid: int
    message_id: str
    sha256: str
    sender: str
    subject: str
    size: int
    received_at: datetime
    received_from: str
    disposition: Disposition
    reason: str
    motion_id: str | None = None
    member_id: str | None = None
    how: str = ""
    vote: Vote | None = None
    evidence: str = ""
    own_text: str = ""
    strength: str = ""  # core.strength.Strength, for a message matched to a member
    dated: datetime | None = None  # its Date header, aware UTC
    also: tuple[tuple[str, str], ...] = ()  # further (motion, member) it is reviewed on
    raw: bytes = b""  # its raw bytes, zlib-compressed, when they are to be kept (evidence)


@dataclass(frozen=True, slots=True)
class EarlierTime:
    """The same bytes seen again with a proven receipt time: keep the earlier one."""

    sha256: str
    received_at: datetime
    received_from: str


@dataclass(frozen=True, slots=True)
class SeenMessage:
    """What a recorded message said, for telling a re-delivery from a reused Message-ID,
    and how it was matched, for upgrading it when a stronger copy of it arrives."""

    sender: str
    subject: str
    own_text: str
    sha256: str = ""
    motion_id: str = ""
    member_id: str = ""
    strength: str = ""  # core.strength.Strength
    disposition: str = ""
    vote: str | None = None


@dataclass(frozen=True, slots=True)
class Upgrade:
    """A recorded message whose later copy matched more strongly: its new match."""

    sha256: str
    motion_id: str
    member_id: str
    strength: str
    how: str


# --- helpers ------------------------------------------------------------------


def _db_time(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return t.astimezone(UTC)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a new database to WAL takes its lock too, and a
    # second run opening it at that moment must wait, not fail.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _migration_1(c: Connection) -> None:
    SQLModel.metadata.create_all(c)


def _migration_2(c: Connection) -> None:
    """Match strength and Date per message; further ties; mbox From lines are local time.

    A store made by migration 1 of this code already has the columns; an older one gets
    them, with the strength its `how` implies (a token's authentication was not checked:
    token+sender). Its "from-line" times were read from From lines without a zone.
    """
    columns = {column["name"] for column in inspect(c).get_columns("message")}
    if "strength" not in columns:
        c.execute(text("ALTER TABLE message ADD COLUMN strength VARCHAR NOT NULL DEFAULT ''"))
    if "dated" not in columns:
        kind = "TIMESTAMP WITHOUT TIME ZONE" if c.dialect.name == "postgresql" else "DATETIME"
        c.execute(text(f"ALTER TABLE message ADD COLUMN dated {kind}"))
    c.execute(
        text(
            "UPDATE message SET strength = CASE how WHEN 'token' THEN 'token+sender' "
            "WHEN 'subject+sender' THEN 'subject+sender' ELSE 'weak' END "
            "WHERE strength = '' AND member_id IS NOT NULL"
        )
    )
    if "strength" not in columns:
        c.execute(
            text(
                "UPDATE message SET received_from = 'from-line-local' "
                "WHERE received_from = 'from-line'"
            )
        )
    SQLModel.metadata.create_all(c, tables=[MessageTieRow.__table__])  # type: ignore[attr-defined]


def _migration_3(c: Connection) -> None:
    """The propose lock (one propose of a motion at a time). Ballots gain a status,
    `sending` (handed to the server, not yet confirmed), in the existing status column."""
    SQLModel.metadata.create_all(c, tables=[ProposeLockRow.__table__])  # type: ignore[attr-defined]


def _migration_4(c: Connection) -> None:
    """The raw bytes of every message tied to a motion, kept from now on (message_raw)."""
    SQLModel.metadata.create_all(c, tables=[MessageRawRow.__table__])  # type: ignore[attr-defined]


def _migration_5(c: Connection) -> None:
    """The hash of each paper of a motion (motion.papers), so an audit can prove its
    digest. A motion recorded before has its papers unknown ("[]" with attachments named).
    A store made by migration 1 of this code already has the column."""
    if "papers" not in {column["name"] for column in inspect(c).get_columns("motion")}:
        c.execute(text("ALTER TABLE motion ADD COLUMN papers VARCHAR NOT NULL DEFAULT '[]'"))


def _migration_6(c: Connection) -> None:
    """Notices to members after their ballot: receipts, asks, reminders, announcements."""
    SQLModel.metadata.create_all(c, tables=[NoticeRow.__table__])  # type: ignore[attr-defined]


def _migration_7(c: Connection) -> None:
    """The undo of a ruling (`rule --undo`), kept beside the ruling it undoes."""
    SQLModel.metadata.create_all(c, tables=[RulingUndoRow.__table__])  # type: ignore[attr-defined]


def _migration_8(c: Connection) -> None:
    """A motion can be withdrawn (`withdraw`): who, why and when, on the motion's row.
    A store made by migration 1 of this code already has the columns."""
    columns = {column["name"] for column in inspect(c).get_columns("motion")}
    kind = "TIMESTAMP WITHOUT TIME ZONE" if c.dialect.name == "postgresql" else "DATETIME"
    for name, sql in (
        ("withdrawn_at", kind),
        ("withdrawn_by", "VARCHAR NOT NULL DEFAULT ''"),
        ("withdrawn_reason", "VARCHAR NOT NULL DEFAULT ''"),
    ):
        if name not in columns:
            c.execute(text(f"ALTER TABLE motion ADD COLUMN {name} {sql}"))


def _migration_9(c: Connection) -> None:
    """Amendments of a motion's electorate (`propose --add-member`), kept with why."""
    SQLModel.metadata.create_all(c, tables=[AmendmentRow.__table__])  # type: ignore[attr-defined]


def _migration_10(c: Connection) -> None:
    """Members' addresses changed by an amendment (`propose --amend-member`), old and new.
    A store whose amendment table migration 9 made with this code has the column."""
    if "changed" not in {column["name"] for column in inspect(c).get_columns("amendment")}:
        c.execute(text("ALTER TABLE amendment ADD COLUMN changed VARCHAR NOT NULL DEFAULT '[]'"))


# Numbered migrations, applied in order and recorded in schema_version, each inside the
# one transaction that holds the migration lock (Store._migrate).
MIGRATIONS = (
    (1, _migration_1),
    (2, _migration_2),
    (3, _migration_3),
    (4, _migration_4),
    (5, _migration_5),
    (6, _migration_6),
    (7, _migration_7),
    (8, _migration_8),
    (9, _migration_9),
    (10, _migration_10),
)


def _lock_key(*parts: str) -> int:
    """A PostgreSQL advisory lock key (signed 64 bits) for these words."""
    digest = hashlib.sha256("\0".join(("steervote", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _begin_exclusive(c: Connection) -> None:
    """Begin a transaction that no other writer can enter until it ends.

    SQLite: BEGIN IMMEDIATE takes the database's write lock at once (waiting up to the
    busy timeout), where a plain BEGIN would take it only at the first write, after our
    reads. PostgreSQL: a transaction-level advisory lock on one key for all such sections.
    """
    if c.dialect.name == "sqlite":
        c.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key("exclusive")})


def _process_gone(pid: int) -> bool:
    """Whether no process of this pid runs on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # Someone else's process: alive.
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] == "Z"  # Dead, not yet reaped by its parent.


def _stale(holder: LockHolder) -> bool:
    """A lock's holder that is certainly dead: a process of this host that is gone."""
    return holder.host == socket.gethostname() and _process_gone(holder.pid)


_SECRET_PARAMETER = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The database URL with any password replaced, for messages."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # a URL we cannot parse is reported without its contents
        return "<unparseable database url>"
    # libpq takes a password in the query string too (?password=...): hidden as well.
    query = {k: ("***" if _SECRET_PARAMETER.search(k) else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def store_exists(url: str) -> bool:
    """Whether the store at this URL was created; finding out creates nothing.

    A URL or server that cannot be reached counts as existing: opening the store then
    reports it in one line.
    """
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    from sqlalchemy import inspect

    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ValueError, ImportError):
        return True
    try:
        return inspect(engine).has_table("schema_version")
    except SQLAlchemyError:
        return True
    finally:
        engine.dispose()


# --- the store ----------------------------------------------------------------


class Store:
    """All persistent state of steervote behind one object."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url)
        except (SQLAlchemyError, ValueError, ImportError) as e:
            raise ConfigInvalid(f"database url {redact_url(url)}: {e}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        for attempt in range(3):
            try:
                self._migrate()
                break
            except OperationalError as e:
                # Another run may hold SQLite's write lock past the busy timeout on a loaded
                # machine (its own migrations, its lock row): wait for it, then say so.
                if "locked" in str(e.orig or e) and attempt < 2:
                    time.sleep(1 + attempt)
                    continue
                raise StoreError(
                    f"cannot open database {redact_url(url)}: {e.orig or e}".splitlines()[0]
                ) from None

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def _migrate(self) -> None:
        """Apply the migrations not yet recorded, all in one transaction that holds the
        migration lock: two runs opening a new store at once must not both create it."""
        table = SchemaVersion.__table__  # type: ignore[attr-defined]
        wanted = {version for version, _ in MIGRATIONS}
        with self.engine.connect() as c:
            if inspect(c).has_table("schema_version") and wanted <= set(
                c.execute(sa_select(table.c.version)).scalars()
            ):
                return
            c.rollback()
            _begin_exclusive(c)
            table.create(c, checkfirst=True)
            done = set(c.execute(sa_select(table.c.version)).scalars())
            for version, step in MIGRATIONS:
                if version not in done:
                    step(c)
                    c.execute(
                        table.insert().values(
                            version=version, applied_at=_db_time(datetime.now(UTC))
                        )
                    )
            c.commit()

    # --- motions -------------------------------------------------------------

    def recorded_motion(self, motion_id: str) -> RecordedMotion | None:
        """The motion recorded under this id, or None."""
        with self._session() as s:
            row = s.get(MotionRow, motion_id)
            if row is None:
                return None
            # Plain column tuples: ORM objects cost ~25 us a row, too much for 20,000 members.
            m = MemberRow.__table__  # type: ignore[attr-defined]
            members = s.execute(
                sa_select(m.c.member_id, m.c.name, m.c.email, m.c.aliases, m.c.role)
                .where(m.c.motion_id == motion_id)
                .order_by(m.c.position)
            ).all()
            papers = tuple((str(n), str(h)) for n, h in json.loads(row.papers or "[]"))
            return RecordedMotion(
                _motion_from_rows(row, members),
                row.digest,
                _aware(row.recorded_at),
                papers if papers or not json.loads(row.attachments) else None,
                _withdrawal(row),
            )

    def amend_electorate(
        self,
        motion: Motion,
        *,
        amendment: Amendment,
        ballots: Sequence[BallotRecord],
    ) -> None:
        """Record an amendment of the electorate after the ballots went out: the motion's new
        digest and quorum, every member's position as the motion now lists them, the new
        members and their ballots (pending), the changed members' email and aliases and
        the address of their voting ballot (amendment.changed), and the amendment itself,
        in one transaction. StoreError (nothing written) when the recorded digest is no
        longer amendment.old_digest."""
        with self._session() as s:
            row = s.get(MotionRow, motion.id)
            if row is None or row.digest != amendment.old_digest:
                raise StoreError(
                    f"motion {motion.id} changed while it was being amended; re-run propose"
                )
            row.digest = amendment.new_digest
            row.quorum = motion.quorum
            s.add(row)
            m = MemberRow.__table__  # type: ignore[attr-defined]
            added = set(amendment.added)
            changed = {c.member_id for c in amendment.changed}
            for i, member in enumerate(motion.committee.members):
                if member.id in added:
                    s.add(_member_row(motion.id, i, member))
                    continue
                values: dict[str, Any] = {"position": i}
                if member.id in changed:
                    values.update(email=member.email, aliases=json.dumps(list(member.aliases)))
                s.execute(
                    m.update()
                    .where(m.c.motion_id == motion.id, m.c.member_id == member.id)
                    .values(**values)
                )
            b = BallotRow.__table__  # type: ignore[attr-defined]
            for c in amendment.changed:
                if c.new_email != c.old_email:
                    s.execute(
                        b.update()
                        .where(
                            b.c.motion_id == motion.id,
                            b.c.recipient == c.member_id,
                            b.c.voting.is_(True),
                        )
                        .values(address=c.new_email)
                    )
            last = s.execute(
                sa_select(func.max(b.c.position)).where(b.c.motion_id == motion.id)
            ).scalar()
            s.add_all(
                _ballot_row(k, ballot) for k, ballot in enumerate(ballots, start=(last or 0) + 1)
            )
            s.add(
                AmendmentRow(
                    motion_id=motion.id,
                    added=json.dumps(list(amendment.added)),
                    reason=_text(amendment.reason),
                    by=_text(amendment.by),
                    at=_db_time(amendment.at),
                    old_digest=amendment.old_digest,
                    new_digest=amendment.new_digest,
                    changed=json.dumps(
                        [
                            [c.member_id, c.old_email, c.new_email, c.old_aliases, c.new_aliases]
                            for c in amendment.changed
                        ]
                    ),
                )
            )
            s.commit()

    def amendments(self, motion_id: str) -> list[Amendment]:
        """The amendments of a motion's electorate, oldest first."""
        with self._session() as s:
            rows = s.exec(
                select(AmendmentRow)
                .where(AmendmentRow.motion_id == motion_id)
                .order_by(col(AmendmentRow.at), col(AmendmentRow.id))
            ).all()
            return [
                Amendment(
                    tuple(json.loads(r.added)),
                    r.reason,
                    r.by,
                    _aware(r.at),
                    r.old_digest,
                    r.new_digest,
                    changed=tuple(
                        AddressChange(i, old, new, tuple(was), tuple(now))
                        for i, old, new, was, now in json.loads(r.changed or "[]")
                    ),
                )
                for r in rows
            ]

    def withdraw(self, motion_id: str, withdrawal: Withdrawal) -> None:
        """Record that a motion is withdrawn (StoreError: unknown, or withdrawn already).
        Its ballots, replies and rulings stay recorded; tally reports it withdrawn."""
        with self._session() as s:
            row = s.get(MotionRow, motion_id)
            if row is None:
                raise StoreError(f"no motion {motion_id!r} in the store")
            if row.withdrawn_at is not None:
                raise StoreError(
                    f"motion {motion_id} was withdrawn already, by {row.withdrawn_by} on "
                    f"{_aware(row.withdrawn_at):%Y-%m-%d %H:%M} UTC"
                )
            row.withdrawn_at = _db_time(withdrawal.at)
            row.withdrawn_by = _text(withdrawal.by)
            row.withdrawn_reason = _text(withdrawal.reason)
            s.add(row)
            s.commit()

    def motion_ids(self) -> list[str]:
        """Ids of all recorded motions, oldest first."""
        with self._session() as s:
            return list(s.exec(select(MotionRow.id).order_by(col(MotionRow.recorded_at))).all())

    def record_motion(
        self,
        motion: Motion,
        *,
        digest: str,
        ballots: Sequence[BallotRecord],
        now: datetime,
        replaces: str | None = None,
        papers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Record a new motion (or replace one none of whose ballots went out) with its ballots.

        papers: (file name, SHA-256 hex) of each attachment (core.ballot.papers_of).

        `replaces` is the digest of the recorded motion the caller planned against, None if it
        found none: if the store holds anything else now (another run recorded it meanwhile),
        StoreError and nothing is written. A motion a ballot of which is sent or being sent
        is never replaced (StoreError).
        """
        went_out = (BallotStatus.SENT.value, BallotStatus.SENDING.value)
        with self._session() as s:
            old = s.get(MotionRow, motion.id)
            if (old.digest if old is not None else None) != replaces:
                raise StoreError(
                    f"motion {motion.id} was recorded by another run meanwhile; "
                    "re-run propose to send what is unsent"
                )
            if old is not None:
                sent = s.exec(
                    select(func.count())
                    .select_from(BallotRow)
                    .where(BallotRow.motion_id == motion.id, col(BallotRow.status).in_(went_out))
                ).one()
                if sent:
                    raise StoreError(f"motion {motion.id}: ballots already sent; cannot replace")
                for table in (BallotRow, MemberRow):
                    for r in s.exec(select(table).where(table.motion_id == motion.id)).all():
                        s.delete(r)
                s.delete(old)
                s.flush()
            s.add(
                MotionRow(
                    id=motion.id,
                    title=motion.title,
                    text=motion.text,
                    committee_id=motion.committee.id,
                    committee_name=motion.committee.name,
                    timezone=motion.committee.timezone,
                    proposer=motion.proposer,
                    threshold=motion.threshold.value,
                    quorum=motion.quorum,
                    closes=_db_time(motion.closes),
                    closes_spec=motion.closes_spec,
                    require_token=motion.require_token,
                    authority=motion.authority,
                    casting_vote=motion.casting_vote.value,
                    attachments=json.dumps([str(p) for p in motion.attachments]),
                    papers=json.dumps([list(p) for p in papers]),
                    links=json.dumps(list(motion.links)),
                    observers=json.dumps([[o.name, o.email] for o in motion.committee.observers]),
                    digest=digest,
                    recorded_at=_db_time(now),
                )
            )
            s.flush()
            s.add_all(_member_row(motion.id, i, m) for i, m in enumerate(motion.committee.members))
            s.add_all(_ballot_row(i, b) for i, b in enumerate(ballots))
            s.commit()

    def ballots_sent_at(self, motion_id: str) -> dict[str, datetime | None]:
        """When each voting member's ballot was handed to the server (UTC), by member id;
        None for a ballot that never went out (pending or failed). A ballot sent again
        (--resend) counts from its latest handing over."""
        b = BallotRow.__table__  # type: ignore[attr-defined]
        went_out = (BallotStatus.SENT.value, BallotStatus.SENDING.value)
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa_select(b.c.recipient, b.c.status, b.c.sent_at).where(
                    b.c.motion_id == motion_id, b.c.voting.is_(True)
                )
            ).all()
        return {
            r: _aware(at) if at is not None and status in went_out else None
            for r, status, at in rows
        }

    def ballots(self, motion_id: str) -> list[BallotRecord]:
        """Every ballot and copy of a motion, in electorate order."""
        with self._session() as s:
            rows = s.exec(
                select(BallotRow)
                .where(BallotRow.motion_id == motion_id)
                .order_by(col(BallotRow.position))
            ).all()
            return [_ballot(r) for r in rows]

    def mark_ballot(
        self, motion_id: str, recipient: str, status: BallotStatus, detail: str, now: datetime
    ) -> None:
        """Record one ballot's send status, committed at once: an interrupted run loses nothing.

        Its sent_at becomes `now` when sent or sending (handed over), None otherwise.
        """
        handed_over = status in (BallotStatus.SENT, BallotStatus.SENDING)
        with self.ballot_marker(motion_id) as mark:
            mark(recipient, status, detail, now if handed_over else None)

    @contextmanager
    def ballot_marker(
        self, motion_id: str
    ) -> Iterator[Callable[[str, BallotStatus, str, datetime | None], None]]:
        """A function mark(recipient, status, detail, sent_at) that records a ballot's status,
        each call its own committed transaction; StoreError for a recipient with no ballot.

        One connection serves the whole run: a plain UPDATE and COMMIT per ballot, where the
        ORM's get-modify-flush on a fresh session cost ~4 ms a ballot.
        """
        table = BallotRow.__table__  # type: ignore[attr-defined]
        update = (
            table.update()
            .where(table.c.motion_id == motion_id, table.c.recipient == bindparam("who"))
            .values(status=bindparam("status"), detail=bindparam("detail"), sent_at=bindparam("at"))
        )
        with self.engine.connect() as connection:

            def mark(
                recipient: str, status: BallotStatus, detail: str, sent_at: datetime | None
            ) -> None:
                at = _db_time(sent_at) if sent_at is not None else None
                values = {"who": recipient, "status": status.value, "detail": detail, "at": at}
                done = connection.execute(update, values)
                connection.commit()
                if done.rowcount != 1:
                    raise StoreError(f"no ballot for {recipient} on motion {motion_id}")

            yield mark

    def settle_unconfirmed(
        self, motion_id: str, recipients: Sequence[str], detail: str
    ) -> list[BallotRecord]:
        """Record ballots left `sending` by a run that stopped as sent with `detail` (their
        delivery unconfirmed: never to be sent again on their own); the ballots changed.

        Only a ballot still `sending` changes; its sent_at (when it was handed over) stays.
        """
        t = BallotRow.__table__  # type: ignore[attr-defined]
        where = (
            t.c.motion_id == motion_id,
            t.c.recipient.in_(list(recipients)),
            t.c.status == BallotStatus.SENDING.value,
        )
        with self._session() as s:
            changed = [
                recipient
                for (recipient,) in s.execute(sa_select(t.c.recipient).where(*where)).all()
            ]
            if changed:
                s.execute(
                    t.update().where(*where).values(status=BallotStatus.SENT.value, detail=detail)
                )
                s.commit()
        done = set(changed)
        return [b for b in self.ballots(motion_id) if b.recipient in done]

    # --- notices ----------------------------------------------------------------

    def notices(self, motion_id: str, kind: NoticeKind | None = None) -> list[NoticeRecord]:
        """Every notice of a motion (of one kind), in the order they were planned."""
        t = NoticeRow.__table__  # type: ignore[attr-defined]
        query = sa_select(t).where(t.c.motion_id == motion_id)
        if kind is not None:
            query = query.where(t.c.kind == kind.value)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(t.c.created_at, t.c.id)).all()
        return [_notice(row._mapping) for row in rows]

    def add_notices(self, notices: Sequence[NoticeRecord]) -> int:
        """Record planned notices (pending), each once: one whose (motion, kind, recipient,
        key) is recorded already is left as it is. Returns how many were added."""
        if not notices:
            return 0
        t = NoticeRow.__table__  # type: ignore[attr-defined]
        motion_ids = sorted({n.motion_id for n in notices})
        with self._session() as s:
            have = {
                (m, k, r, key)
                for m, k, r, key in s.execute(
                    sa_select(t.c.motion_id, t.c.kind, t.c.recipient, t.c.key).where(
                        t.c.motion_id.in_(motion_ids)
                    )
                )
            }
            new = []
            for n in notices:
                what = (n.motion_id, n.kind.value, n.recipient, n.key)
                if what not in have:
                    have.add(what)
                    new.append(_notice_row(n))
            if new:
                s.execute(t.insert(), new)
            s.commit()
        return len(new)

    def sent_counts(self, motion_id: str) -> dict[str, int]:
        """How many messages went out on a motion, by what they are: "ballot" (to voting
        members), "copy" (to observers), and each NoticeKind value, sent ones only; and the
        voting members' ballots that did not: "ballot:failed", "ballot:pending", and
        "ballot:unconfirmed" (handed to the server, never confirmed; also counted sent)."""
        b = BallotRow.__table__  # type: ignore[attr-defined]
        n = NoticeRow.__table__  # type: ignore[attr-defined]
        sent = BallotStatus.SENT.value
        unsure = or_(
            b.c.status == BallotStatus.SENDING.value,
            b.c.detail.like("delivery unconfirmed%"),
        )
        with self.engine.connect() as connection:
            ballots = connection.execute(
                sa_select(b.c.voting, b.c.status, unsure, func.count())
                .where(b.c.motion_id == motion_id)
                .group_by(b.c.voting, b.c.status, unsure)
            ).all()
            notices = connection.execute(
                sa_select(n.c.kind, func.count())
                .where(n.c.motion_id == motion_id, n.c.status == sent)
                .group_by(n.c.kind)
            ).all()
        counts: dict[str, int] = {}
        for voting, status, unconfirmed, k in ballots:
            what = "ballot" if voting else "copy"
            if status in (sent, BallotStatus.SENDING.value):
                counts[what] = counts.get(what, 0) + int(k)
            elif voting:
                counts[f"ballot:{status}"] = counts.get(f"ballot:{status}", 0) + int(k)
            if unconfirmed and voting:
                counts["ballot:unconfirmed"] = counts.get("ballot:unconfirmed", 0) + int(k)
        counts.update({str(kind): int(k) for kind, k in notices})
        return counts

    def sent_since(self, since: datetime) -> list[datetime]:
        """When each message handed to a server at or after `since` went (ballots, copies and
        notices of every motion, sent or sending), oldest first: the sending limits count
        them (adapters.throttle), a run that stopped and the next run alike."""
        went = (BallotStatus.SENT.value, BallotStatus.SENDING.value)
        at = _db_time(since)
        times: list[datetime] = []
        with self.engine.connect() as connection:
            for row in (BallotRow, NoticeRow):
                t = row.__table__  # type: ignore[union-attr]
                times += connection.execute(
                    sa_select(t.c.sent_at).where(t.c.status.in_(went), t.c.sent_at >= at)
                ).scalars()
        return sorted(_aware(t) for t in times)

    @contextmanager
    def notice_marker(
        self, motion_id: str
    ) -> Iterator[Callable[[NoticeRecord, BallotStatus, str, datetime | None], None]]:
        """mark(notice, status, detail, sent_at): record a notice's send status, each call
        its own committed transaction (as ballot_marker); StoreError for an unknown one."""
        t = NoticeRow.__table__  # type: ignore[attr-defined]
        update = (
            t.update()
            .where(
                t.c.motion_id == motion_id,
                t.c.kind == bindparam("kind_"),
                t.c.recipient == bindparam("who"),
                t.c.key == bindparam("key_"),
            )
            .values(status=bindparam("status"), detail=bindparam("detail"), sent_at=bindparam("at"))
        )
        with self.engine.connect() as connection:

            def mark(
                n: NoticeRecord, status: BallotStatus, detail: str, sent_at: datetime | None
            ) -> None:
                values = {
                    "kind_": n.kind.value,
                    "who": n.recipient,
                    "key_": n.key,
                    "status": status.value,
                    "detail": _text(detail),
                    "at": _db_time(sent_at) if sent_at is not None else None,
                }
                done = connection.execute(update, values)
                connection.commit()
                if done.rowcount != 1:
                    raise StoreError(f"no {n.kind.value} for {n.recipient} on motion {motion_id}")

            yield mark

    # --- one propose at a time ----------------------------------------------------

    @contextmanager
    def propose_lock(self, motion_id: str, *, now: datetime) -> Iterator[HeldLock]:
        """Hold the propose of this motion for the `with` block: one run at a time.

        Raises ProposeRunning (naming the holder's pid and start) when another run holds it.
        SQLite: a row in propose_lock, checked and written under BEGIN IMMEDIATE; a row left
        by a process of this host that is gone (killed) is taken over (HeldLock.took_over).
        PostgreSQL: pg_try_advisory_lock on a key derived from the motion id, held on a
        connection of its own, which the server releases when that connection dies; the row
        only says who holds it. `now` (aware UTC) is recorded as the holding's start.
        """
        me = LockHolder(os.getpid(), socket.gethostname(), now.astimezone(UTC))
        token = secrets.token_hex(16)
        if self.engine.dialect.name == "postgresql":
            with self._advisory_lock(motion_id, me, token) as took_over:
                yield HeldLock(motion_id, me, took_over)
            return
        with self.engine.connect() as c:
            _begin_exclusive(c)
            found = _lock_holder(c, motion_id)
            if found is not None and not _stale(found):
                c.rollback()
                raise ProposeRunning(
                    f"another propose of {motion_id} is running ({found.describe()})"
                )
            _write_lock_row(c, motion_id, me, token)
            c.commit()
        try:
            yield HeldLock(motion_id, me, found)
        finally:
            with self.engine.connect() as c:
                _begin_exclusive(c)
                _delete_lock_row(c, motion_id, token)
                c.commit()

    @contextmanager
    def _advisory_lock(
        self, motion_id: str, me: LockHolder, token: str
    ) -> Iterator[LockHolder | None]:
        key = _lock_key("propose", motion_id)
        c = self.engine.connect()  # Dedicated: the session lock lives as long as it does.
        try:
            # A lock just released by a killed holder: its server session may take a moment
            # to notice the dead connection and end.
            patience = time.monotonic() + 5
            while True:
                _begin_exclusive(c)  # So the row always names the lock's current holder.
                got = c.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                found = _lock_holder(c, motion_id)
                if got:
                    _write_lock_row(c, motion_id, me, token)
                    c.commit()
                    break
                c.rollback()
                if found is not None and _stale(found) and time.monotonic() < patience:
                    time.sleep(0.05)
                    continue
                who = found.describe() if found is not None else "pid unknown"
                raise ProposeRunning(f"another propose of {motion_id} is running ({who})")
        except BaseException:
            c.close()
            raise
        try:
            yield found
        finally:
            try:
                _begin_exclusive(c)
                _delete_lock_row(c, motion_id, token)
                c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                c.commit()
                c.close()
            except SQLAlchemyError:
                # Never hand a connection that may still hold the lock back to the pool:
                # closing it ends the server session, which releases the lock.
                c.invalidate()
                c.close()

    # --- mail ----------------------------------------------------------------

    def directory(self) -> Directory:
        """Tokens, member addresses and motion settings for matching replies."""
        tokens: dict[str, tuple[str, str]] = {}
        members: dict[str, dict[str, str]] = {}
        require: dict[str, bool] = {}
        titles: dict[str, str] = {}
        closes: dict[str, datetime] = {}
        with self._session() as s:
            withdrawn: dict[str, datetime] = {}
            for m in s.exec(select(MotionRow)).all():
                if m.withdrawn_at is not None:
                    withdrawn[m.id] = _aware(m.withdrawn_at)
                require[m.id] = m.require_token
                titles[m.id] = m.title
                closes[m.id] = _aware(m.closes)
                members[m.id] = {}
            for motion_id, token, recipient in s.exec(
                select(BallotRow.motion_id, BallotRow.token, BallotRow.recipient).where(
                    col(BallotRow.token).is_not(None)
                )
            ).all():
                assert token is not None
                tokens[token] = (motion_id, recipient)
            # A reply to a receipt, ask or reminder is as much the member's as one to the
            # ballot: each notice carries its own token in its Message-ID.
            n = NoticeRow.__table__  # type: ignore[attr-defined]
            asks: set[str] = set()
            notices = s.execute(
                sa_select(n.c.motion_id, n.c.token, n.c.recipient, n.c.kind).where(
                    n.c.token.is_not(None)
                )
            )
            for motion_id, token, recipient, kind in notices:
                tokens[token] = (motion_id, recipient)
                if kind == NoticeKind.ASK.value:
                    asks.add(token)
            m = MemberRow.__table__  # type: ignore[attr-defined]
            rows = s.execute(sa_select(m.c.motion_id, m.c.member_id, m.c.email, m.c.aliases))
            shared: dict[str, dict[str, tuple[str, ...]]] = {}
            for motion_id, member_id, email, aliases in rows:
                book = members[motion_id]
                for address in [email, *(json.loads(aliases) if aliases != "[]" else ())]:
                    key = normalize_address(address)
                    other = book.setdefault(key, member_id)
                    if other != member_id:  # One mailbox spelled twice (recorded before
                        # validation compared addresses as matching does).
                        known = shared.setdefault(motion_id, {}).get(key, (other,))
                        shared[motion_id][key] = (*known, member_id)
        ballots: dict[str, str] = {}
        fingerprints: dict[str, str] = {}
        for motion_id in titles:
            recorded = self.recorded_motion(motion_id)
            if recorded is not None:
                fp = format_fingerprint(recorded.digest)
                ballots[motion_id] = ballot_text(recorded.motion, fingerprint_=fp)
                fingerprints[fp.lower()] = motion_id
                for a in self.amendments(motion_id):  # ballots sent before an amendment
                    fingerprints[format_fingerprint(a.old_digest).lower()] = motion_id
        return Directory(
            tokens,
            members,
            require,
            titles,
            closes,
            ballots,
            fingerprints,
            shared=shared,
            asks=frozenset(asks),
            withdrawn=withdrawn,
        )

    def mailboxes(self) -> list[str]:
        """The keys of every mailbox read so far ("imap:…", "maildir:PATH"), sorted."""
        with self._session() as s:
            return sorted(s.exec(select(MailboxRow.key)).all())

    def mailbox_state(self, key: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, highest UID seen) for a mailbox, or None if never read."""
        with self._session() as s:
            row = s.get(MailboxRow, key)
            return None if row is None else (row.uidvalidity, row.last_uid)

    def seen(
        self, message_ids: Iterable[str], hashes: Iterable[str]
    ) -> tuple[dict[str, list[SeenMessage]], dict[str, set[tuple[str, int]]]]:
        """Recorded messages by Message-ID, and where (mailbox, UIDVALIDITY) each hash was seen.

        By Message-ID only messages matched to a member and not ignored: an ignored copy
        (a mailing list's, say) says nothing about the member's own.
        """
        ids = sorted({_text(i) for i in message_ids})
        wanted = sorted(set(hashes))
        by_id: dict[str, list[SeenMessage]] = {}
        known: dict[str, set[tuple[str, int]]] = {}
        with self._session() as s:
            for chunk in _chunks(ids, 500):
                query = select(MessageRow).where(
                    col(MessageRow.message_id).in_(chunk),
                    col(MessageRow.member_id).is_not(None),
                    MessageRow.disposition != Disposition.IGNORED.value,
                )
                for r in s.exec(query):
                    by_id.setdefault(r.message_id, []).append(
                        SeenMessage(
                            r.sender,
                            r.subject,
                            r.own_text,
                            r.sha256,
                            r.motion_id or "",
                            r.member_id or "",
                            r.strength,
                            r.disposition,
                            r.vote,
                        )
                    )
            for chunk in _chunks(wanted, 500):
                rows = s.exec(
                    select(MessageRow.sha256, MessageRow.mailbox, MessageRow.uidvalidity).where(
                        col(MessageRow.sha256).in_(chunk)
                    )
                )
                for sha, mailbox, uidvalidity in rows:
                    known.setdefault(sha, set()).add((mailbox, uidvalidity))
        return by_id, known

    def authors(self, message_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Recorded replies by Message-ID: (motion id, member id) of each matched, not ignored."""
        t = MessageRow.__table__  # type: ignore[attr-defined]
        ids = sorted({_text(i) for i in message_ids if i})
        found: dict[str, tuple[str, str]] = {}
        with self.engine.connect() as connection:
            for chunk in _chunks(ids, 500):
                query = sa_select(t.c.message_id, t.c.motion_id, t.c.member_id).where(
                    t.c.message_id.in_(chunk),
                    t.c.member_id.is_not(None),
                    t.c.disposition != Disposition.IGNORED.value,
                )
                for message_id, motion_id, member_id in connection.execute(query):
                    found.setdefault(message_id, (motion_id, member_id))
        return found

    def token_voters(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (motion id, member id) have a recorded vote matched by their own
        token from their own address (strength token+sender or stronger)."""
        t = MessageRow.__table__  # type: ignore[attr-defined]
        wanted = set(pairs)
        motions = sorted({motion for motion, _ in wanted})
        found: set[tuple[str, str]] = set()
        strong = (Strength.TOKEN.value, Strength.TOKEN_AUTHENTICATED.value)
        with self.engine.connect() as connection:
            for chunk in _chunks(motions, 500):
                query = sa_select(t.c.motion_id, t.c.member_id).where(
                    t.c.motion_id.in_(chunk),
                    t.c.disposition == Disposition.VOTE.value,
                    t.c.strength.in_(strong),
                )
                for motion_id, member_id in connection.execute(query):
                    if (motion_id, member_id) in wanted:
                        found.add((motion_id, member_id))
        return found

    def recorded_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> set[int]:
        """Which of these UIDs of this mailbox (at this UIDVALIDITY) are recorded already."""
        t = MessageRow.__table__  # type: ignore[attr-defined]
        wanted = sorted(set(uids))
        found: set[int] = set()
        with self.engine.connect() as connection:
            for i in range(0, len(wanted), 500):
                query = sa_select(t.c.uid).where(
                    t.c.mailbox == mailbox,
                    t.c.uidvalidity == uidvalidity,
                    t.c.uid.in_(wanted[i : i + 500]),
                )
                found.update(uid for (uid,) in connection.execute(query))
        return found

    def record_batch(
        self,
        mailbox: str,
        uidvalidity: int,
        last_uid: int,
        messages: Sequence[NewMessage],
        now: datetime,
        *,
        superseded: Sequence[str] = (),
        earlier: Sequence[EarlierTime] = (),
        upgraded: Sequence[Upgrade] = (),
    ) -> None:
        """Record a batch of messages and the mailbox position in one transaction.

        superseded: sha256 keys of recorded messages that were not read (too large) and
        are now read in full; they are replaced by their new records. earlier: recorded
        messages seen again with a proven receipt time (core.receipt) that is earlier than
        the recorded one, or where the recorded one is not proven: the better time is
        kept. upgraded: recorded messages a later copy of which matched more strongly
        (a list's copy recorded first, then the member's own with the token): their match
        becomes the stronger one. The position never moves back while UIDVALIDITY stays
        (a rescan re-reads from the start).
        """
        recorded = _db_time(now)
        try:
            self._record_batch(
                mailbox, uidvalidity, last_uid, messages, recorded, superseded, earlier, upgraded
            )
        except IntegrityError:
            # Another tally inserted these UIDs (or this mailbox's row) first; this
            # transaction rolled back whole, so nothing is lost and a re-run reads them once.
            raise TallyRaced(
                "another tally recorded these messages at the same time; run tally again"
            ) from None

    def _record_batch(
        self,
        mailbox: str,
        uidvalidity: int,
        last_uid: int,
        messages: Sequence[NewMessage],
        recorded: datetime,
        superseded: Sequence[str],
        earlier: Sequence[EarlierTime],
        upgraded: Sequence[Upgrade],
    ) -> None:
        t = MessageRow.__table__  # type: ignore[attr-defined]
        ties = MessageTieRow.__table__  # type: ignore[attr-defined]
        with self._session() as s:
            if superseded:
                gone = sa_select(t.c.id).where(t.c.sha256.in_(sorted(set(superseded))))
                s.execute(ties.delete().where(ties.c.message.in_(gone)))
                s.execute(t.delete().where(t.c.sha256.in_(sorted(set(superseded)))))
            for e in earlier:
                at = _db_time(e.received_at)
                s.execute(
                    t.update()
                    .where(
                        t.c.sha256 == e.sha256,
                        or_(t.c.received_at > at, t.c.received_from.in_(sorted(UNPROVEN))),
                    )
                    .values(received_at=at, received_from=e.received_from)
                )
            if messages:
                # Text from mail is stored as read, but for NUL and lone surrogates (_text).
                s.execute(
                    MessageRow.__table__.insert(),  # type: ignore[attr-defined]
                    [
                        {
                            "mailbox": mailbox,
                            "uidvalidity": uidvalidity,
                            "uid": m.uid,
                            "message_id": _text(m.message_id),
                            "sha256": m.sha256,
                            "sender": _text(m.sender),
                            "subject": _text(m.subject),
                            "size": m.size,
                            "received_at": _db_time(m.received_at),
                            "received_from": m.received_from,
                            "motion_id": m.motion_id,
                            "member_id": m.member_id,
                            "how": m.how,
                            "disposition": m.disposition.value,
                            "vote": m.vote.value if m.vote else None,
                            "evidence": _text(m.evidence),
                            "own_text": _text(m.own_text),
                            "reason": _text(m.reason),
                            "recorded_at": recorded,
                            "strength": m.strength,
                            "dated": _db_time(m.dated) if m.dated else None,
                        }
                        for m in messages
                    ],
                )
                _keep_raw(s, messages)
                tied = [m for m in messages if m.also]
                if tied:
                    refs = dict(
                        s.execute(
                            sa_select(t.c.uid, t.c.id).where(
                                t.c.mailbox == mailbox,
                                t.c.uidvalidity == uidvalidity,
                                t.c.uid.in_([m.uid for m in tied]),
                            )
                        ).all()
                    )
                    s.execute(
                        ties.insert(),
                        [
                            {"message": refs[m.uid], "motion_id": motion, "member_id": member}
                            for m in tied
                            for motion, member in m.also
                        ],
                    )
            for u in upgraded:
                s.execute(
                    t.update()
                    .where(
                        t.c.sha256 == u.sha256,
                        t.c.motion_id == u.motion_id,
                        t.c.member_id == u.member_id,
                    )
                    .values(strength=u.strength, how=u.how)
                )
            row = s.get(MailboxRow, mailbox)
            if row is None:
                row = MailboxRow(
                    key=mailbox, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=recorded
                )
            else:
                if row.uidvalidity == uidvalidity:
                    last_uid = max(last_uid, row.last_uid)
                row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, last_uid, recorded
            s.add(row)
            s.commit()

    def received(self, motion_id: str) -> list[Received]:
        """Every message matched to a member of this motion (votes and reviews), oldest first.

        Includes the messages reviewed on this motion as a further tie (message_tie), with
        the tie's member.
        """
        t = MessageRow.__table__  # type: ignore[attr-defined]
        ties = MessageTieRow.__table__  # type: ignore[attr-defined]
        wanted = (
            t.c.id,
            t.c.member_id,
            t.c.received_at,
            t.c.disposition,
            t.c.vote,
            t.c.evidence,
            t.c.own_text,
            t.c.reason,
            t.c.how,
            t.c.message_id,
            t.c.sender,
            t.c.strength,
            t.c.dated,
            t.c.received_from,
            t.c.recorded_at,
        )
        query = (
            sa_select(*wanted)
            .where(
                t.c.motion_id == motion_id,
                t.c.member_id.is_not(None),
                t.c.disposition != Disposition.IGNORED.value,
            )
            .order_by(t.c.received_at, t.c.id)
        )
        tied = (
            sa_select(*(ties.c.member_id if c is t.c.member_id else c for c in wanted))
            .join(ties, ties.c.message == t.c.id)
            .where(ties.c.motion_id == motion_id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
            extra = connection.execute(tied).all()
        if extra:
            rows = sorted([*rows, *extra], key=lambda row: (_aware(row[2]), row[0]))
        return [
            Received(
                ref=ref,
                motion_id=motion_id,
                member_id=member_id,
                received_at=_aware(received_at),
                disposition=Disposition(disposition),
                vote=Vote(vote) if vote else None,
                evidence=evidence,
                own_text=own_text,
                reason=reason,
                how=how,
                message_id=message_id,
                sender=sender,
                strength=Strength.of(strength),
                dated=_aware(dated) if dated is not None else None,
                received_from=received_from,
                read_at=_aware(read_at),
            )
            for (
                ref,
                member_id,
                received_at,
                disposition,
                vote,
                evidence,
                own_text,
                reason,
                how,
                message_id,
                sender,
                strength,
                dated,
                received_from,
                read_at,
            ) in rows
        ]

    def forget_mailbox(self, mailbox: str) -> int:
        """Forget a mailbox read by mistake (the outbox, say): its position and every
        message recorded from it, and their kept bytes. Returns how many messages.

        Refused (StoreError, nothing changed) while any of them is a vote or a reply in
        review: forgetting it would lose a member's vote. A mailbox never read: 0.
        """
        t = MessageRow.__table__  # type: ignore[attr-defined]
        ties = MessageTieRow.__table__  # type: ignore[attr-defined]
        raw = MessageRawRow.__table__  # type: ignore[attr-defined]
        box = MailboxRow.__table__  # type: ignore[attr-defined]
        with self._session() as s:
            counted = dict(
                s.execute(
                    sa_select(t.c.disposition, func.count())
                    .where(t.c.mailbox == mailbox)
                    .group_by(t.c.disposition)
                ).all()
            )
            held = {k: v for k, v in counted.items() if k != Disposition.IGNORED.value}
            if held:
                words = {"vote": ("vote", "votes"), "needs_review": ("in review", "in review")}
                what = ", ".join(
                    f"{v} {words[k][v != 1]}" for k, v in sorted(held.items(), reverse=True)
                )
                raise StoreError(
                    f"{mailbox} holds replies that count or await review ({what}); "
                    "it is not forgotten"
                )
            ids = sa_select(t.c.id).where(t.c.mailbox == mailbox)
            shas = [
                sha for (sha,) in s.execute(sa_select(t.c.sha256).where(t.c.mailbox == mailbox))
            ]
            s.execute(ties.delete().where(ties.c.message.in_(ids)))
            s.execute(t.delete().where(t.c.mailbox == mailbox))
            s.execute(box.delete().where(box.c.key == mailbox))
            still = sa_select(t.c.sha256).where(t.c.sha256 == raw.c.sha256).exists()
            for chunk in _chunks(sorted(set(shas)), 500):
                s.execute(raw.delete().where(raw.c.sha256.in_(chunk), ~still))
            s.commit()
        return sum(counted.values())

    def forget_messages(self, refs: Sequence[int]) -> int:
        """Forget these recorded messages (by ref), tied to no member, and their kept bytes:
        the next read of their mailbox from the start (a local folder's every read, an IMAP
        `tally --rescan`) reads them again as new. A message tied to a member is never
        forgotten here. Returns how many were."""
        t = MessageRow.__table__  # type: ignore[attr-defined]
        ties = MessageTieRow.__table__  # type: ignore[attr-defined]
        raw = MessageRawRow.__table__  # type: ignore[attr-defined]
        ids = sorted(set(refs))
        n = 0
        with self._session() as s:
            for i in range(0, len(ids), 500):
                mine = sa_select(t.c.id).where(
                    t.c.id.in_(ids[i : i + 500]), t.c.member_id.is_(None)
                )
                rows = s.execute(sa_select(t.c.id, t.c.sha256).where(t.c.id.in_(mine))).all()
                gone = [ref for ref, _ in rows]
                s.execute(ties.delete().where(ties.c.message.in_(gone)))
                s.execute(t.delete().where(t.c.id.in_(gone)))
                still = sa_select(t.c.sha256).where(t.c.sha256 == raw.c.sha256).exists()
                s.execute(raw.delete().where(raw.c.sha256.in_([sha for _, sha in rows]), ~still))
                n += len(gone)
            s.commit()
        return n

    def raw_message(self, sha256: str) -> bytes | None:
        """The raw bytes of a message, as received, by its SHA-256 (hex); None when they
        were not kept (a message tied to no motion, too large to read, or recorded before
        migration 4)."""
        r = MessageRawRow.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as connection:
            data = connection.execute(sa_select(r.c.data).where(r.c.sha256 == sha256)).scalar()
        return zlib.decompress(data) if data is not None else None

    def messages(self, motion_id: str | None) -> list[RecordedMessage]:
        """Every message recorded on this motion, whatever became of it (also those tied to
        it as a further motion, with that tie's member), in receipt order; None: every
        message tied to no motion."""
        t = MessageRow.__table__  # type: ignore[attr-defined]
        ties = MessageTieRow.__table__  # type: ignore[attr-defined]
        raw = MessageRawRow.__table__  # type: ignore[attr-defined]
        kept = sa_select(raw.c.sha256).where(raw.c.sha256 == t.c.sha256).exists().label("kept")
        columns = [c for c in t.c if c.name != "id"]
        if motion_id is None:
            queries = [sa_select(t.c.id, *columns, kept).where(t.c.motion_id.is_(None))]
        else:
            tied_columns = [
                (ties.c.motion_id if c is t.c.motion_id else ties.c.member_id)
                if c in (t.c.motion_id, t.c.member_id)
                else c
                for c in columns
            ]
            queries = [
                sa_select(t.c.id, *columns, kept).where(t.c.motion_id == motion_id),
                sa_select(t.c.id, *tied_columns, kept)
                .join(ties, ties.c.message == t.c.id)
                .where(ties.c.motion_id == motion_id),
            ]
        with self.engine.connect() as connection:
            rows = [row._mapping for q in queries for row in connection.execute(q)]
        found = [_recorded(row) for row in rows]
        return sorted(found, key=lambda m: (m.received_at, m.ref))

    def ignored(self, motion_id: str | None) -> list[IgnoredMessage]:
        """Ignored messages: those tied to this motion, plus those tied to none."""
        with self._session() as s:
            query = select(MessageRow).where(MessageRow.disposition == Disposition.IGNORED.value)
            if motion_id is not None:
                query = query.where(
                    or_(col(MessageRow.motion_id) == motion_id, col(MessageRow.motion_id).is_(None))
                )
            rows = s.exec(query.order_by(col(MessageRow.received_at), col(MessageRow.id))).all()
            return [
                IgnoredMessage(
                    r.id or 0,
                    r.message_id,
                    r.sender,
                    r.subject,
                    r.reason,
                    r.motion_id,
                    _aware(r.received_at),
                )
                for r in rows
            ]

    # --- rulings -------------------------------------------------------------

    def record_ruling(self, ruling: Ruling) -> None:
        """Record the secretary's ruling (with its undo, if it comes undone: an audit
        folder replays it so); later rulings supersede earlier ones."""
        self.record_rulings([ruling])

    def record_rulings(self, rulings: Sequence[Ruling]) -> None:
        """Record several rulings (and any undo each carries) in one transaction: all of
        them or, if the database refuses one, none."""
        with self._session() as s:
            for ruling in rulings:
                row = RulingRow(
                    motion_id=ruling.motion_id,
                    member_id=ruling.member_id,
                    vote=ruling.vote.value if ruling.vote else None,
                    reason=ruling.reason,
                    ruled_by=ruling.ruled_by,
                    ruled_at=_db_time(ruling.ruled_at),
                )
                s.add(row)
                if ruling.undone is not None:
                    s.flush()  # The undo names the ruling's row.
                    assert row.id is not None
                    s.add(_undo_row(row.id, ruling.undone))
            s.commit()

    def rulings(self, motion_id: str) -> list[Ruling]:
        """Every ruling on this motion, oldest first, each with its undo (or None)."""
        with self._session() as s:
            rows = s.exec(
                select(RulingRow, RulingUndoRow)
                .join(
                    RulingUndoRow,
                    col(RulingUndoRow.ruling_id) == col(RulingRow.id),
                    isouter=True,
                )
                .where(RulingRow.motion_id == motion_id)
                .order_by(col(RulingRow.ruled_at), col(RulingRow.id))
            ).all()
            return [_ruling(r, u) for r, u in rows]

    def undo_ruling(self, motion_id: str, member_id: str, undo: Undo) -> Ruling | None:
        """Record the undo of the member's latest ruling that holds (the latest by time,
        as the tally orders them); the ruling stays recorded. Returns that ruling, undone,
        or None when no ruling of theirs holds (nothing recorded).

        One transaction that no other writer can enter: two undos at once undo two
        rulings, one each, never the same one twice.
        """
        t = RulingRow.__table__  # type: ignore[attr-defined]
        u = RulingUndoRow.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as c:
            _begin_exclusive(c)
            held = sa_select(u.c.id).where(u.c.ruling_id == t.c.id).exists()
            row = c.execute(
                sa_select(t)
                .where(t.c.motion_id == motion_id, t.c.member_id == member_id, ~held)
                .order_by(t.c.ruled_at.desc(), t.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                c.rollback()
                return None
            undone = _undo_row(row.id, undo)
            c.execute(
                u.insert().values(
                    ruling_id=undone.ruling_id,
                    reason=undone.reason,
                    undone_by=undone.undone_by,
                    undone_at=undone.undone_at,
                )
            )
            c.commit()
        return _ruling(row, undone)


def _undo_row(ruling_id: int, undo: Undo) -> RulingUndoRow:
    return RulingUndoRow(
        ruling_id=ruling_id,
        reason=undo.reason,
        undone_by=undo.undone_by,
        undone_at=_db_time(undo.undone_at),
    )


def _ruling(r: Any, undo: RulingUndoRow | None) -> Ruling:
    """A ruling row (ORM or Core) and its undo row, if any, as a Ruling."""
    return Ruling(
        r.motion_id,
        r.member_id,
        Vote(r.vote) if r.vote else None,
        r.reason,
        r.ruled_by,
        _aware(r.ruled_at),
        None if undo is None else Undo(undo.reason, undo.undone_by, _aware(undo.undone_at)),
    )


def _recorded(m: Any) -> RecordedMessage:
    return RecordedMessage(
        ref=m["id"],
        mailbox=m["mailbox"],
        uidvalidity=m["uidvalidity"],
        uid=m["uid"],
        message_id=m["message_id"],
        sha256=m["sha256"],
        sender=m["sender"],
        subject=m["subject"],
        size=m["size"],
        received_at=_aware(m["received_at"]),
        received_from=m["received_from"],
        motion_id=m["motion_id"],
        member_id=m["member_id"],
        how=m["how"],
        disposition=Disposition(m["disposition"]),
        vote=Vote(m["vote"]) if m["vote"] else None,
        evidence=m["evidence"],
        own_text=m["own_text"],
        reason=m["reason"],
        recorded_at=_aware(m["recorded_at"]),
        strength=m["strength"],
        dated=_aware(m["dated"]) if m["dated"] is not None else None,
        kept=bool(m["kept"]),
    )


def _withdrawal(row: MotionRow) -> Withdrawal | None:
    if row.withdrawn_at is None:
        return None
    return Withdrawal(row.withdrawn_by, row.withdrawn_reason, _aware(row.withdrawn_at))


def _notice(m: Any) -> NoticeRecord:
    return NoticeRecord(
        motion_id=m["motion_id"],
        kind=NoticeKind(m["kind"]),
        recipient=m["recipient"],
        key=m["key"],
        name=m["name"],
        address=m["address"],
        token=m["token"],
        message_id=m["message_id"],
        refers_to=m["refers_to"],
        summary=m["summary"],
        status=BallotStatus(m["status"]),
        detail=m["detail"],
        created_at=_aware(m["created_at"]),
        sent_at=_aware(m["sent_at"]) if m["sent_at"] is not None else None,
    )


def _notice_row(n: NoticeRecord) -> dict[str, Any]:
    return {
        "motion_id": n.motion_id,
        "kind": n.kind.value,
        "recipient": n.recipient,
        "key": n.key,
        "name": _text(n.name),
        "address": n.address,
        "token": n.token,
        "message_id": n.message_id,
        "refers_to": _text(n.refers_to),
        "summary": _text(n.summary),
        "status": n.status.value,
        "detail": _text(n.detail),
        "created_at": _db_time(n.created_at),
        "sent_at": _db_time(n.sent_at) if n.sent_at is not None else None,
    }


def _keep_raw(s: Session, messages: Sequence[NewMessage]) -> None:
    """Store the kept raw bytes of these messages, once per SHA-256."""
    raws = {m.sha256: m for m in messages if m.raw}
    if not raws:
        return
    r = MessageRawRow.__table__  # type: ignore[attr-defined]
    have = set(s.execute(sa_select(r.c.sha256).where(r.c.sha256.in_(sorted(raws)))).scalars())
    new = [
        {"sha256": sha, "size": m.size, "data": m.raw} for sha, m in raws.items() if sha not in have
    ]
    if new:
        s.execute(r.insert(), new)


def _lock_holder(c: Connection, motion_id: str) -> LockHolder | None:
    t = ProposeLockRow.__table__  # type: ignore[attr-defined]
    row = c.execute(
        sa_select(t.c.pid, t.c.host, t.c.since).where(t.c.motion_id == motion_id)
    ).first()
    return None if row is None else LockHolder(row.pid, row.host, _aware(row.since))


def _write_lock_row(c: Connection, motion_id: str, me: LockHolder, token: str) -> None:
    t = ProposeLockRow.__table__  # type: ignore[attr-defined]
    c.execute(t.delete().where(t.c.motion_id == motion_id))
    c.execute(
        t.insert().values(
            motion_id=motion_id, pid=me.pid, host=me.host, since=_db_time(me.since), holder=token
        )
    )


def _delete_lock_row(c: Connection, motion_id: str, token: str) -> None:
    t = ProposeLockRow.__table__  # type: ignore[attr-defined]
    c.execute(t.delete().where(t.c.motion_id == motion_id, t.c.holder == token))


def _text(value: str) -> str:
    # The last line before the database: whatever the analysis let through, NUL (which
    # PostgreSQL refuses) and lone surrogates (which no UTF-8 encoder takes) are U+FFFD.
    return storable(value)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _member_row(motion_id: str, position: int, m: Member) -> MemberRow:
    return MemberRow(
        motion_id=motion_id,
        member_id=m.id,
        position=position,
        name=m.name,
        email=m.email,
        aliases=json.dumps(list(m.aliases)),
        role=m.role,
    )


def _ballot_row(position: int, b: BallotRecord) -> BallotRow:
    return BallotRow(
        motion_id=b.motion_id,
        recipient=b.recipient,
        position=position,
        name=b.name,
        address=b.address,
        voting=b.voting,
        token=b.token,
        message_id=b.message_id,
        status=b.status.value,
        detail=b.detail,
        sent_at=_db_time(b.sent_at) if b.sent_at is not None else None,
    )


def _ballot(r: BallotRow) -> BallotRecord:
    return BallotRecord(
        motion_id=r.motion_id,
        recipient=r.recipient,
        name=r.name,
        address=r.address,
        voting=r.voting,
        token=r.token,
        message_id=r.message_id,
        status=BallotStatus(r.status),
        detail=r.detail,
        sent_at=_aware(r.sent_at) if r.sent_at else None,
    )


def _motion_from_rows(row: MotionRow, members: Sequence[Any]) -> Motion:
    committee = Committee(
        id=row.committee_id,
        name=row.committee_name,
        timezone=row.timezone,
        members=tuple(
            Member(
                member_id, name, email, tuple(json.loads(aliases)) if aliases != "[]" else (), role
            )
            for member_id, name, email, aliases, role in members
        ),
        observers=tuple(Observer(n, e) for n, e in json.loads(row.observers)),
    )
    return Motion(
        id=row.id,
        title=row.title,
        text=row.text,
        committee=committee,
        proposer=row.proposer,
        threshold=Threshold(row.threshold),
        quorum=row.quorum,
        closes=_aware(row.closes),
        require_token=row.require_token,
        authority=row.authority,
        casting_vote=CastingVote(row.casting_vote),
        attachments=tuple(Path(p) for p in json.loads(row.attachments)),
        links=tuple(json.loads(row.links)),
        closes_spec=row.closes_spec,
    )
