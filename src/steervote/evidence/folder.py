"""An audit folder's layout, its manifest, and bounded reading of what it holds.

The folder is written by `steervote audit` and read by `steervote verify`, which must
treat it as untrusted: a path in the manifest may only name a plain file inside the
folder, and every file is read within a size bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1  # audit folder format, in audit.json

MANIFEST = "MANIFEST"
MANIFEST_HASH = "MANIFEST.sha256"
README = "README.txt"
AUDIT = "audit.json"  # format, steervote version, when, the settings that affect reading
MOTION = "motion.yaml"
ELECTORATE = "electorate.json"
BALLOTS = "ballots.json"
NOTICES = "notices.json"  # receipts, asks, reminders, announcements
MESSAGES = "messages.json"
MESSAGE_DIR = "messages"
OTHERS = "others.json"
RULINGS = "rulings.json"
RESULT = "result.json"
RESULT_TEXT = "result.txt"

# Bounds on what verify reads (bytes): a folder from elsewhere may hold anything.
MAX_MESSAGE = 64_000_000
MAX_DATA = 512_000_000
MAX_FILES = 2_000_000

_SAFE_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}(/[A-Za-z0-9][A-Za-z0-9._-]{0,200})?")
_MANIFEST_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")


class FolderUnreadable(Exception):
    """The folder cannot be read as an audit folder at all (not a difference to list)."""


def sha256_file(path: Path) -> str:
    """SHA-256 hex of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_text(folder: Path, names: list[str]) -> str:
    """`sha256sum` lines ("HEX  PATH") for these files, sorted by path: `sha256sum -c
    MANIFEST` checks them with no steervote at all."""
    return "".join(f"{sha256_file(folder / n)}  {n}\n" for n in sorted(names))


@dataclass(frozen=True, slots=True)
class Manifest:
    """The manifest as read: path -> SHA-256 hex, and the lines that could not be read."""

    hashes: dict[str, str]
    bad_lines: tuple[str, ...]


def read_manifest(folder: Path) -> Manifest:
    """MANIFEST parsed; a line that is not "HEX  PATH" with a safe relative path is bad."""
    text = read_text(folder / MANIFEST, MAX_DATA)
    hashes: dict[str, str] = {}
    bad: list[str] = []
    for line in text.splitlines():
        found = _MANIFEST_LINE.fullmatch(line)
        if found is None or not _SAFE_PATH.fullmatch(found.group(2)):
            bad.append(line[:200])
            continue
        hashes[found.group(2)] = found.group(1)
    return Manifest(hashes, tuple(bad))


def files_in(folder: Path) -> tuple[list[str], list[str]]:
    """(plain files as relative paths, other entries: links, devices, deeper folders).

    Never follows a symbolic link; looks one folder deep (messages/), no deeper.
    """
    plain: list[str] = []
    odd: list[str] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISREG(mode):
            plain.append(entry.name)
        elif stat.S_ISDIR(mode) and entry.name == MESSAGE_DIR:
            for inner in sorted(os.scandir(entry.path), key=lambda e: e.name):
                rel = f"{MESSAGE_DIR}/{inner.name}"
                if stat.S_ISREG(inner.stat(follow_symlinks=False).st_mode):
                    plain.append(rel)
                else:
                    odd.append(rel)
                if len(plain) > MAX_FILES:
                    raise FolderUnreadable(f"more than {MAX_FILES} files")
        else:
            odd.append(entry.name)
    return plain, odd


def read_bytes(path: Path, limit: int) -> bytes:
    """A plain file's bytes, refused (FolderUnreadable) past `limit` bytes or if not plain."""
    try:
        info = path.lstat()
    except OSError as e:
        raise FolderUnreadable(f"{path.name}: {e.strerror or e}") from None
    if not stat.S_ISREG(info.st_mode):
        raise FolderUnreadable(f"{path.name}: not a plain file")
    if info.st_size > limit:
        raise FolderUnreadable(f"{path.name}: {info.st_size} bytes, over the {limit} read")
    return path.read_bytes()


def read_text(path: Path, limit: int) -> str:
    """A plain file as UTF-8 text (FolderUnreadable when it is not)."""
    try:
        return read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise FolderUnreadable(f"{path.name}: not UTF-8 text") from None


def read_json(path: Path) -> Any:
    """A JSON file of the folder, bounded (FolderUnreadable when it is not JSON)."""
    try:
        return json.loads(read_text(path, MAX_DATA))
    except (ValueError, RecursionError) as e:
        raise FolderUnreadable(f"{path.name}: not JSON ({str(e)[:100]})") from None


def write_json(path: Path, value: object) -> None:
    """Indented UTF-8 JSON, keys in the order given, a newline at the end."""
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
