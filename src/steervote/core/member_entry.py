"""Members as written (in YAML or CSV), checked and turned into Members with stable ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from steervote.core.address import address_problem, normalize_address
from steervote.core.fields import Problems, did_you_mean, invalid, show
from steervote.core.mail_text import name_problem
from steervote.core.motion import Member
from steervote.core.slug import is_slug, slugify

# `steervote rule MOTION casting ...` records the chair's casting vote: no member may
# have this id, or a ruling on them could not be told from the casting vote.
RESERVED_IDS = frozenset({"casting"})
# The roles a member may have, in lower case: "chair" gives the casting vote
# (`casting_vote: chair`); the others are offices shown beside the proposer's name on the
# ballot. A set, so that a misspelt "chiar" is refused where it is written rather than
# silently leaving the committee without a chair.
# Roles with a meaning of their own: "chair" gives the casting vote (`casting_vote: chair`).
# Any other role is free text (printed beside the name), unless it is a near miss of one
# of these: a typo must not quietly cost the chair the casting vote.
ROLES = ("chair", "secretary", "treasurer", "vice-chair")


@dataclass(frozen=True, slots=True)
class MemberEntry:
    """One member as the user wrote it, and where, so errors can point at it."""

    name: str
    email: str
    path: Path
    line: int
    aliases: tuple[str, ...] = ()
    role: str | None = None
    id: str | None = None
    prefix: str = ""  # "members[3]." for a YAML list item; "" for a CSV row (the line says which)
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def where(self) -> str:
        """File and line, for "also on ..." references."""
        return f"line {self.line}" if self.prefix else f"{self.path.name} line {self.line}"

    def fail(self, key: str, what: str) -> NoReturn:
        """Raise the located MotionInvalid for one of this member's fields."""
        raise invalid(self.path, self.key_lines.get(key, self.line), self.prefix + key, what)


def build_members(
    entries: Iterable[MemberEntry], found: Problems | None = None
) -> tuple[Member, ...]:
    """Check every entry and give each a stable id; every problem of every member is
    reported: raised together (MotionInvalid), or, with `found`, added to it and the members
    without a problem returned.

    A member's id is the explicit `id` if given, otherwise the slug of the name. Two
    members may not share an id or an address (email or alias, compared as matching
    compares them: address.normalize_address, so case, Unicode NFC/NFD and IDNA A-labels
    do not make two addresses of one mailbox). A clash is reported on the later member;
    an entry's id and sound addresses count for the clash checks even when it has another
    problem, so one problem never hides another.
    """
    members: list[Member] = []
    by_id: dict[str, MemberEntry] = {}
    by_address: dict[str, MemberEntry] = {}
    problems = Problems()
    for entry in entries:
        member = problems.check(_member, entry, by_id, by_address)
        if member is not None:
            members.append(member)
    if found is None:
        problems.raise_any()
    else:
        found.found.extend(problems.found)
    return tuple(members)


def _member(
    entry: MemberEntry, by_id: dict[str, MemberEntry], by_address: dict[str, MemberEntry]
) -> Member:
    """One entry checked against itself and the members before it (by id, by address),
    every problem of it at once; its id and sound addresses join theirs."""
    found = Problems()
    problem = name_problem(entry.name)
    if problem is not None:
        found.check(entry.fail, "name", problem)
    member_id = found.check(_member_id, entry)
    if member_id is not None:
        other = by_id.setdefault(member_id, entry)
        if other is not entry:
            found.check(_id_clash, entry, other, member_id)
    for key, address in [("email", entry.email), *(("aliases", a) for a in entry.aliases)]:
        found.check(_address, entry, key, address, by_address)
    found.check(_check_own_addresses, entry)
    role = found.check(_role, entry)
    found.raise_any()
    assert member_id is not None
    return Member(member_id, entry.name, entry.email, entry.aliases, role)


def _address(
    entry: MemberEntry, key: str, address: str, by_address: dict[str, MemberEntry]
) -> None:
    """A sound address no member before this one has; it joins `by_address`."""
    problem = address_problem(address)
    if problem is not None:
        entry.fail(key, f"invalid email address {show(address)}: {problem}")
    owner = by_address.setdefault(normalize_address(address), entry)
    if owner is not entry:
        entry.fail(key, f"{show(address)} is also an address of {owner.name} ({owner.where()})")


def _role(entry: MemberEntry) -> str | None:
    """The entry's role in lower case (so that `role == "chair"` holds however the file
    spells it), None if it has none; MotionInvalid at the role when it is a near miss of
    one of ROLES ('chiar', 'Chair.'), which is a typo rather than a role of its own."""
    if not entry.role:
        return None
    role = entry.role.lower()
    near = did_you_mean(role, ROLES)
    if role not in ROLES and near:
        entry.fail(
            "role",
            f"unknown role {show(entry.role)}{near}; the roles steervote knows are "
            f"{', '.join(ROLES)} (chair gives the casting vote); any other is shown as written",
        )
    return role


def _member_id(entry: MemberEntry) -> str:
    if entry.id is not None and entry.id.casefold() in RESERVED_IDS:
        entry.fail(
            "id", f"{show(entry.id)} is reserved for the chair's casting vote: give another id"
        )
    if entry.id is not None:
        if not is_slug(entry.id):
            entry.fail(
                "id",
                f"bad member id {show(entry.id)}: use lowercase letters, digits and single "
                f"hyphens, e.g. {show(slugify(entry.id) or 'jon-lansman')}",
            )
        return entry.id
    generated = slugify(entry.name)
    if not generated:
        entry.fail("name", f"cannot make an id from the name {show(entry.name)}; give an id")
    if generated in RESERVED_IDS:
        entry.fail(
            "name",
            f"the id {show(generated)} made from this name is reserved for the chair's "
            "casting vote: give this member another id (e.g. id: "
            f"{generated}-{slugify(entry.email.partition('@')[0]) or 'member'})",
        )
    return generated


def _id_clash(entry: MemberEntry, other: MemberEntry, member_id: str) -> NoReturn:
    if entry.id is not None and other.id is not None:
        entry.fail("id", f"duplicate member id {show(member_id)} (also {other.where()})")
    key = "id" if entry.id is not None else "name"
    entry.fail(
        key,
        f"member id {show(member_id)} is also the id of {other.name} ({other.where()}); "
        "give one of them an explicit id",
    )


def _check_own_addresses(entry: MemberEntry) -> None:
    seen: set[str] = set()
    for address in (entry.email, *entry.aliases):
        if normalize_address(address) in seen:
            entry.fail("aliases", f"{show(address)} is given twice for {entry.name}")
        seen.add(normalize_address(address))
