"""The records of an audit folder as plain data, and back: motion, electorate, ballots,
messages and rulings. Each `*_document` function writes what its `*_from_document`
twin reads; the readers check every field, since a folder may come from anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from steervote.core.motion import CastingVote, Committee, Member, Motion, Observer, Threshold
from steervote.core.records import (
    Amendment,
    BallotRecord,
    BallotStatus,
    Disposition,
    NoticeKind,
    NoticeRecord,
    RecordedMessage,
    Ruling,
    Undo,
)
from steervote.core.vote import Vote
from steervote.core.withdrawal import Withdrawal
from steervote.evidence.redact import placeholder, token_digest


class DocumentInvalid(Exception):
    """A record in the folder is missing a field or holds a value of the wrong kind."""


def when(t: datetime | None) -> str | None:
    """ISO 8601 in UTC to the microsecond (what the store holds), or None."""
    return t.astimezone(UTC).isoformat() if t is not None else None


def motion_document(
    motion: Motion,
    digest: str,
    fingerprint: str,
    papers: Sequence[tuple[str, str]] | None,
    withdrawn: Withdrawal | None = None,
    amendments: Sequence[Amendment] = (),
) -> dict[str, Any]:
    """The motion as recorded, without its members (electorate.json holds them), with
    each amendment of its electorate (the digest before and after: ballots sent before
    one carry its old fingerprint)."""
    c = motion.committee
    return {
        "id": motion.id,
        "title": motion.title,
        "text": motion.text,
        "committee": {
            "id": c.id,
            "name": c.name,
            "timezone": c.timezone,
            "observers": [{"name": o.name, "email": o.email} for o in c.observers],
        },
        "proposer": motion.proposer,
        "threshold": motion.threshold.value,
        "quorum": motion.quorum,
        "closes": when(motion.closes),
        "closes_as_written": motion.closes_spec,
        "require_token": motion.require_token,
        "authority": motion.authority,
        "casting_vote": motion.casting_vote.value,
        "attachments": [p.name for p in motion.attachments],  # not the secretary's paths
        "papers": None if papers is None else [{"file": n, "sha256": h} for n, h in papers],
        "links": list(motion.links),
        "digest": digest,
        "fingerprint": fingerprint,
        "withdrawn": None
        if withdrawn is None
        else {"by": withdrawn.by, "reason": withdrawn.reason, "at": when(withdrawn.at)},
        "amendments": [
            {
                "added": list(a.added),
                "reason": a.reason,
                "by": a.by,
                "at": when(a.at),
                "old_digest": a.old_digest,
                "new_digest": a.new_digest,
                "changed": [
                    {
                        "member": c.member_id,
                        "old_email": c.old_email,
                        "new_email": c.new_email,
                        "old_aliases": list(c.old_aliases),
                        "new_aliases": list(c.new_aliases),
                    }
                    for c in a.changed
                ],
            }
            for a in amendments
        ],
    }


def electorate_document(motion: Motion) -> list[dict[str, Any]]:
    """The voting members, in the committee's order."""
    return [
        {"id": m.id, "name": m.name, "email": m.email, "aliases": list(m.aliases), "role": m.role}
        for m in motion.committee.members
    ]


def withdrawal_from_document(doc: Any) -> Withdrawal | None:
    """motion.yaml's `withdrawn` (absent in folders written before withdrawals existed)."""
    w = _object(doc, "motion.yaml").get("withdrawn")
    if w is None:
        return None
    w = _object(w, "withdrawn")
    return Withdrawal(_str(w, "by"), _str(w, "reason"), _time(_str(w, "at"), "withdrawn at"))


