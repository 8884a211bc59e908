"""Load and validate a committee: a file of its own, or written inline in a motion."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path

from steervote.core.address import address_problem, normalize_address
from steervote.core.deadline import timezone_named
from steervote.core.fields import (
    FieldProblem,
    Fields,
    FileProblems,
    Problems,
    did_you_mean,
    invalid,
    kind,
    show,
)
from steervote.core.mail_text import name_problem
from steervote.core.member_entry import MemberEntry, build_members
from steervote.core.members_csv import read_members_csv
from steervote.core.motion import Committee, Member, Observer
from steervote.core.slug import is_slug, slugify
from steervote.core.yaml_lines import LineList, LineMap, read_yaml

COMMITTEE_FIELDS = ("name", "timezone", "members", "members_csv", "observers")
MEMBER_FIELDS = ("name", "email", "aliases", "role", "id")
OBSERVER_FIELDS = ("name", "email")
# When a committee gives no timezone, times are shown in UTC, but a `closes` written
# without an offset is refused (see load_motion): the committee's clock is not guessed.
DEFAULT_TIMEZONE = "UTC"
_NAME_ADDR_RE = re.compile(r"\s*(?:\"?(?P<name>[^\"<>]*?)\"?\s*)?<(?P<addr>[^<>]*)>\s*")


def load_committee(path: Path) -> Committee:
    """Load and validate a committee file; its id is the file name without `.yaml`."""
    committee, _ = read_committee_file(path)
    return committee


@dataclass(frozen=True, slots=True)
class CommitteeSketch:
    """What is sure of a committee, read with or without problems: enough to check a
    motion's other fields against it, so that a problem in the committee hides none there."""

    committee: Committee  # its members and observers that have no problem
    timezone: str | None  # the timezone it names
    timezone_known: bool  # False: the timezone was written wrongly, or perhaps misspelt
    electorate: int | None  # voting members written; None if none can be counted
    complete: bool  # every member written is in `committee`


class CommitteeInvalid(FileProblems):
    """The problems of a committee, and what is sure of it despite them."""

    def __init__(self, problems: tuple[FieldProblem, ...], sketch: CommitteeSketch) -> None:
        super().__init__(problems)
        self.sketch = sketch


def read_committee_file(path: Path) -> tuple[Committee, str | None]:
    """The committee of a file, and the timezone it names (None if it names none);
    CommitteeInvalid listing every problem."""
    if not is_slug(path.stem):
        raise invalid(
            path,
            None,
            "",
            f"bad committee id {show(path.stem)}: the file name must be a lowercase slug "
            f"such as {show(slugify(path.stem) or 'steering-group')}.yaml",
        )
    fields = top_level(read_yaml(path, kind="committee file"), path)
    found = Problems()
    found.check(fields.check_keys, COMMITTEE_FIELDS, ("name",))
    keys_ok = not found.found
    try:
        committee, timezone = committee_from(fields, path.stem)
        sketch = CommitteeSketch(committee, timezone, True, len(committee.members), complete=True)
    except CommitteeInvalid as e:
        found.add(e)
        sketch = e.sketch
    problems = found.kept()
    if problems:
        # A misspelt field may be the timezone (`timezon:`): then it is not known.
        known = sketch.timezone_known and (keys_ok or "timezone" in fields.data)
        raise CommitteeInvalid(problems, replace(sketch, timezone_known=known))
    return sketch.committee, sketch.timezone


def top_level(data: object, path: Path) -> Fields:
    """The top-level mapping of a file the user wrote."""
    if data is None:
        raise invalid(path, None, "", "the file is empty")
    if not isinstance(data, LineMap):
        raise invalid(
            path,
            getattr(data, "line", 1),
            "",
            f"expected a mapping of fields (name: value), got {kind(data)}",
        )
    return Fields(data, path)


def committee_from(fields: Fields, committee_id: str) -> tuple[Committee, str | None]:
    """The committee described by these fields (a committee file, or a motion's inline one).

    CommitteeInvalid lists every independent problem at once: the name, the timezone, each
    member and each observer are checked whatever the others hold.
    """
    found = Problems()
    name = found.check(fields.text, "name", one_line=True)
    before = len(found.found)
    timezone = found.check(_timezone, fields)
    timezone_known = len(found.found) == before
    before = len(found.found)
    read = found.check(_member_entries, fields, found)
    members = build_members(read[1], found) if read is not None else ()
    if read is not None and not members and not found.found:
        found.check(fields.fail, read[0], "no voting members")
    complete = read is not None and len(found.found) == before
    observers = found.check(_observers, fields, members) or ()
    committee = Committee(
        committee_id, name or committee_id, timezone or DEFAULT_TIMEZONE, members, observers
    )
    problems = found.kept()
    if problems:
        # Each item of the list (each row of the CSV) is a member, whatever its problem.
        electorate = read[2] if read is not None and read[2] > 0 else None
        sketch = CommitteeSketch(committee, timezone, timezone_known, electorate, complete)
        raise CommitteeInvalid(problems, sketch)
    return committee, timezone


