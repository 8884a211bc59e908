"""`verify`: re-read an audit folder with this steervote and list every difference.

Needs no database and no mail server: the folder's motion, ballots, rulings and messages
go into a new SQLite store in a temporary folder, the messages are read there exactly as
`tally` reads a mailbox (services.collect: matching, reading, duplicates), the rulings
are applied, and the motion is counted (core.tally) at the moment the folder was
written. Checked, each as a difference when it fails: the MANIFEST (every file listed,
none missing, none changed, none added) and its own sum; the motion's digest; each
message read as recorded; each member's standing; the counts, result and its sentence.
The receipt times are taken as recorded: they are the mail server's word, not in the
message. A message whose bytes were not kept is taken as recorded, and said so.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from steervote.adapters.source import Fetched, ReceivedFrom
from steervote.adapters.store import NewMessage, Store
from steervote.core.ballot import format_fingerprint, motion_digest
from steervote.core.motion import Motion
from steervote.core.records import CASTING, Disposition, Ruling
from steervote.evidence import folder as f
from steervote.evidence.documents import (
    DocumentInvalid,
    ballots_from_document,
    message_from_document,
    motion_from_document,
    notices_from_document,
    ruling_from_document,
    withdrawal_from_document,
)
from steervote.services.collect import collect
from steervote.services.review import Report, report

_AS_RECORDED = "audit:as-recorded"  # the mailbox key of messages whose bytes were not kept


@dataclass(frozen=True, slots=True)
class Verified:
    """What verify found: no differences means the result follows from the folder."""

    motion_id: str
    differences: tuple[str, ...]
    notes: tuple[str, ...] = ()  # limits of the check, not differences
    messages: int = 0
    members: int = 0


@dataclass
class _Findings:
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def differ(self, text: str) -> None:
        if len(self.differences) < 10_000:
            self.differences.append(text)


ResultJson = Callable[[Report, Store], Any]
ResultText = Callable[[Report], str]


def verify_folder(folder: Path, *, result_json: ResultJson, result_text: ResultText) -> Verified:
    """Check the audit folder at `folder` (see the module docstring).

    result_json / result_text: how this steervote prints a report as `tally --json` and on
    the terminal, to compare with result.json and result.txt. Raises f.FolderUnreadable
    when the folder cannot be read as an audit folder at all.
    """
    if not folder.is_dir():
        raise f.FolderUnreadable(f"{folder}: not a folder")
    found = _Findings()
    _check_manifest(folder, found)
    try:
        audit = f.read_json(folder / f.AUDIT)
        motion_doc = _yaml(folder / f.MOTION)
        motion, digest, papers = motion_from_document(
            motion_doc, f.read_json(folder / f.ELECTORATE)
        )
        withdrawn = withdrawal_from_document(motion_doc)
        audited_at = datetime.fromisoformat(str(audit["audited_at"]))
        entries = [message_from_document(e) for e in _list(f.read_json(folder / f.MESSAGES))]
        ballots = ballots_from_document(f.read_json(folder / f.BALLOTS), motion.id)
        notices = (
            notices_from_document(f.read_json(folder / f.NOTICES), motion.id)
            if (folder / f.NOTICES).exists() or f.NOTICES in _listed(folder)
            else []
        )
        rulings = [
            ruling_from_document(r, motion.id) for r in _list(f.read_json(folder / f.RULINGS))
        ]
        recorded_result = f.read_json(folder / f.RESULT)
        recorded_text = f.read_text(folder / f.RESULT_TEXT, f.MAX_DATA).rstrip("\n")
        authserv = [str(x) for x in audit.get("trusted_authserv_ids", [])]
        received_by = [str(x) for x in audit.get("trusted_received_by", [])]
    except (DocumentInvalid, KeyError, TypeError, ValueError) as e:
        raise f.FolderUnreadable(f"a record cannot be read: {e}") from None
    _check_digest(motion, digest, papers, found)
    _check_records(folder, motion, entries, rulings, audited_at, found)
    with tempfile.TemporaryDirectory(prefix="steervote-verify-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'verify.db'}")
        try:
            store.record_motion(motion, digest=digest, ballots=ballots, now=audited_at)
            store.add_notices(notices)  # their tokens match replies to them, as ballots'
            if withdrawn is not None:
                store.withdraw(motion.id, withdrawn)

            derived = _reread(
                folder, store, motion.id, entries, audited_at, authserv, received_by, found
            )
            _compare_messages(entries, derived, found)
            for ruling in rulings:
                store.record_ruling(ruling)
            try:
                again = report(store, motion.id, now=audited_at)
            except ValueError as e:  # e.g. a casting ruling where the motion has none
                found.differ(f"the motion cannot be counted again: {e}")
            else:
                _compare_result(recorded_result, result_json(again, store), found)
                _compare_text(recorded_result, recorded_text, result_text(again), found)
        finally:
            store.close()
    return Verified(
        motion.id,
        tuple(found.differences),
        tuple(found.notes),
        len(entries),
        motion.electorate,
    )


def _check_records(
    folder: Path,
    motion: Motion,
    entries: list[dict[str, Any]],
    rulings: Sequence[Ruling],
    audited_at: datetime,
    found: _Findings,
) -> None:
    """What the records say that the count would not catch: a message file no entry names,
    a vote whose bytes are not here, a time after the audit, a ruling on no member."""
    named = {e["file"] for e in entries if e["file"]}
    present, _ = f.files_in(folder)
    for name in present:
        if name.startswith(f"{f.MESSAGE_DIR}/") and name not in named:
            found.differ(f"{name}: in the folder but in no entry of messages.json (not read)")
    for e in entries:
        if e["file"] is None and e["disposition"] is not Disposition.IGNORED:
            found.differ(
                f"message {e['ref']} ({e['disposition'].value} for {e['member']}): its bytes "
                "are not in the folder, so how it was read cannot be checked"
            )
        if e["received_at"] > audited_at:
            found.differ(f"message {e['ref']}: received after the audit was written")
    members = {m.id for m in motion.committee.members} | {CASTING}
    for r in rulings:
        if r.member_id not in members:
            found.differ(f"rulings.json: a ruling on {r.member_id[:80]!r}, not a member")
        if r.ruled_at > audited_at:
            found.differ(f"rulings.json: a ruling on {r.member_id[:80]} made after the audit")


def _listed(folder: Path) -> set[str]:
    """The files the MANIFEST names (a file it names but the folder lacks must be read,
    to fail as missing, not be passed over as absent)."""
    try:
        return set(f.read_manifest(folder).hashes)
    except f.FolderUnreadable:
        return set()


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise DocumentInvalid("expected a list")
    return value


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(f.read_text(path, f.MAX_DATA))
    except yaml.YAMLError as e:
        raise f.FolderUnreadable(f"{path.name}: not YAML ({str(e)[:100]})") from None


# --- the files -------------------------------------------------------------------------


def _check_manifest(folder: Path, found: _Findings) -> None:
    if not (folder / f.MANIFEST).is_file():
        found.differ("MANIFEST is missing")
        return
    mine = f.sha256_file(folder / f.MANIFEST)
    try:
        stated = f.read_text(folder / f.MANIFEST_HASH, 10_000).split()[0]
    except (f.FolderUnreadable, IndexError):
        found.differ("MANIFEST.sha256 is missing or empty")
    else:
        if stated != mine:
            found.differ("MANIFEST has changed: its SHA-256 is not the one in MANIFEST.sha256")
    manifest = f.read_manifest(folder)
    for line in manifest.bad_lines[:20]:
        found.differ(f"MANIFEST: a line that is not 'SHA256  FILE' in this folder: {line!r}")
    present, odd = f.files_in(folder)
    for name in odd:
        found.differ(f"{name}: not a plain file (a link, device or folder); not read")
    listed = set(manifest.hashes)
    for name in sorted(set(present) - listed - {f.MANIFEST, f.MANIFEST_HASH}):
        found.differ(f"{name}: added (not in the MANIFEST)")
    for name in sorted(listed - set(present)):
        found.differ(f"{name}: missing (listed in the MANIFEST)")
    for name in sorted(listed & set(present)):
        if f.sha256_file(folder / name) != manifest.hashes[name]:
            found.differ(f"{name}: changed (its SHA-256 is not the one in the MANIFEST)")


def _check_digest(motion: Motion, digest: str, papers: list[Any] | None, found: _Findings) -> None:
    if papers is None and motion.attachments:
        found.notes.append(
            "the motion's papers were recorded before their hashes were: its digest is not "
            "recomputed"
        )
        return
    pairs = [(str(n), str(h)) for n, h in papers or []]
    again = motion_digest(motion, papers=pairs)
    if again != digest:
        found.differ(
            f"motion.yaml: its digest {format_fingerprint(digest)} is not that of the motion "
            f"it describes ({format_fingerprint(again)}): the motion was changed"
        )


# --- the messages ----------------------------------------------------------------------


class _FolderSource:
    """The folder's kept messages as a mailbox, in the order they were recorded."""

    def __init__(self, items: Sequence[tuple[int, bytes, datetime, ReceivedFrom]]) -> None:
        self._items = items

    @property
    def key(self) -> str:
        return "audit:messages"

    def uidvalidity(self) -> int:
        return 1

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 0
    ) -> Iterator[list[Fetched]]:
        todo = [i for i in self._items if i[0] > after_uid]
        for start in range(0, len(todo), batch_size):
            yield [
                Fetched(uid, raw, len(raw), at, how)
                for uid, raw, at, how in todo[start : start + batch_size]
            ]

    def not_read(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


def _reread(
    folder: Path,
    store: Store,
    motion_id: str,
    entries: list[dict[str, Any]],
    audited_at: datetime,
    authserv: Sequence[str],
    received_by: Sequence[str],
    found: _Findings,
) -> dict[int, list[dict[str, Any]]]:
    """Read the messages again into `store`; what each recorded entry (by ref) became."""
    order: list[int] = []  # refs in the order recorded, each once
    uid_of: dict[int, int] = {}
    items: list[tuple[int, bytes, datetime, ReceivedFrom]] = []
    not_kept: list[NewMessage] = []
    for e in sorted(entries, key=lambda e: e["ref"]):
        ref = e["ref"]
        if ref in uid_of:
            continue  # the same message, tied again (a further member or motion)
        uid_of[ref] = len(order) + 1
        order.append(ref)
        if e["file"] is None:
            not_kept.append(_as_recorded(e, uid_of[ref], motion_id))
            continue
        raw = _message_bytes(folder, e["file"], found)
        if raw is not None:
            items.append((uid_of[ref], raw, e["received_at"], e["received_from"]))
    if not_kept:
        found.notes.append(
            f"{len(not_kept)} {'message' if len(not_kept) == 1 else 'messages'} whose bytes "
            "were not kept taken as recorded"
        )
        store.record_batch(_AS_RECORDED, 1, len(order), not_kept, audited_at)
    collect(
        _FolderSource(items),
        store,
        now=lambda: audited_at,
        max_size=f.MAX_MESSAGE,
        authserv_ids=authserv,
        received_by=received_by,
        times_as_given=True,
    )
    ref_of = {uid: ref for ref, uid in uid_of.items()}
    derived: dict[int, list[dict[str, Any]]] = {}
    for m in store.messages(motion_id):
        derived.setdefault(ref_of.get(m.uid, -1), []).append(
            {
                "member": m.member_id,
                "how": m.how,
                "strength": m.strength,
                "disposition": m.disposition,
                "vote": m.vote,
                "reason": m.reason,
                "received_at": m.received_at,
                "evidence": m.evidence,
                "own_text": m.own_text,
                "sender": m.sender,
                "subject": m.subject,
                "message_id": m.message_id,
                "dated": m.dated,
            }
        )
    return derived


def _message_bytes(folder: Path, name: str, found: _Findings) -> bytes | None:
    if not name.startswith(f"{f.MESSAGE_DIR}/") or "/" in name[len(f.MESSAGE_DIR) + 1 :]:
        found.differ(f"messages.json names {name[:200]!r}, not a file of {f.MESSAGE_DIR}/")
        return None
    try:
        return f.read_bytes(folder / name, f.MAX_MESSAGE)
    except f.FolderUnreadable as e:
        found.differ(f"{name}: cannot be read again ({e})")
        return None


def _as_recorded(e: dict[str, Any], uid: int, motion_id: str) -> NewMessage:
    return NewMessage(
        uid=uid,
        message_id=e["message_id"],
        sha256=e["sha256"],
        sender=e["sender"],
        subject=e["subject"],
        size=e["size"],
        received_at=e["received_at"],
        received_from=e["received_from"],
        disposition=e["disposition"],
        reason=e["reason"],
        motion_id=motion_id,
        member_id=e["member"],
        how=e["how"],
        vote=e["vote"],
        evidence=e["evidence"],
        own_text=e["own_text"],
        strength=e["strength"],
        dated=e["dated"],
    )


def _compare_messages(
    entries: list[dict[str, Any]], derived: dict[int, list[dict[str, Any]]], found: _Findings
) -> None:
    recorded: dict[int, list[dict[str, Any]]] = {}
    for e in entries:
        recorded.setdefault(e["ref"], []).append(e)
    for ref, was in sorted(recorded.items()):
        now = derived.get(ref, [])
        name = was[0]["file"] or f"message {ref} (bytes not kept)"
        if not now:
            found.differ(
                f"{name}: recorded as {_said(was[0])}; not tied to this motion when read again"
            )
            continue
        said_then = sorted(_said(e) for e in was)
        said_now = sorted(_said(e) for e in now)
        if said_then != said_now:
            found.differ(
                f"{name}: recorded as {'; '.join(said_then)}; read again as {'; '.join(said_now)}"
            )
            continue
        for key in _DETAILS:
            then_values = sorted(str(e[key]) for e in was)
            now_values = sorted(str(e[key]) for e in now)
            if then_values != now_values:
                found.differ(
                    f"{name}: messages.json says {key} {_short(then_values[0])}; "
                    f"read again: {_short(now_values[0])}"
                )
    for extra in sorted(set(derived) - set(recorded)):
        found.differ(
            f"a message not listed in messages.json was read as {_said(derived[extra][0])}"
        )


# Read from the message again and compared after how it was read (_said).
_DETAILS = ("reason", "evidence", "own_text", "sender", "subject", "message_id", "dated")


def _said(e: dict[str, Any]) -> str:
    disposition: Disposition = e["disposition"]
    vote = e["vote"].value.upper() if e["vote"] else "no vote"
    return (
        f"{disposition.value} ({vote}) for {e['member'] or 'no member'}, matched by "
        f"{e['how'] or '-'} ({e['strength'] or '-'}), received {e['received_at']:%Y-%m-%d %H:%M:%S}"
    )


# --- the result ------------------------------------------------------------------------


def _compare_result(recorded: Any, again: Any, found: _Findings) -> None:
    """Every field of result.json against the count made again, but `ignored` (it lists
    messages tied to no motion too, which are only hashed here: messages.json is checked
    message by message instead) and the result's wording (_compare_text)."""
    if not isinstance(recorded, dict):
        found.differ("result.json: not a result object")
        return
    skip = {"ignored", "result_text"}
    for key in sorted(set(recorded) | set(again)):
        if key in skip:
            continue
        if key == "members":
            _compare_members(recorded.get(key), again[key], found)
        elif recorded.get(key) != again.get(key):
            found.differ(
                f"result.json says {key} {_short(recorded.get(key))}; counted again: "
                f"{_short(again.get(key))}"
            )


def _compare_members(recorded: Any, again: list[dict[str, Any]], found: _Findings) -> None:
    if not isinstance(recorded, list):
        found.differ("result.json: members is not a list")
        return
    then = {m.get("id"): m for m in recorded if isinstance(m, dict)}
    if len(then) != len(recorded):
        found.differ("result.json: a member listed twice, or an entry that is not a member")
    now = {m["id"]: m for m in again}
    for member_id in sorted(set(then) | set(now), key=str):
        a, b = then.get(member_id), now.get(member_id)
        if a is None or b is None:
            found.differ(f"member {member_id!s:.80}: in only one of result.json and the recount")
            continue
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                found.differ(
                    f"member {member_id}: result.json says {key} {_short(a.get(key))}; "
                    f"counted again: {_short(b.get(key))}"
                )


def _compare_text(recorded: dict[str, Any], text: str, again: str, found: _Findings) -> None:
    """result.txt must be result.json's sentence; this version may word it differently."""
    stated = recorded.get("result_text") if isinstance(recorded, dict) else None
    if stated is not None and stated != text:
        found.differ(f"result.txt says {text[:300]!r}; result.json says {_short(stated)}")
    elif text != again:
        found.notes.append(
            f"this steervote words the same result differently: {again!r} "
            f"(result.txt: {text[:300]!r})"
        )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "…"