def motion_from_document(doc: Any, electorate: Any) -> tuple[Motion, str, list[Any] | None]:
    """(Motion, recorded digest, papers as [file, sha256] pairs or None); DocumentInvalid."""
    d = _object(doc, "motion.yaml")
    c = _object(d.get("committee"), "motion.yaml committee")
    members = tuple(
        Member(
            _str(m, "id"),
            _str(m, "name"),
            _str(m, "email"),
            tuple(_strs(m, "aliases")),
            _opt_str(m, "role"),
        )
        for m in (_object(x, "electorate.json entry") for x in _list(electorate, "electorate"))
    )
    observers = tuple(
        Observer(_str(o, "name"), _str(o, "email"))
        for o in (_object(x, "observer") for x in _list(c.get("observers"), "observers"))
    )
    papers = d.get("papers")
    pairs = None
    if papers is not None:
        pairs = [
            [_str(p, "file"), _str(p, "sha256")] for p in map(_object_of, _list(papers, "papers"))
        ]
    motion = Motion(
        id=_str(d, "id"),
        title=_str(d, "title"),
        text=_str(d, "text"),
        committee=Committee(
            _str(c, "id"), _str(c, "name"), _str(c, "timezone"), members, observers
        ),
        proposer=_str(d, "proposer"),
        threshold=_enum(Threshold, _str(d, "threshold"), "threshold"),
        quorum=_int(d, "quorum"),
        closes=_time(_str(d, "closes"), "closes"),
        require_token=_bool(d, "require_token"),
        authority=_opt_str(d, "authority"),
        casting_vote=_enum(CastingVote, _str(d, "casting_vote"), "casting_vote"),
        attachments=tuple(Path(p) for p in _strs(d, "attachments")),
        links=tuple(_strs(d, "links")),
        closes_spec=_str(d, "closes_as_written"),
    )
    return motion, _str(d, "digest"), pairs


def ballots_document(ballots: Sequence[BallotRecord]) -> list[dict[str, Any]]:
    """Every ballot and information copy; the token only as its SHA-256, and cut out of
    the ballot's Message-ID (which holds it) — a token could still cast a vote."""
    out = []
    for b in ballots:
        message_id = b.message_id
        if b.token and b.token in message_id:
            message_id = message_id.replace(b.token, "[token]")
        out.append(
            {
                "recipient": b.recipient,
                "name": b.name,
                "address": b.address,
                "voting": b.voting,
                "token_sha256": token_digest(b.token) if b.token else None,
                "message_id": message_id,
                "status": b.status.value,
                "detail": b.detail,
                "sent_at": when(b.sent_at),
            }
        )
    return out


def ballots_from_document(doc: Any, motion_id: str) -> list[BallotRecord]:
    """Ballot records whose token is its placeholder (evidence.redact), as in the folder's
    messages."""
    out = []
    for b in map(_object_of, _list(doc, "ballots.json")):
        digest = _opt_str(b, "token_sha256")
        sent = _opt_str(b, "sent_at")
        out.append(
            BallotRecord(
                motion_id=motion_id,
                recipient=_str(b, "recipient"),
                name=_str(b, "name"),
                address=_str(b, "address"),
                voting=_bool(b, "voting"),
                token=placeholder(_hex(digest)) if digest else None,
                message_id=_str(b, "message_id"),
                status=_enum(BallotStatus, _str(b, "status"), "status"),
                detail=_str(b, "detail"),
                sent_at=_time(sent, "sent_at") if sent else None,
            )
        )
    return out


def notices_document(notices: Sequence[NoticeRecord]) -> list[dict[str, Any]]:
    """Every receipt, ask, reminder and announcement; tokens only as SHA-256, as ballots."""
    return [
        {
            "kind": n.kind.value,
            "recipient": n.recipient,
            "key": n.key,
            "name": n.name,
            "address": n.address,
            "token_sha256": token_digest(n.token) if n.token else None,
            "message_id": n.message_id.replace(n.token, "[token]") if n.token else n.message_id,
            "refers_to": n.refers_to,
            "summary": n.summary,
            "status": n.status.value,
            "detail": n.detail,
            "created_at": when(n.created_at),
            "sent_at": when(n.sent_at),
        }
        for n in notices
    ]


def notices_from_document(doc: Any, motion_id: str) -> list[NoticeRecord]:
    """Notice records whose token is its placeholder (evidence.redact)."""
    out = []
    for n in map(_object_of, _list(doc, "notices.json")):
        digest = _opt_str(n, "token_sha256")
        sent = _opt_str(n, "sent_at")
        out.append(
            NoticeRecord(
                motion_id=motion_id,
                kind=_enum(NoticeKind, _str(n, "kind"), "kind"),
                recipient=_str(n, "recipient"),
                key=_str(n, "key"),
                name=_str(n, "name"),
                address=_str(n, "address"),
                token=placeholder(_hex(digest)) if digest else None,
                message_id=_str(n, "message_id"),
                refers_to=_str(n, "refers_to"),
                summary=_str(n, "summary"),
                status=_enum(BallotStatus, _str(n, "status"), "status"),
                detail=_str(n, "detail"),
                created_at=_time(_str(n, "created_at"), "created_at"),
                sent_at=_time(sent, "sent_at") if sent else None,
            )
        )
    return out


