"""`audit`: write a folder that a third party can check without the database.

The folder holds the motion as recorded, the electorate, every ballot (its token only as
a SHA-256), every message tied to the motion as its `.eml` bytes, the other messages read
(hash, sender, reason), every ruling, the result as JSON and as the printed sentence, a
README in plain words, and a MANIFEST of SHA-256 sums (`sha256sum -c MANIFEST`) whose
own sum is in MANIFEST.sha256. `steervote verify` re-reads it (evidence.verify).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from steervote import __version__
from steervote.adapters.store import Store
from steervote.core.ballot import format_fingerprint
from steervote.core.records import RecordedMessage
from steervote.errors import InvalidInput
from steervote.evidence import folder as f
from steervote.evidence.documents import (
    ballots_document,
    electorate_document,
    message_document,
    motion_document,
    notices_document,
    ruling_document,
    when,
)
from steervote.evidence.redact import redact
from steervote.services.review import report


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """The [tally] settings that change how a message is read, recorded for verify."""

    trusted_authserv_ids: tuple[str, ...] = ()
    trusted_received_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Written:
    """What `audit` wrote."""

    folder: Path
    files: int
    messages: int  # messages tied to the motion (rows)
    kept: int  # of which the bytes are in the folder
    others: int
    result_text: str


def write_audit(
    store: Store,
    motion_id: str,
    out: Path,
    *,
    now: datetime,
    settings: AuditSettings,
    result_json: Any,
    result_text: str,
) -> Written:
    """Write the audit folder of one motion at `out` (which must not exist, or be empty).

    result_json / result_text: the result as `tally --json` prints it and as the terminal
    prints it, at `now` (aware UTC). The folder appears whole or not at all: it is written
    beside `out` and renamed. Raises UnknownMotion, InvalidInput (out unusable).
    """
    recorded = store.recorded_motion(motion_id)
    if recorded is None:
        report(store, motion_id, now=now)  # raises UnknownMotion, naming the known ones
        raise AssertionError("unreachable")
    parent = _usable(out)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as e:
        raise InvalidInput(f"--out {out}: cannot create it ({e.strerror or e})") from None
    try:
        # mkdtemp makes it private; the folder is for others to read (as the umask allows).
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(work, 0o777 & ~mask)
        written = _write(store, recorded, work, now, settings, result_json, result_text)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(work, out)
    except OSError as e:
        shutil.rmtree(work, ignore_errors=True)
        raise InvalidInput(
            f"--out {out}: cannot write it ({e.strerror or e}); nothing kept"
        ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Written(out, *written)


def _usable(out: Path) -> Path:
    """The existing parent folder of `out`; InvalidInput if out is in use or unusable."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InvalidInput(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise InvalidInput(f"--out {out}: the folder is not empty; name a new one")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise InvalidInput(f"--out {out}: no folder {parent} to create it in")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidInput(f"--out {out}: cannot write in {parent}")
    return parent


def _write(
    store: Store,
    recorded: Any,
    work: Path,
    now: datetime,
    settings: AuditSettings,
    result_json: Any,
    result_text: str,
) -> tuple[int, int, int, int, str]:
    motion = recorded.motion
    names: list[str] = []

    def put_json(name: str, value: object) -> None:
        f.write_json(work / name, value)
        names.append(name)

    put_json(
        f.AUDIT,
        {
            "format": f.FORMAT,
            "steervote": __version__,
            "motion": motion.id,
            "audited_at": when(now),
            "trusted_authserv_ids": list(settings.trusted_authserv_ids),
            "trusted_received_by": list(settings.trusted_received_by),
        },
    )
    doc = motion_document(
        motion,
        recorded.digest,
        format_fingerprint(recorded.digest),
        recorded.papers,
        recorded.withdrawn,
        store.amendments(motion.id),
    )
    (work / f.MOTION).write_text(
        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=88), encoding="utf-8"
    )
    names.append(f.MOTION)
    put_json(f.ELECTORATE, electorate_document(motion))
    put_json(f.BALLOTS, ballots_document(store.ballots(motion.id)))
    put_json(f.NOTICES, notices_document(store.notices(motion.id)))
    messages = store.messages(motion.id)
    (work / f.MESSAGE_DIR).mkdir()
    entries = [message_document(m, _kept_file(store, m, work, names)) for m in messages]
    put_json(f.MESSAGES, entries)
    others = [
        {
            "sha256": m.sha256,
            "sender": m.sender,
            "received_at": when(m.received_at),
            "reason": m.reason,
        }
        for m in store.messages(None)
    ]
    put_json(f.OTHERS, others)
    put_json(f.RULINGS, [ruling_document(r) for r in store.rulings(motion.id)])
    put_json(f.RESULT, result_json)
    (work / f.RESULT_TEXT).write_text(result_text + "\n", encoding="utf-8")
    names.append(f.RESULT_TEXT)
    (work / f.README).write_text(_readme(motion.id, now), encoding="utf-8")
    names.append(f.README)
    (work / f.MANIFEST).write_text(f.manifest_text(work, names), encoding="utf-8")
    (work / f.MANIFEST_HASH).write_text(
        f"{f.sha256_file(work / f.MANIFEST)}  {f.MANIFEST}\n", encoding="utf-8"
    )
    kept = sum(e["file"] is not None for e in entries)
    return len(names) + 2, len(messages), kept, len(others), result_text


