"""Load and validate a motion file (motions/<id>.yaml) and the committee it is put to.

Every problem raises MotionInvalid with one line: `<file>:<line>: <field>: <what>` (see
steervote.core.fields). The files are the only thing read; the clock is the `now` argument.
"""

from __future__ import annotations

import errno
import os
import stat
from datetime import datetime
from pathlib import Path, PurePath
from typing import TypeVar
from urllib.parse import urlsplit

from steervote.core.address import normalize_address
from steervote.core.committee_file import (
    COMMITTEE_FIELDS,
    CommitteeInvalid,
    CommitteeSketch,
    committee_from,
    read_committee_file,
    top_level,
)
from steervote.core.deadline import parse_closes
from steervote.core.fields import Fields, Problems, did_you_mean, invalid, show
from steervote.core.mail_text import ID_LIMIT, header_problem
from steervote.core.motion import CastingVote, Committee, Motion, Threshold
from steervote.core.slug import is_slug, slugify
from steervote.core.yaml_lines import read_yaml
from steervote.errors import MotionInvalid

MOTION_FIELDS = (
    "id",
    "title",
    "committee",
    "text",
    "proposer",
    "threshold",
    "quorum",
    "closes",
    "require_token",
    "authority",
    "casting_vote",
    "attachments",
    "links",
)
REQUIRED = ("id", "title", "text", "proposer", "threshold", "closes")
COMMITTEES_DIR = "committees"
# What one ballot may carry in attachments, in bytes before encoding (base64 makes a third
# more): most mail servers refuse messages over 25 MB. `[ballot] max_attachment_bytes`.
DEFAULT_MAX_ATTACHMENT_BYTES = 20_000_000
# Never papers, wherever a link points: the kernel's views of processes and devices.
_SYSTEM_FOLDERS = tuple(Path(p) for p in ("/proc", "/sys", "/dev"))


