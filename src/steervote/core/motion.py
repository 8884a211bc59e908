"""Motion and committee schema: frozen values, loaded and validated from YAML/CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from steervote.core.address import normalize_address


class Threshold(StrEnum):
    """The voting thresholds of DESIGN.md (Robert's Rules, named explicitly)."""

    MAJORITY_OF_VOTES_CAST = "majority-of-votes-cast"
    MAJORITY_OF_MEMBERS = "majority-of-members"
    TWO_THIRDS_OF_VOTES_CAST = "two-thirds-of-votes-cast"
    TWO_THIRDS_OF_MEMBERS = "two-thirds-of-members"
    UNANIMOUS = "unanimous"


class CastingVote(StrEnum):
    """Who breaks a tie: nobody (a tie fails) or the chair's casting ruling."""

    NONE = "none"
    CHAIR = "chair"


@dataclass(frozen=True, slots=True)
class Member:
    """A voting member: a stable slug id, a name, the address ballots go to, aliases."""

    id: str
    name: str
    email: str
    aliases: tuple[str, ...] = ()
    role: str | None = None  # lower-cased on loading: "chair", "secretary", ...

    def addresses(self) -> tuple[str, ...]:
        """Every address a reply from this member may come from, as matching compares them
        (address.normalize_address: lower case, NFC, IDNA U-labels)."""
        return tuple(normalize_address(a) for a in (self.email, *self.aliases))


@dataclass(frozen=True, slots=True)
class Observer:
    """Copied for information; never votes."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Committee:
    """The electorate a motion is put to."""

    id: str
    name: str
    timezone: str  # IANA name; "UTC" if the file names none (a naive `closes` is then refused)
    members: tuple[Member, ...]
    observers: tuple[Observer, ...] = ()


@dataclass(frozen=True, slots=True)
class Motion:
    """A validated motion: everything needed to send ballots and decide the outcome."""

    id: str
    title: str
    text: str
    committee: Committee
    proposer: str  # a member id
    threshold: Threshold
    quorum: int
    closes: datetime  # timezone-aware, UTC
    require_token: bool = False
    authority: str | None = None
    casting_vote: CastingVote = CastingVote.NONE
    attachments: tuple[Path, ...] = ()
    links: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)
    # `closes` as written: a duration ("7d") counts from when the motion was first proposed.
    closes_spec: str = field(default="", compare=False)

    @property
    def electorate(self) -> int:
        """Number of voting members."""
        return len(self.committee.members)

    def member(self, member_id: str) -> Member:
        """The member with this id (KeyError if none)."""
        for m in self.committee.members:
            if m.id == member_id:
                return m
        raise KeyError(member_id)