def _kept_file(store: Store, m: RecordedMessage, work: Path, names: list[str]) -> str | None:
    """Write the message's bytes, its tokens replaced by their placeholders (evidence.redact),
    as messages/SHA256.eml, named by the hash of what is written (once per file); its name,
    or None when its bytes were not kept."""
    raw = store.raw_message(m.sha256) if m.kept else None
    if raw is None:
        return None
    redacted = redact(raw)
    name = f"{f.MESSAGE_DIR}/{hashlib.sha256(redacted).hexdigest()}.eml"
    if name not in names:
        (work / name).write_bytes(redacted)
        names.append(name)
    return name


def _readme(motion_id: str, now: datetime) -> str:
    return f"""Audit folder of motion {motion_id}, written by steervote {__version__}
on {now:%Y-%m-%d %H:%M} UTC.

What each file is
-----------------
audit.json       When this folder was written, by which steervote, and the settings that
                 change how a message is read (trusted Authentication-Results and
                 Received: servers).
motion.yaml      The motion as recorded when its ballots were sent: text, rule, quorum,
                 deadline (UTC), and its digest: the SHA-256 over everything a member
                 voted on. Its first 12 digits, as "fingerprint", were printed on each
                 ballot. "papers" lists each attached paper by name and SHA-256.
electorate.json  The voting members: id, name, address and other addresses.
ballots.json     Every ballot and information copy sent: recipient, address, status,
                 when. The personal token of a ballot is given only as its SHA-256
                 ("token_sha256"), and cut out of the ballot's Message-ID, since a token
                 can still cast a vote while the motion is open.
notices.json     Every receipt, ask, reminder and announcement sent to a member or
                 observer after the ballots (a token, again, only as its SHA-256).
messages/        Every message tied to this motion, as received, byte for byte but for
                 the members' tokens: each token in a reply address or a Message-ID is
                 replaced by its placeholder, the first 24 letters of the base32 SHA-256
                 of the token (the same length, so sizes do not change). Each file is
                 named by its own SHA-256 (so a changed byte shows); "sha256" in
                 messages.json is the hash of the message as received. Open one with
                 any mail program or text editor; nothing in it is run.
messages.json    One entry per message tied to the motion: its file (null when its
                 bytes were not kept: too large to read, or recorded by an older
                 steervote), when the mail server received it ("received_from" says how
                 that time is known), which member it was matched to, how and how
                 strongly, and how it was read (vote, review or ignored) with the reason.
others.json      Every other message read from the mailbox (tied to no motion): only
                 its SHA-256, sender, receipt time and why it was ignored.
rulings.json     Every ruling the secretary recorded, in order. Member "(casting)" is
                 the chair's casting vote. A ruling taken back (`rule --undo`) stays,
                 with "undone" saying who undid it, when and why; the count passes
                 over it.
result.json      The result as `steervote tally --json` printed it when this folder was
                 written.
result.txt       The result as the terminal printed it.
MANIFEST         The SHA-256 of every file above ("sha256sum" format).
MANIFEST.sha256  The SHA-256 of MANIFEST itself.

How to check it
---------------
1. That no file changed:   sha256sum -c MANIFEST.sha256 && sha256sum -c MANIFEST
   (no steervote needed). Publish or keep the MANIFEST.sha256 line somewhere safe:
   with it, nothing in the folder can change unseen.
2. That the result follows from the messages and rulings:
       steervote verify THIS-FOLDER
   re-reads every message with that version of steervote (matching it to its ballot,
   reading the vote), applies the rulings and the motion's rule, and prints either
   "verified" or each difference. It needs no database and no mail server.
3. Any single vote: find the member in messages.json, open the .eml file it names, and
   read the member's own words.

What this folder cannot show: that the mail server's receipt times are true (they are
the server's word), or what was in a message tied to no motion (only its hash is here).
"""