def load_motion(
    path: Path, *, now: datetime, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> Motion:
    """Load and validate a motion file; `closes` is resolved against `now` (timezone-aware).

    Attachments must be regular files inside the motion's folder (after following links),
    together at most `max_attachment_bytes` (their sizes are read from the file system,
    the files are not read).

    The committee is `committee: <id>` (the file `committees/<id>.yaml` beside the motion),
    or written inline in the motion (`name`, `members` or `members_csv`, `observers`,
    `timezone`), in which case its id is the motion's id.
    """
    if now.utcoffset() is None:
        raise TypeError("now must be timezone-aware")
    fields = top_level(read_yaml(path, kind="motion file"), path)
    # Every check that does not need another's result runs, and all their problems are
    # reported together; the proposer, quorum, deadline and casting-vote checks need the
    # committee and run on what is sure of it (CommitteeSketch) when it has problems.
    found = Problems()
    found.check(fields.check_keys, (*MOTION_FIELDS, *COMMITTEE_FIELDS), REQUIRED)
    motion_id = found.check(_motion_id, fields)
    title = found.check(fields.text, "title", one_line=True)
    text = found.check(fields.text, "text")
    threshold = found.check(_choice, fields, "threshold", Threshold, None)
    casting_vote = found.check(_choice, fields, "casting_vote", CastingVote, CastingVote.NONE)
    require_token = found.check(fields.boolean, "require_token", False)
    authority = found.check(fields.optional_text, "authority")
    attachments = found.check(_attachments, fields, max_attachment_bytes)
    links = found.check(_links, fields)
    quorum_given = found.check(fields.integer, "quorum")
    # The committee's problems are listed after the motion's own.
    in_committee = Problems()
    sketch = _committee_sketch(in_committee, fields, motion_id or "")
    read = (sketch.committee, sketch.timezone) if sketch and sketch.complete else None
    proposer = quorum = closes = None
    if sketch is not None:
        if casting_vote is CastingVote.CHAIR and sketch.complete:
            found.check(_check_one_chair, fields, sketch.committee)
        proposer = found.check(_proposer, fields, sketch.committee, sure=sketch.complete)
        if sketch.electorate is not None:
            quorum = found.check(_quorum, fields, quorum_given, sketch.electorate)
        if sketch.timezone_known:
            closes = found.check(_closes, fields, now, sketch.timezone)
    found.found.extend(in_committee.found)
    found.raise_any()
    assert (
        motion_id is not None
        and title is not None
        and text is not None
        and threshold is not None
        and casting_vote is not None
        and require_token is not None
        and attachments is not None
        and links is not None
        and read is not None
        and proposer is not None
        and quorum is not None
        and closes is not None
    ), "every check passed"
    return Motion(
        id=motion_id,
        title=title,
        text=text,
        committee=read[0],
        proposer=proposer,
        threshold=threshold,
        quorum=quorum,
        closes=closes,
        require_token=require_token,
        authority=authority,
        casting_vote=casting_vote,
        attachments=attachments,
        links=links,
        source=path,
        closes_spec=str(fields.get("closes")).strip(),
    )


def _motion_id(fields: Fields) -> str:
    motion_id = fields.text("id", one_line=True)
    if not is_slug(motion_id):
        fields.fail("id", f"bad motion id {show(motion_id)}: {_slug_advice(motion_id)}")
    if len(motion_id) > ID_LIMIT:
        fields.fail(
            "id", f"is {len(motion_id)} characters long; a motion id has at most {ID_LIMIT}"
        )
    return motion_id


def _slug_advice(text: str) -> str:
    example = slugify(text) or "new-constitution"
    return f"use lowercase letters, digits and single hyphens, e.g. {show(example)}"


def _committee_sketch(found: Problems, fields: Fields, motion_id: str) -> CommitteeSketch | None:
    """What is sure of the motion's committee (all of it, when it has no problem); its
    problems go to `found`. None when nothing of it can be read."""
    try:
        committee, timezone = _committee(fields, motion_id)
    except CommitteeInvalid as e:
        found.add(e)
        return e.sketch
    except MotionInvalid as e:
        found.add(e)
        return None
    return CommitteeSketch(committee, timezone, True, len(committee.members), complete=True)


def _committee(fields: Fields, motion_id: str) -> tuple[Committee, str | None]:
    committee_id = fields.optional_text("committee", one_line=True)
    inline = [key for key in COMMITTEE_FIELDS if key in fields.data]
    if committee_id is None:
        if "members" not in fields.data and "members_csv" not in fields.data:
            fields.fail(
                "committee",
                "missing required field (the id of a file in committees/, or members: inline)",
            )
        return committee_from(fields, motion_id)
    if inline:
        fields.fail(
            inline[0],
            f"the committee is {show(committee_id)}: write {inline[0]} in its file, "
            "or leave out committee: to write the committee here",
        )
    if not is_slug(committee_id):
        fields.fail(
            "committee", f"bad committee id {show(committee_id)}: {_slug_advice(committee_id)}"
        )
    folder = fields.path.parent / COMMITTEES_DIR
    committee_path = folder / f"{committee_id}.yaml"
    if not committee_path.is_file():
        known = [p.stem for p in folder.glob("*.yaml")] if folder.is_dir() else []
        fields.fail(
            "committee",
            f"no committee {show(committee_id)}: {committee_path} does not exist"
            + did_you_mean(committee_id, known),
        )
    return read_committee_file(committee_path)


E = TypeVar("E", Threshold, CastingVote)


def _choice(fields: Fields, key: str, choices: type[E], default: E | None) -> E:
    names = [c.value for c in choices]
    if len(names) == 2:
        expected = f"expected {names[0]} or {names[1]}"
    else:
        expected = f"expected one of: {', '.join(names)}"
    word = key.replace("_", " ")
    raw = fields.get(key)
    if raw is not None and not isinstance(raw, str):
        # `casting_vote: yes` is true to YAML, `threshold: 2` a number: quote what was written.
        written = fields.data.written.get(key, str(raw))
        fields.fail(key, f"unknown {word} {show(written)} ({expected})")
    value = fields.optional_text(key, one_line=True)
    if value is None:
        if default is None:
            fields.fail(key, "missing required field")
        return default
    try:
        return choices(value.lower())
    except ValueError:
        fields.fail(key, f"unknown {word} {show(value)} ({expected})")


def _check_one_chair(fields: Fields, committee: Committee) -> None:
    chairs = [m for m in committee.members if m.role == "chair"]
    if len(chairs) != 1:
        has = "no member has" if not chairs else f"{len(chairs)} members have"
        fields.fail("casting_vote", f"'chair' needs exactly one chair, but {has} role: chair")


def _closes(fields: Fields, now: datetime, timezone: str | None) -> datetime:
    """The closing time in UTC; a naive date-time is in the committee's timezone."""
    value = fields.get("closes")
    if isinstance(value, int) and not isinstance(value, bool):
        fields.fail("closes", f"{value} has no unit (write e.g. {value}h or {value}d)")
    try:
        return parse_closes(fields.text("closes", one_line=True), now=now, timezone=timezone)
    except ValueError as exc:
        fields.fail("closes", str(exc))


def _proposer(fields: Fields, committee: Committee, *, sure: bool = True) -> str:
    """The proposer's member id, from an id, a member's address, or a member's name.

    With `sure` False the committee lacks members whose entries have problems: not being
    found among the others is then no problem of the proposer's (its id is "")."""
    value = fields.text("proposer", one_line=True)
    folded = value.casefold()
    for member in committee.members:
        if value == member.id or normalize_address(value) in member.addresses():
            return member.id
    named = [m for m in committee.members if m.name.casefold() == folded]
    if len(named) == 1:
        return named[0].id
    if named:
        ids = ", ".join(m.id for m in named)
        fields.fail(
            "proposer", f"{show(value)} is the name of more than one member ({ids}): use the id"
        )
    if not sure:
        return ""
    if any(folded in (o.email.casefold(), o.name.casefold()) for o in committee.observers):
        fields.fail("proposer", f"{show(value)} is an observer, not a member of {committee.name}")
    hint = did_you_mean(value, [m.id for m in committee.members])
    fields.fail("proposer", f"{show(value)} is not a member of {committee.name}{hint}")


def _quorum(fields: Fields, quorum: int | None, electorate: int) -> int:
    """The quorum given, or by default a majority of the voting members."""
    if quorum is None:
        return electorate // 2 + 1
    if quorum < 1:
        fields.fail("quorum", f"must be at least 1, got {quorum}")
    if quorum > electorate:
        fields.fail("quorum", f"{quorum} is more than the {electorate} voting members")
    return quorum


def _attachments(fields: Fields, max_bytes: int) -> tuple[Path, ...]:
    """The attachment files (resolved), each a regular file inside the motion's folder."""
    folder = fields.path.parent.resolve()
    attachments: list[Path] = []
    total = 0
    for name, line in fields.text_list("attachments"):

        def fail(what: str, name: str = name, line: int = line) -> MotionInvalid:
            return invalid(fields.path, line, "attachments", f"{show(name)}: {what}")

        written = PurePath(name)
        if written.is_absolute() or name.startswith("~"):
            raise fail(f"write a path inside the motion's folder ({folder}), not an absolute one")
        if ".." in written.parts:
            raise fail(f"'..' leaves the motion's folder ({folder}): keep papers inside it")
        path = fields.path.parent / name
        try:
            resolved = path.resolve(strict=True)
            info = os.stat(resolved)
        except FileNotFoundError:
            raise fail(f"no such file (looked for {path})") from None
        except RuntimeError:  # Python's "Symlink loop from ..."
            raise fail("is a link that leads back to itself (a loop of links)") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise fail("is a link that leads back to itself (a loop of links)") from None
            raise fail(f"cannot be read: {exc.strerror or 'unknown error'}") from None
        if not resolved.is_relative_to(folder) or any(
            resolved.is_relative_to(system) for system in _SYSTEM_FOLDERS
        ):
            raise fail(f"leads to {resolved}, outside the motion's folder ({folder})")
        if stat.S_ISDIR(info.st_mode):
            raise fail(f"is a folder, not a file (looked for {path})")
        if not stat.S_ISREG(info.st_mode):
            raise fail("is not a regular file (a device, pipe or socket)")
        if info.st_nlink > 1:
            # A hard link may be a file from anywhere (/etc/passwd); its other names cannot
            # be seen from here. A copy is what a motion's paper should be.
            raise fail("is a hard link to a file with other names: copy the file in instead")
        problem = header_problem(resolved.name)
        if problem is not None:  # the file's name goes into the part's headers
            raise fail(f"its file name {problem}")
        total += info.st_size
        if info.st_size > max_bytes or total > max_bytes:
            what = (
                f"is {_megabytes(info.st_size)}"
                if info.st_size > max_bytes
                else (f"brings the attachments to {_megabytes(total)}")
            )
            raise fail(
                f"{what}; a ballot carries at most {_megabytes(max_bytes)} of attachments "
                "([ballot] max_attachment_bytes; most mail servers refuse messages over 25 MB)"
            )
        attachments.append(resolved)
    return tuple(attachments)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


def _links(fields: Fields) -> tuple[str, ...]:
    """Web addresses printed on the ballot."""
    links: list[str] = []
    for link, line in fields.text_list("links"):
        parts = urlsplit(link)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or any(c.isspace() for c in link)
        ):
            raise invalid(
                fields.path, line, "links", f"{show(link)} is not an http:// or https:// address"
            )
        links.append(link)
    return tuple(links)