def _timezone(fields: Fields) -> str | None:
    timezone = fields.optional_text("timezone", one_line=True)
    if timezone is not None:
        try:
            timezone_named(timezone)
        except ValueError as exc:
            hint = did_you_mean(timezone, zoneinfo.available_timezones())
            fields.fail(
                "timezone", f"{exc}{hint or ' (expected an IANA name such as Europe/London)'}"
            )
    return timezone


def _member_entries(fields: Fields, found: Problems) -> tuple[str, list[MemberEntry], int]:
    """The member entries that could be read, the field they came from (members or
    members_csv), and how many members are written; the problems of the others go to
    `found`."""
    members, csv_name = fields.get("members"), fields.get("members_csv")
    if members is not None and csv_name is not None:
        fields.fail("members_csv", "give members or members_csv, not both")
    key = "members_csv" if csv_name is not None else "members"
    value = csv_name if csv_name is not None else members
    if value is None:
        fields.fail("members", "missing required field (a list of members, or a CSV file of them)")
    if isinstance(value, str):
        csv_path = fields.path.parent / value.strip()
        if not csv_path.is_file():
            fields.fail(key, f"no such file {show(value.strip())} (looked for {csv_path})")
        before = len(found.found)
        entries = read_members_csv(csv_path, found)
        # A bad row has one problem: the rows written are those read and those refused.
        return key, entries, len(entries) + len(found.found) - before
    if key == "members_csv" or not isinstance(value, LineList):
        fields.fail(key, f"expected a list of members or the name of a CSV file, got {kind(value)}")
    items = [found.check(_member_entry, fields, value, i) for i in range(len(value))]
    return key, [e for e in items if e is not None], len(value)


def _member_entry(fields: Fields, members: LineList, index: int) -> MemberEntry:
    if isinstance(members[index], str):
        raise invalid(
            fields.path,
            members.line_of(index),
            f"members[{index + 1}]",
            f"write a member as name: and email: fields, not as text {show(members[index])}",
        )
    item = Fields.of(members[index], fields.path, f"members[{index + 1}]", members.line_of(index))
    found = Problems()
    found.check(item.check_keys, MEMBER_FIELDS, ("name", "email"))
    name = found.check(item.text, "name", one_line=True)
    email = found.check(item.text, "email", one_line=True)
    aliases = found.check(item.text_list, "aliases")
    role = found.check(item.optional_text, "role", one_line=True)
    member_id = found.check(item.optional_text, "id", one_line=True)
    found.raise_any()
    assert name is not None and email is not None and aliases is not None
    return MemberEntry(
        name=name,
        email=email,
        path=fields.path,
        line=item.data.line,
        aliases=tuple(alias for alias, _ in aliases),
        role=role,
        id=member_id,
        prefix=item.prefix,
        key_lines={k: v for k, v in item.data.key_lines.items() if isinstance(k, str)},
    )


def _observers(fields: Fields, members: tuple[Member, ...]) -> tuple[Observer, ...]:
    value = fields.get("observers")
    if value is None:
        return ()
    if not isinstance(value, LineList):
        fields.fail("observers", f"expected a list, got {kind(value)}")
    member_of = {address: m for m in members for address in m.addresses()}
    seen: dict[str, int] = {}
    observers: list[Observer] = []
    found = Problems()
    for index in range(len(value)):
        observer = found.check(_checked_observer, fields.path, value, index, member_of, seen)
        if observer is not None:
            observers.append(observer)
    found.raise_any()
    return tuple(observers)


def _checked_observer(
    path: Path, value: LineList, index: int, member_of: dict[str, Member], seen: dict[str, int]
) -> Observer:
    """One observer, checked; its address is noted in `seen` (address -> line)."""
    field, line = f"observers[{index + 1}]", value.line_of(index)
    observer = _observer(path, field, line, value[index])
    problem = name_problem(observer.name)
    if problem is not None:
        raise invalid(path, line, field, f"the name {problem}")
    problem = address_problem(observer.email)
    if problem is not None:
        raise invalid(path, line, field, f"invalid email address {show(observer.email)}: {problem}")
    # Compared as matching compares addresses: case, NFC/NFD and IDNA A-labels aside.
    address = normalize_address(observer.email)
    member = member_of.get(address)
    if member is not None:
        raise invalid(
            path,
            line,
            field,
            f"{show(observer.email)} is the address of member {member.name} ({member.id}); "
            "a member votes and cannot also be an observer",
        )
    if address in seen:
        raise invalid(
            path, line, field, f"{show(observer.email)} is listed twice (also line {seen[address]})"
        )
    seen[address] = line
    return observer


def _observer(path: Path, field: str, line: int, item: object) -> Observer:
    if isinstance(item, str):
        text = item.strip()
        match = _NAME_ADDR_RE.fullmatch(text)
        if match is not None:
            return Observer((match["name"] or "").strip(), match["addr"].strip())
        if "<" in text or ">" in text:
            raise invalid(path, line, field, f'cannot read {show(text)}: expected "Name <address>"')
        return Observer("", text)
    if isinstance(item, LineMap):
        observer = Fields.of(item, path, field, line)
        observer.check_keys(OBSERVER_FIELDS, ("email",))
        name = observer.optional_text("name", one_line=True) or ""
        return Observer(name, observer.text("email", one_line=True))
    raise invalid(path, line, field, f'expected "Name <address>" or name:/email:, got {kind(item)}')
