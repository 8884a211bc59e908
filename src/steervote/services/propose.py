"""Propose a motion: validate, record it and its ballots, send each unsent ballot.

Idempotent and resumable: each ballot's status is committed as soon as it is
known, so a re-run sends only what was not sent; a motion whose text, papers,
electorate, rule or deadline changed after any ballot went out is refused.

A member never gets a ballot twice because of us. Each ballot is recorded as `sending`
before it is handed to the server; a ballot a run finds still `sending` was handed over
by a run that stopped before hearing the server's answer, so it may have been delivered:
like a connection lost after DATA, it is recorded as sent with its delivery unconfirmed,
never sent again unless the secretary asks for it by name (`resend`). This holds only
while one run at a time proposes a motion: plan and propose are called under
Store.propose_lock.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

from steervote.adapters.known_stores import KnownStore, still_there
from steervote.adapters.store import RecordedMotion, Store
from steervote.core.address import needs_smtputf8
from steervote.core.ballot import (
    Addressing,
    Attachment,
    ballot_message_id,
    fingerprint,
    motion_digest,
    new_token,
    papers_of,
)
from steervote.core.deadline import parse_duration
from steervote.core.motion import Member, Motion
from steervote.core.motion_file import DEFAULT_MAX_ATTACHMENT_BYTES
from steervote.core.press import BallotPress
from steervote.core.records import (
    AddressChange,
    Amendment,
    BallotRecord,
    BallotStatus,
    Disposition,
    RecordedMessage,
)
from steervote.errors import (
    InvalidInput,
    MailServerError,
    MotionChanged,
    MotionInvalid,
    SendingPaused,
)


class SendOutcome(Protocol):
    """What a transport says about one message."""

    @property
    def ok(self) -> bool: ...
    @property
    def code(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def delivery_unknown(self) -> bool: ...


class Transport(Protocol):
    """SMTP or the local outbox."""

    def send(
        self, msg: EmailMessage | bytes, *, sender: str, recipients: Sequence[str]
    ) -> SendOutcome: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """What propose will do; shown before asking for confirmation."""

    motion: Motion
    fingerprint: str
    attachments: tuple[Attachment, ...]
    recorded: bool  # the motion is already in the store
    to_send: tuple[BallotRecord, ...]  # ballots and copies not yet sent (and those resent)
    already_sent: int
    digest: str
    # Left `sending` by a run that stopped: delivery unconfirmed, never sent again.
    interrupted: tuple[BallotRecord, ...] = ()
    # Recorded earlier as sent with their delivery unconfirmed (and not resent now).
    unconfirmed: tuple[BallotRecord, ...] = ()
    # The digest of the recorded motion this plan replaces (None: there is none).
    replaces: str | None = None
    # Members added after the ballots went out (`--add-member`), recorded before sending.
    amendment: Amendment | None = None


@dataclass(frozen=True, slots=True)
class ProposeResult:
    """Every ballot and copy of the motion, with its status after this run."""

    plan: Plan
    ballots: tuple[BallotRecord, ...]
    sent_now: int
    failed_now: int
    error: str | None  # the transport gave up part-way (ballots left pending)
    # Handed over, but the server's answer never came (the connection broke, or the run
    # sending it stopped): recorded as sent (so never sent twice) with a detail saying so;
    # someone should check the server's log.
    unconfirmed_now: int = 0


UNCONFIRMED = "delivery unconfirmed"
INTERRUPTED = (
    f"{UNCONFIRMED}: the propose sending it stopped after handing it to the server, "
    "before the server confirmed it"
)


_WENT_OUT = (BallotStatus.SENT, BallotStatus.SENDING)


def any_went_out(ballots: Sequence[BallotRecord]) -> bool:
    """Whether any of these ballots or copies was handed to the server (confirmed or not)."""
    return any(b.status in _WENT_OUT for b in ballots)


_ANY_DAY = datetime(2000, 1, 1, tzinfo=UTC)


def content_digest(motion: Motion, attachments: Sequence[Attachment]) -> str:
    """SHA-256 (hex) over what members vote on (as motion_digest) but not the motion's id,
    and with a relative deadline as written ("7d"), not the date it gave: the same motion
    file proposed under another id, or on another day, has the same one."""
    relative = bool(parse_duration(motion.closes_spec))
    fixed = replace(motion, id="", closes=_ANY_DAY if relative else motion.closes)
    spec = motion.closes_spec if relative else ""
    return hashlib.sha256(f"{motion_digest(fixed, attachments)}\x00{spec}".encode()).hexdigest()


def elsewhere(
    entries: Sequence[KnownStore], motion_id: str, content: str, here: str
) -> tuple[KnownStore, ...]:
    """The stores other than `here` (known_stores.store_name) that still exist and hold
    this motion: by its id, or by its content under another id (`content_digest`). Newest
    first, one entry a store."""
    found: dict[str, KnownStore] = {}
    for e in sorted(entries, key=lambda e: (e.motion_id != motion_id, -e.at.timestamp())):
        if e.store != here and (e.motion_id == motion_id or e.content == content):
            found.setdefault(e.store, e)
    return tuple(e for e in found.values() if still_there(e.store))


def unconfirmed(ballot: BallotRecord) -> bool:
    """Whether a ballot was handed to the server without the server confirming it."""
    return ballot.status is BallotStatus.SENDING or (
        ballot.status is BallotStatus.SENT and ballot.detail.startswith(UNCONFIRMED)
    )


def read_attachments(
    motion: Motion, max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> tuple[Attachment, ...]:
    """Load the motion's papers (validated when the motion was loaded); MotionInvalid if one
    cannot be read, is no longer a regular file, or they grew past max_bytes since.

    Never reads more than max_bytes + 1 bytes in all, nor blocks on a pipe put in a file's place.
    """
    out = []
    total = 0
    for path in motion.attachments:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise MotionInvalid(f"{path}: attachment cannot be read: {e.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise MotionInvalid(f"{path}: attachment is no longer a regular file")
            content = f.read(max_bytes - total + 1)
        total += len(content)
        if total > max_bytes:
            raise MotionInvalid(
                f"{path}: the attachments grew past {max_bytes} bytes "
                "([ballot] max_attachment_bytes) since they were checked"
            )
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        out.append(Attachment(path.name, content, maintype, subtype))
    return tuple(out)


def smtputf8_addresses(motion: Motion, addressing: Addressing) -> list[str]:
    """The addresses (sender, reply-to, recipients) only a server offering SMTPUTF8 carries."""
    addresses = [
        parseaddr(addressing.sender)[1],
        parseaddr(addressing.reply_to)[1],
        *(m.email for m in motion.committee.members),
        *(o.email for o in motion.committee.observers),
    ]
    return [a for a in addresses if needs_smtputf8(a)]


def check_server(
    motion: Motion,
    addressing: Addressing,
    attachments: Sequence[Attachment],
    *,
    extensions: Mapping[str, str] | None,
    server: str,
) -> None:
    """Refuse (InvalidInput) before anything is recorded what the server cannot take.

    `extensions` are the server's EHLO keywords (lower case) and their parameters, or None
    for the local outbox, which takes anything. RFC 6531: a message to or from a non-ASCII
    address needs SMTPUTF8; RFC 1870: SIZE is the largest message the server takes.
    """
    if extensions is None:
        return
    needing = smtputf8_addresses(motion, addressing)
    if needing and "smtputf8" not in extensions:
        more = f" and {len(needing) - 3} more" if len(needing) > 3 else ""
        raise InvalidInput(
            f"{server} does not offer SMTPUTF8, which mail to or from "
            f"{', '.join(repr(a) for a in needing[:3])}{more} needs: give them an ASCII address "
            "or use a server that offers it; nothing was recorded or sent"
        )
    limit = extensions.get("size", "")
    size = ballot_size(attachments)
    if limit.isdigit() and 0 < int(limit) < size:
        raise InvalidInput(
            f"{server} takes messages of at most {int(limit)} bytes, and a ballot with its "
            f"attachments is about {size}: send smaller papers or links; nothing was recorded "
            "or sent"
        )


def ballot_size(attachments: Sequence[Attachment]) -> int:
    """About how many bytes a ballot is on the wire: base64 attachments and the text."""
    return sum(len(a.content) * 4 // 3 * 78 // 76 + 400 for a in attachments) + 20_000


def plan(
    motion: Motion,
    store: Store | None,
    addressing: Addressing,
    *,
    now: datetime,
    attachments: tuple[Attachment, ...] | None = None,
    resend: Sequence[str] = (),
    amend: Amendment | None = None,
) -> Plan:
    """Check the motion against what was recorded; say what a run would send. Writes nothing.

    With no store (a dry run before any database exists) the motion is treated as new.
    `attachments` are the motion's papers if already read (read_attachments). `resend`
    names members (id or address; an observer by address) whose ballot was handed over
    unconfirmed, to be sent again: InvalidInput for any other. `amend` (its `added` ids,
    reason, by, at) admits members the motion file adds after the ballots went out, and
    nothing else changed: they get ballots, and the motion's digest changes, visibly.
    """
    if attachments is None:
        attachments = read_attachments(motion)
    recorded = store.recorded_motion(motion.id) if store is not None else None
    if recorded is not None and recorded.withdrawn is not None:
        w = recorded.withdrawn
        raise InvalidInput(
            f"motion {motion.id} was withdrawn on {w.at:%Y-%m-%d %H:%M} UTC ({w.reason}): "
            "no ballot is sent for it (propose it under a new id to vote again)"
        )
    spec = motion.closes_spec
    if (
        recorded is not None
        and parse_duration(spec)
        and spec == recorded.motion.closes_spec
        and store is not None
        and any(b.status in _WENT_OUT for b in store.ballots(motion.id))
    ):
        # "closes: 7d" means 7 days from when the first ballot went out, not from now; while
        # none has (the server was down), the clock has not started: it counts from now.
        motion = replace(motion, closes=recorded.motion.closes)
    digest = motion_digest(motion, attachments)
    fp = fingerprint(motion, attachments)
    ballots = store.ballots(motion.id) if store is not None and recorded else []
    sent = [b for b in ballots if b.status in _WENT_OUT]
    if amend is not None:
        if resend:
            raise InvalidInput(f"--resend is a run of its own: run it without {_options(amend)}")
        if recorded is None or not sent:
            raise InvalidInput(
                f"{_options(amend)}: no ballot of motion {motion.id} went out yet; propose "
                "sends to every member as the motion file lists them, without an amendment"
            )
        assert store is not None
        return _amended(motion, recorded, store, addressing, attachments, amend)
    # Everything in the file propose keeps but the digest does not cover (aliases, names,
    # roles, observers, ...) is compared too: nothing in the file is dropped silently.
    if recorded is None or recorded.digest != digest or differences(recorded.motion, motion):
        if recorded is not None and sent:
            raise MotionChanged(_changed(motion, recorded, len(sent)))
        if resend:
            raise InvalidInput(
                f"--resend: no ballot of motion {motion.id} was sent yet; propose sends them all"
            )
        fresh = tuple(_new_ballots(motion, addressing))
        return Plan(
            motion,
            fp,
            attachments,
            False,
            fresh,
            0,
            digest,
            replaces=recorded.digest if recorded else None,
        )
    assert store is not None
    again = _resent(motion.id, ballots, resend)
    todo = tuple(
        b for b in ballots if b.status in (BallotStatus.PENDING, BallotStatus.FAILED) or b in again
    )
    if todo and recorded.motion.closes <= now:
        # A relative deadline keeps the first run's date, which may have passed since:
        # a ballot sent now would ask for a vote that can no longer count.
        raise InvalidInput(
            f"motion {motion.id}: voting closed at "
            f"{recorded.motion.closes.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
            f"{_ballots(len(todo))} never sent will not be sent now "
            "(propose it under a new id to vote again)"
        )
    return Plan(
        recorded.motion if recorded else motion,
        fp,
        attachments,
        True,
        todo,
        len(ballots) - len(todo),
        digest,
        interrupted=tuple(
            b for b in ballots if b.status is BallotStatus.SENDING and b not in again
        ),
        unconfirmed=tuple(
            b
            for b in ballots
            if b.status is BallotStatus.SENT and unconfirmed(b) and b not in again
        ),
        replaces=recorded.digest,
    )


def read_before(store: Store, plan: Plan) -> list[tuple[RecordedMessage, str]]:
    """The messages, each with its member's id, read before `plan.amendment` and tied to no
    member, from an address it gives a member (an added member's, a new email or alias).
    Their reading is the old electorate's: recording the amendment forgets them, so that
    the next read of the mailbox from the start reads them with the new one, as `verify`
    re-reads them."""
    from steervote.core.address import mailbox_addresses

    a = plan.amendment
    if a is None:
        return []
    members = {m.id: m for m in plan.motion.committee.members}
    owner: dict[str, str] = {}
    for member_id in a.added:
        owner.update((x.lower(), member_id) for x in members[member_id].addresses())
    for c in a.changed:
        given = {c.new_email, *c.new_aliases} - {c.old_email, *c.old_aliases}
        owner.update((x.lower(), c.member_id) for x in given)
    found = []
    for m in (*store.messages(plan.motion.id), *store.messages(None)):
        whose = [owner[x] for x in mailbox_addresses(m.sender) if x in owner]
        if m.member_id is None and whose:
            found.append((m, whose[0]))
    return found


def _refuse_moving_a_counted_address(
    store: Store, motion_id: str, changes: Sequence[AddressChange]
) -> None:
    """InvalidInput when an amendment takes from a member an address that a reply counted
    for them, or in review for them, came from: the store would keep crediting that reply
    to them while a recount (`verify`) credits it to whoever holds the address now, or
    to no one. A ruling settles such a reply instead."""
    from steervote.core.address import mailbox_addresses

    taken = {
        c.member_id: {a.lower() for a in (c.old_email, *c.old_aliases)}
        - {a.lower() for a in (c.new_email, *c.new_aliases)}
        for c in changes
    }
    for m in store.messages(motion_id):
        if m.member_id not in taken or m.disposition is Disposition.IGNORED:
            continue
        moved = taken[m.member_id] & set(mailbox_addresses(m.sender))
        if moved:
            raise InvalidInput(
                f"--amend-member {m.member_id}: {sorted(moved)[0]} is an address their reply "
                f"of {m.received_at:%d %b %H:%M} UTC came from ({m.disposition.value}), and "
                "taking it from them would leave that reply credited to a member who no "
                "longer has the address: keep it in their aliases; if the reply was not "
                f"theirs, record a ruling (steervote rule {motion_id} {m.member_id} …)"
            )


def _amended(
    motion: Motion,
    recorded: RecordedMotion,
    store: Store,
    addressing: Addressing,
    attachments: tuple[Attachment, ...],
    amend: Amendment,
) -> Plan:
    """The plan of an amendment: the file's motion is the recorded one plus the members
    added and the addresses (email, aliases) of the members amended, and nothing else (the
    quorum may follow a larger electorate); MotionChanged or InvalidInput otherwise. A
    changed email is taken only while that member's ballot has not gone out (failed or
    pending): it then goes, with the same token, to the new address."""
    old = recorded.motion
    before = {m.id: m for m in old.committee.members}
    now_in_file = {m.id: m for m in motion.committee.members}
    _check_added(motion, before, now_in_file, amend)
    changes = tuple(_address_change(motion.id, before, now_in_file, i) for i in amend.amended)
    ballots = store.ballots(motion.id)
    voting = {b.recipient: b for b in ballots if b.voting}
    for c in changes:
        _refuse_if_went_out(c, voting.get(c.member_id))
    _refuse_moving_a_counted_address(store, motion.id, changes)
    restored = _as_recorded(motion, recorded, amend)
    if differences(old, restored) or motion_digest(restored, attachments) != recorded.digest:
        went_out = sum(b.status in _WENT_OUT for b in ballots)
        raise MotionChanged(_changed(restored, recorded, went_out, besides=_options(amend)))
    digest = motion_digest(motion, attachments)
    added = set(amend.added)
    new = tuple(b for b in _new_ballots(motion, addressing) if b.voting and b.recipient in added)
    emails = {c.member_id: c.new_email for c in changes}
    waiting = tuple(
        replace(b, address=emails[b.recipient]) if b.voting and b.recipient in emails else b
        for b in ballots
        if b.status in (BallotStatus.PENDING, BallotStatus.FAILED)
    )
    return Plan(
        motion,
        fingerprint(motion, attachments),
        attachments,
        True,
        waiting + new,
        len(ballots) - len(waiting),
        digest,
        replaces=recorded.digest,
        amendment=replace(amend, old_digest=recorded.digest, new_digest=digest, changed=changes),
    )


def _options(amend: Amendment) -> str:
    """The options that asked for an amendment, as typed: '--add-member ann-other'."""
    return " ".join(
        [
            *(f"--add-member {i}" for i in amend.added),
            *(f"--amend-member {i}" for i in amend.amended),
        ]
    )


def _check_added(
    motion: Motion, before: Mapping[str, Member], now: Mapping[str, Member], amend: Amendment
) -> None:
    """InvalidInput unless every member the file adds is named with --add-member, and every
    member so named is new and in the file; MotionChanged when the file drops a member."""
    for member_id in amend.added:
        if member_id in before:
            raise InvalidInput(
                f"--add-member {member_id}: already a member of {motion.id} (a member's changed "
                f"address is taken with --amend-member {member_id})"
            )
        if member_id not in now:
            raise InvalidInput(
                f"--add-member {member_id}: not in the motion file's committee; add them "
                "there first"
            )
    unnamed = sorted(set(now) - set(before) - set(amend.added))
    if unnamed:
        raise InvalidInput(
            f"the motion file also adds {', '.join(unnamed)}: name each with --add-member"
        )
    gone = sorted(set(before) - set(now))
    if gone:
        raise MotionChanged(
            f"motion {motion.id}: the motion file drops {', '.join(gone)}, whose ballots went "
            "out; an electorate can be amended only by adding members or changing addresses"
        )


def _address_change(
    motion_id: str, before: Mapping[str, Member], now: Mapping[str, Member], member_id: str
) -> AddressChange:
    """What --amend-member MEMBER changes: the member's email and aliases as recorded and as
    the motion file now gives them; InvalidInput for a non-member or nothing to change."""
    was, will = before.get(member_id), now.get(member_id)
    if was is None or will is None:
        raise InvalidInput(
            f"--amend-member {member_id}: not a member of {motion_id} "
            + ("(a member left off the roll is added with --add-member)" if will else "")
        )
    if (was.email, was.aliases) == (will.email, will.aliases):
        raise InvalidInput(
            f"--amend-member {member_id}: the motion file gives {member_id} the email and "
            f"aliases recorded ({was.email}{_aliases(was.aliases)}); edit them in the "
            "committee file first"
        )
    return AddressChange(member_id, was.email, will.email, was.aliases, will.aliases)


def _aliases(aliases: Sequence[str]) -> str:
    return f"; aliases {', '.join(aliases)}" if aliases else "; no aliases"


def _refuse_if_went_out(change: AddressChange, ballot: BallotRecord | None) -> None:
    """InvalidInput when the member's email changes but their ballot already went out (sent,
    or handed over unconfirmed): a ballot is never sent to a second address."""
    if ballot is None or change.new_email == change.old_email or ballot.status not in _WENT_OUT:
        return
    how = "its delivery unconfirmed" if unconfirmed(ballot) else "the server took it"
    raise InvalidInput(
        f"--amend-member {change.member_id}: their ballot already went to {change.old_email} "
        f"({how}), and a member never gets a second ballot: they can reply from "
        f"{change.old_email}; or keep {change.old_email} as their email in the committee "
        f"file and add {change.new_email} under aliases (replies from an alias count), then "
        "run this again"
    )


def _as_recorded(motion: Motion, recorded: RecordedMotion, amend: Amendment) -> Motion:
    """The file's motion without the amendment: the members added left out, the members
    amended given their recorded addresses, in the recorded order (and, when members are
    added, the recorded quorum). What differs from the recorded motion then is unapplied."""
    before = {m.id: m for m in recorded.motion.committee.members}
    amended = set(amend.amended)
    kept = tuple(
        replace(m, email=before[m.id].email, aliases=before[m.id].aliases) if m.id in amended else m
        for m in motion.committee.members
        if m.id not in amend.added
    )
    return replace(
        motion,
        committee=replace(motion.committee, members=_in_recorded_order(kept, recorded)),
        quorum=recorded.motion.quorum if amend.added else motion.quorum,
    )


def _in_recorded_order(members: Sequence[Member], recorded: RecordedMotion) -> tuple[Member, ...]:
    order = {m.id: i for i, m in enumerate(recorded.motion.committee.members)}
    return tuple(sorted(members, key=lambda m: order.get(m.id, len(order))))


def _resent(
    motion_id: str, ballots: Sequence[BallotRecord], names: Sequence[str]
) -> set[BallotRecord]:
    """The ballots named to be sent again; InvalidInput for a name that is not one of them."""
    by_name: dict[str, BallotRecord] = {}
    for b in ballots:
        by_name[b.recipient.lower()] = by_name[b.address.lower()] = b
    out = set()
    for name in names:
        found = by_name.get(name.strip().lower())
        if found is None:
            raise InvalidInput(f"--resend {name}: motion {motion_id} has no ballot for {name!r}")
        if found.status is BallotStatus.SENT and not unconfirmed(found):
            raise InvalidInput(
                f"--resend {name}: the ballot of {found.name} <{found.address}> was delivered "
                "(the server confirmed it); --resend sends again only a ballot whose delivery "
                "is unconfirmed"
            )
        out.add(found)
    return out


def _changed(motion: Motion, recorded: RecordedMotion, sent: int, *, besides: str = "") -> str:
    """Why a changed motion file is refused once ballots went out: what changed (each
    member's change in detail), and how a change that can be applied is (an amendment).
    `besides`: the amendment asked for, whose own changes are not named."""
    what = differences(recorded.motion, motion) or [Difference("attachments")]
    labels = list(dict.fromkeys(d.label for d in what))
    details = [d.detail for d in what if d.detail]
    kinds = {d.kind for d in what}
    ways = ["propose it under a new id"]
    if "added" in kinds:
        ways.append("a member left off the roll is added with --add-member ID --reason TEXT")
    if "address" in kinds:
        ways.append(
            "a member's changed email or aliases are taken with --amend-member ID --reason TEXT"
        )
    sep = "; "
    return (
        f"motion {motion.id}: {f'besides {besides}, ' if besides else ''}"
        f"{', '.join(labels)} changed after {_ballots(sent)} went out"
        f"{f' ({sep.join(details)})' if details else ''}; refusing to send a different "
        f"motion under the same id ({'; '.join(ways)})"
    )


@dataclass(frozen=True, slots=True)
class Difference:
    """One change a motion file makes to the recorded motion: the field (`label`, as the
    refusal names it), the change in words (empty for a field named whole), and its kind:
    "added" (a member added), "address" (a member's email or aliases), or "other"."""

    label: str
    detail: str = ""
    kind: str = "other"


_FIELDS = (
    ("title", "title"),
    ("text", "text"),
    ("threshold", "threshold"),
    ("quorum", "quorum"),
    ("deadline", "closes"),
    ("authority", "authority"),
    ("casting_vote", "casting_vote"),
    ("links", "links"),
    ("proposer", "proposer"),
    ("require_token", "require_token"),
)


def differences(old: Motion, new: Motion) -> list[Difference]:
    """What the motion `new` (read from its file) changes in `old` (as recorded).
    Attachments are compared by the digest (their paths may differ), not here."""
    out = [Difference(label) for label, name in _FIELDS if getattr(old, name) != getattr(new, name)]
    c, d = old.committee, new.committee
    out += [
        Difference(label, detail)
        for label, detail, a, b in (
            ("committee", "its id", c.id, d.id),
            ("committee", "its name", c.name, d.name),
            ("committee", "its timezone", c.timezone, d.timezone),
            ("observers", "", c.observers, d.observers),
        )
        if a != b
    ]
    return out + _member_differences(c.members, d.members)


def _member_differences(old: Sequence[Member], new: Sequence[Member]) -> list[Difference]:
    """Members added, dropped, reordered, and each member's changed fields."""
    was = {m.id: m for m in old}
    now = {m.id: m for m in new}
    out = []
    added = [i for i in now if i not in was]
    if added:
        out.append(Difference("electorate", f"adds {', '.join(added)}", "added"))
    gone = [i for i in was if i not in now]
    if gone:
        out.append(Difference("electorate", f"drops {', '.join(gone)}"))
    for m in new:
        if m.id in was:
            out += _member_changes(was[m.id], m)
    if not out and [m.id for m in old] != [m.id for m in new]:
        out.append(Difference("electorate", "the members' order"))
    return out


def _member_changes(old: Member, new: Member) -> list[Difference]:
    """One member's changed email, aliases, name and role."""
    out = []
    if old.email != new.email:
        out.append(
            Difference("electorate", f"{old.id}'s email from {old.email} to {new.email}", "address")
        )
    if old.aliases != new.aliases:
        adds = [a for a in new.aliases if a not in old.aliases]
        drops = [a for a in old.aliases if a not in new.aliases]
        said = [
            *([f"adds {', '.join(adds)}"] if adds else []),
            *([f"removes {', '.join(drops)}"] if drops else []),
        ] or ["reorders them"]
        out.append(Difference("electorate", f"{old.id}'s aliases: {', '.join(said)}", "address"))
    if old.name != new.name:
        out.append(Difference("electorate", f"{old.id}'s name from {old.name} to {new.name}"))
    if old.role != new.role:
        out.append(
            Difference(
                "electorate", f"{old.id}'s role from {old.role or 'none'} to {new.role or 'none'}"
            )
        )
    return out


def _ballots(n: int) -> str:
    """'1 ballot', '2 ballots' (render.plural's wording; services sit below render)."""
    return f"{n:,} ballot{'' if n == 1 else 's'}"


def _new_ballots(motion: Motion, addressing: Addressing) -> list[BallotRecord]:
    domain = parseaddr(addressing.sender)[1].rpartition("@")[2] or "localhost"
    out = []
    for m in motion.committee.members:
        token = new_token()
        out.append(
            BallotRecord(
                motion.id,
                m.id,
                m.name,
                m.email,
                True,
                token,
                ballot_message_id(motion.id, token, addressing),
                BallotStatus.PENDING,
                "",
                None,
            )
        )
    for o in motion.committee.observers:
        out.append(
            BallotRecord(
                motion.id,
                o.email.lower(),
                o.name,
                o.email,
                False,
                None,
                f"<copy.{motion.id}.{secrets.token_hex(8)}@{domain}>",
                BallotStatus.PENDING,
                "",
                None,
            )
        )
    return out


def propose(
    the_plan: Plan,
    store: Store,
    transport: Transport,
    addressing: Addressing,
    *,
    now: Callable[[], datetime],
    progress: Callable[[BallotRecord], None] = lambda b: None,
) -> ProposeResult:
    """Record the motion if new, then send every unsent ballot, recording each result.

    Call it, and plan before it, under store.propose_lock(motion id). Ballots the plan found
    `sending` (their run stopped) are recorded as sent, delivery unconfirmed, and counted
    in unconfirmed_now with those whose connection broke after DATA in this run.
    """
    motion = the_plan.motion
    members = {m.id: m for m in motion.committee.members}
    observers = {o.email.lower(): o for o in motion.committee.observers}
    # Every message is made, or shown to be makeable, before anything is recorded: a
    # motion that validated must never stop half-way with its record written.
    press = BallotPress(motion, addressing, the_plan.attachments, now())
    for b in the_plan.to_send:
        recipient = members[b.recipient] if b.voting else observers[b.recipient]
        press.check(recipient, (b.token or "") if b.voting else b.message_id)
    if the_plan.amendment is not None:
        earlier = [m.ref for m, _ in read_before(store, the_plan)]
        new = {b.recipient for b in the_plan.to_send if b.voting}
        store.amend_electorate(
            motion,
            amendment=the_plan.amendment,
            ballots=[
                b
                for b in the_plan.to_send
                if b.recipient in new and b.recipient in the_plan.amendment.added
            ],
        )
        store.forget_messages(earlier)
    if not the_plan.recorded:
        store.record_motion(
            motion,
            digest=the_plan.digest,
            ballots=the_plan.to_send,
            now=now(),
            replaces=the_plan.replaces,
            papers=papers_of(the_plan.attachments),
        )
    interrupted = [b.recipient for b in the_plan.interrupted]
    unsure = (
        len(store.settle_unconfirmed(motion.id, interrupted, INTERRUPTED)) if interrupted else 0
    )
    envelope_from = parseaddr(addressing.sender)[1]
    sent = failed = 0
    error = None
    wait_turn: Callable[[], None] = getattr(transport, "wait_turn", None) or (lambda: None)
    with store.ballot_marker(motion.id) as mark:
        for b in the_plan.to_send:
            msg: EmailMessage | bytes
            if b.voting:
                assert b.token is not None
                msg = press.ballot(members[b.recipient], b.token)
            else:
                msg = press.copy(observers[b.recipient], b.message_id)
            # Committed before the server can have it: a run killed from here on leaves it
            # `sending`, which the next run reports as unconfirmed instead of sending again.
            try:
                # A throttled run waits for its slot before the ballot counts as handed over:
                # stopped while it waits, the ballot is still pending and goes with a re-run.
                wait_turn()
            except MailServerError as e:
                error = str(e)
                break
            mark(b.recipient, BallotStatus.SENDING, b.detail, now())
            try:
                result = transport.send(msg, sender=envelope_from, recipients=[b.address])
            except MailServerError as e:
                # Raised only when the server cannot have taken it: as it was before
                # (with what the server said when it was over its sending quota).
                mark(b.recipient, b.status, paused_detail(e) or b.detail, b.sent_at)
                error = str(e)
                break
            if result.ok:
                again = "resent after an unconfirmed delivery" if unconfirmed(b) else ""
                mark(b.recipient, BallotStatus.SENT, again, now())
                sent += 1
            elif result.delivery_unknown:
                # The server may have taken it: a re-run must not send it again, since a member
                # must never get two ballots. Recorded as sent, with why it is in doubt.
                detail = f"{UNCONFIRMED}: {result.reason}"
                mark(b.recipient, BallotStatus.SENT, detail, now())
                unsure += 1
            else:
                detail = " ".join(x for x in (str(result.code or ""), result.reason) if x)
                mark(b.recipient, BallotStatus.FAILED, detail, None)
                failed += 1
            progress(b)
    return ProposeResult(the_plan, tuple(store.ballots(motion.id)), sent, failed, error, unsure)


def paused_detail(error: MailServerError) -> str | None:
    """What a sending limit stop records on the message it stopped at, if anything."""
    return error.detail if isinstance(error, SendingPaused) else None