def message_document(m: RecordedMessage, file: str | None) -> dict[str, Any]:
    """One recorded message: where its bytes are (None: not kept), how it was read."""
    return {
        "ref": m.ref,
        "file": file,
        "sha256": m.sha256,
        "message_id": m.message_id,
        "sender": m.sender,
        "subject": m.subject,
        "size": m.size,
        "received_at": when(m.received_at),
        "received_from": m.received_from,
        "dated": when(m.dated),
        "member": m.member_id,
        "how": m.how,
        "strength": m.strength,
        "disposition": m.disposition.value,
        "vote": m.vote.value if m.vote else None,
        "reason": m.reason,
        "evidence": m.evidence,
        "own_text": m.own_text,
    }


def message_from_document(doc: Any) -> dict[str, Any]:
    """A message entry, its fields checked; times as aware datetimes."""
    m = _object_of(doc)
    checked: dict[str, Any] = {
        "ref": _int(m, "ref"),
        "file": _opt_str(m, "file"),
        "sha256": _str(m, "sha256"),
        "message_id": _str(m, "message_id"),
        "sender": _str(m, "sender"),
        "subject": _str(m, "subject"),
        "size": _int(m, "size"),
        "received_at": _time(_str(m, "received_at"), "received_at"),
        "received_from": _str(m, "received_from"),
        "member": _opt_str(m, "member"),
        "how": _str(m, "how"),
        "strength": _str(m, "strength"),
        "disposition": _enum(Disposition, _str(m, "disposition"), "disposition"),
        "vote": _vote(_opt_str(m, "vote")),
        "reason": _str(m, "reason"),
        "evidence": _str(m, "evidence"),
        "own_text": _str(m, "own_text"),
    }
    dated = _opt_str(m, "dated")
    checked["dated"] = _time(dated, "dated") if dated else None
    return checked


def ruling_document(r: Ruling) -> dict[str, Any]:
    """One ruling; `undone` is null, or the undo that took it back ({"reason", "by", "at"}):
    an undone ruling stays in the folder and the count passes over it."""
    u = r.undone
    return {
        "member": r.member_id,
        "vote": r.vote.value if r.vote else None,
        "reason": r.reason,
        "by": r.ruled_by,
        "at": when(r.ruled_at),
        "undone": None
        if u is None
        else {"reason": u.reason, "by": u.undone_by, "at": when(u.undone_at)},
    }


def ruling_from_document(doc: Any, motion_id: str) -> Ruling:
    """A ruling entry, its fields checked; a folder written before undos has no `undone`."""
    r = _object_of(doc)
    u = r.get("undone")
    undone = None
    if u is not None:
        u = _object(u, "undone")
        undone = Undo(_str(u, "reason"), _str(u, "by"), _time(_str(u, "at"), "undone at"))
    return Ruling(
        motion_id,
        _str(r, "member"),
        _vote(_opt_str(r, "vote")),
        _str(r, "reason"),
        _str(r, "by"),
        _time(_str(r, "at"), "at"),
        undone,
    )


# --- checked field access -------------------------------------------------------------

E = TypeVar("E")


def _hex(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise DocumentInvalid(f"token_sha256: {value[:70]!r} is not a SHA-256 in hex")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DocumentInvalid(f"{what}: expected a mapping")
    return value


def _object_of(value: Any) -> dict[str, Any]:
    return _object(value, "entry")


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise DocumentInvalid(f"{what}: expected a list")
    return value


def _str(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    if not isinstance(value, str):
        raise DocumentInvalid(f"{key}: expected text, found {type(value).__name__}")
    return value


def _opt_str(d: dict[str, Any], key: str) -> str | None:
    return None if d.get(key) is None else _str(d, key)


def _strs(d: dict[str, Any], key: str) -> list[str]:
    values = _list(d.get(key), key)
    if not all(isinstance(v, str) for v in values):
        raise DocumentInvalid(f"{key}: expected a list of text")
    return values


def _int(d: dict[str, Any], key: str) -> int:
    value = d.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DocumentInvalid(f"{key}: expected a whole number")
    return value


def _bool(d: dict[str, Any], key: str) -> bool:
    value = d.get(key)
    if not isinstance(value, bool):
        raise DocumentInvalid(f"{key}: expected true or false")
    return value


def _enum(kind: Callable[[str], E], value: str, key: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise DocumentInvalid(f"{key}: {value[:40]!r} is not a known value") from None


def _vote(value: str | None) -> Vote | None:
    return None if value is None else _enum(Vote, value, "vote")


def _time(value: str, key: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise DocumentInvalid(f"{key}: {value[:40]!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise DocumentInvalid(f"{key}: {value[:40]!r} has no time zone")
    return t.astimezone(UTC)
