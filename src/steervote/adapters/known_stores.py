"""The stores this user has proposed motions from: a small per-user list that lets propose
notice it is about to send a motion's ballots a second time from another store (run in the
wrong folder, or with another --config), which would give every member two ballots with
different tokens and split the replies between two stores.

One JSON file per (motion, store) in `proposed/` under platformdirs' user data directory,
or under $STEERVOTE_STATE_DIR: each is written whole and renamed into place, so two runs at
once never leave a half-written entry, and no run rewrites another's. A store is named by
its SQLite file's resolved path, or by its PostgreSQL URL without the password: the list
never holds a secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

STATE_DIR_ENV = "STEERVOTE_STATE_DIR"
FOLDER = "proposed"
_MAX_ENTRY_BYTES = 64 * 1024  # an entry is about 500 bytes; anything larger is not ours


@dataclass(frozen=True, slots=True)
class KnownStore:
    """One motion recorded in one store, as the list keeps it."""

    motion_id: str
    digest: str  # the motion's digest as recorded (core.ballot.motion_digest)
    content: str  # what members vote on, without the id (services.propose.content_digest)
    store: str  # store_name(url)
    reach: str  # how a command reaches that store: "cd DIR", "--config PATH", ...
    at: datetime  # UTC, when a propose from that store last began sending


@dataclass(frozen=True, slots=True)
class Listing:
    """What the list holds, and what could not be read: the whole folder (why, in words),
    or some entries ("FILE: why" each)."""

    entries: tuple[KnownStore, ...]
    unreadable: str | None = None
    damaged: tuple[str, ...] = ()


def state_dir(env: Mapping[str, str]) -> Path:
    """$STEERVOTE_STATE_DIR, else platformdirs' user data directory for steervote."""
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV])
    import platformdirs

    return Path(platformdirs.user_data_dir("steervote"))


def store_name(url: str) -> str:
    """A store's name for the list and for messages: `sqlite:///` and the file's resolved
    path (so a symlinked or relative path names the same store), or the PostgreSQL URL
    without its password (nor any password in its query string)."""
    if url.startswith("sqlite:///"):
        return "sqlite:///" + os.path.realpath(url.removeprefix("sqlite:///"))
    from sqlalchemy.engine import URL, make_url

    try:
        u = make_url(url)
    except Exception:  # sqlalchemy raises several kinds; an unparseable URL names nothing
        return "<unparseable database url>"
    query = {k: v for k, v in u.query.items() if "pass" not in k.lower()}
    # URL.set(password=None) keeps the password (None means "unchanged"): built anew.
    bare = URL.create(u.drivername, u.username, None, (u.host or "").lower(), u.port, u.database)
    return bare.update_query_dict(query).render_as_string(hide_password=False)


def still_there(name: str) -> bool:
    """Whether the store named still exists: a SQLite file that is still there. A
    PostgreSQL store cannot be asked without its password, which the list does not keep:
    it counts as there."""
    if name.startswith("sqlite:///"):
        return Path(name.removeprefix("sqlite:///")).is_file()
    return True


class KnownStores:
    """The list in `directory` (state_dir(...)/proposed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / FOLDER
        self.where = directory

    def read(self) -> Listing:
        """Every entry that can be read; a folder or file that cannot is a problem in words,
        never an exception. No folder yet is an empty list."""
        try:
            names = sorted(p for p in os.listdir(self.directory) if p.endswith(".json"))
        except FileNotFoundError:
            return Listing(())
        except OSError as e:
            return Listing((), unreadable=_why(e))
        entries, damaged = [], []
        for name in names:
            try:
                entries.append(_entry(self.directory / name))
            except (OSError, ValueError, KeyError, TypeError) as e:
                damaged.append(f"{self.directory / name}: {_why(e)}")
        return Listing(tuple(entries), damaged=tuple(damaged))

    def record(self, entry: KnownStore) -> str | None:
        """Add or replace the entry for (entry.motion_id, entry.store); why it cannot be
        written, in words, or None."""
        key = f"{entry.motion_id}\x00{entry.store}".encode()
        path = self.directory / f"{hashlib.sha256(key).hexdigest()[:32]}.json"
        data = {
            "motion": entry.motion_id,
            "digest": entry.digest,
            "content": entry.content,
            "store": entry.store,
            "reach": entry.reach,
            "at": entry.at.astimezone(UTC).isoformat(),
        }
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, indent=1)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as e:
            return _why(e)
        return None


def _entry(path: Path) -> KnownStore:
    """One entry file; OSError, ValueError, KeyError or TypeError if it is not one."""
    with path.open("rb") as f:
        raw = f.read(_MAX_ENTRY_BYTES + 1)
    if len(raw) > _MAX_ENTRY_BYTES:
        raise ValueError("too large to be an entry")
    data = json.loads(raw.decode("utf-8"))
    at = datetime.fromisoformat(str(data["at"]))
    if at.tzinfo is None:
        raise ValueError("a time with no zone")
    motion, digest, content, store, reach = (
        data[k] for k in ("motion", "digest", "content", "store", "reach")
    )
    if not all(isinstance(x, str) for x in (motion, digest, content, store, reach)):
        raise TypeError("not an entry")
    return KnownStore(str(motion), str(digest), str(content), str(store), str(reach), at)


def _why(e: Exception) -> str:
    if isinstance(e, OSError):
        return str(e.strerror or e)
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(e, json.JSONDecodeError):
        return "not JSON"
    return "not an entry of this list"
