"""Record the secretary's rulings (one, a file of them all or nothing, or the undo of
one) and say what each replaces and where its member stands after it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from steervote.adapters.store import Store
from steervote.core.address import mailbox_addresses, normalize_address
from steervote.core.mail_text import line_problem
from steervote.core.member_lookup import find_member
from steervote.core.motion import Member, Motion
from steervote.core.records import CASTING, Ruling, Undo
from steervote.core.ruling_file import MAX_BYTES, Problem, read_ruling_lines
from steervote.core.succession import Step
from steervote.core.tally import MemberLine, StandingRuling, tally
from steervote.core.vote import Vote
from steervote.errors import InvalidInput
from steervote.services.review import Report, recorded_motion, report

PROBLEMS_SHOWN = 20  # problems of a rulings file listed before "and N more"


@dataclass(frozen=True, slots=True)
class Ruled:
    """A ruling recorded (or, in a dry run, that would be) and where its member stands.

    member: None for the chair's casting vote. replaces: what the ruling replaced, oldest
    first (what stood, and a later reply in doubt it settles); empty: no vote stood.
    line: the member's line after it (None for the casting vote); stands: whether the
    ruling stands now (a reply received later than the ruling's own time replaces it).
    """

    ruling: Ruling
    member: Member | None
    replaces: tuple[Step, ...]
    line: MemberLine | None
    stands: bool


@dataclass(frozen=True, slots=True)
class Rulings:
    """Rulings recorded (dry_run: checked, and what they would do) and the report after."""

    ruled: tuple[Ruled, ...]
    report: Report
    dry_run: bool = False


def rule(
    store: Store,
    motion_id: str,
    target: str,
    vote: Vote | None,
    *,
    reason: str,
    ruled_by: str,
    now: datetime,
    dry_run: bool = False,
) -> Rulings:
    """Record a ruling on the vote of the member `target` names (an id, an address or
    alias, or a whole name; "casting": the chair's casting vote) and say what it replaces.

    Raises UnknownMotion, or InvalidInput (exit 2, nothing recorded) for a member not found
    (with "did you mean"), an empty reason or a casting vote the motion does not have.
    """
    motion = _ruled_on(store, motion_id)
    why = _reason(reason, "--reason")
    by = _reason(ruled_by, "--by")
    ruling = Ruling(motion_id, _target(motion, target), vote, why, by, now)
    return _record(store, motion, [ruling], now=now, dry_run=dry_run)


def rule_from_csv(
    store: Store,
    motion_id: str,
    path: Path,
    *,
    ruled_by: str,
    now: datetime,
    dry_run: bool = False,
) -> Rulings:
    """Record every ruling of a CSV file (columns member, vote, reason and maybe by; a row
    without `by` is ruled by `ruled_by`), all or nothing.

    Every row is checked before anything is recorded: a member not found (with "did you
    mean"), a vote not for/against/abstain/none, an empty reason, a member named twice.
    Raises InvalidInput (exit 2, nothing recorded) listing every problem with its line.
    """
    motion = _ruled_on(store, motion_id)
    lines, problems = read_ruling_lines(_read_bounded(path), path)
    default_by = _reason(ruled_by, "--by")
    index = _MemberIndex(motion)
    rulings: list[Ruling] = []
    first_line: dict[str, int] = {}
    for row in lines:
        try:
            member_id = index.find(row.member)
        except InvalidInput as e:
            problems.append((row.line, f"{path}:{row.line}: member: {e}"))
            continue
        if member_id in first_line:
            who = "the casting vote" if member_id == CASTING else member_id
            problems.append(
                (
                    row.line,
                    f"{path}:{row.line}: member: {who} is ruled on line "
                    f"{first_line[member_id]} already (one ruling a member in a file)",
                )
            )
            continue
        first_line[member_id] = row.line
        rulings.append(
            Ruling(motion_id, member_id, row.vote, row.reason, row.by or default_by, now)
        )
    if problems:
        raise InvalidInput(_problems(path, problems))
    return _record(store, motion, rulings, now=now, dry_run=dry_run)


def _read_bounded(path: Path) -> bytes:
    """The bytes of a file a user named, refusing one larger than a rulings file can be."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read: {e.strerror or e}") from None
    return data  # read_ruling_lines refuses it when it is larger than MAX_BYTES


def _problems(path: Path, problems: list[Problem]) -> str:
    """Every problem of a file, in line order (the first PROBLEMS_SHOWN of them)."""
    n = len(problems)
    head = f"{path}: {n} problem{'s' if n > 1 else ''}; nothing recorded"
    shown = [text for _, text in sorted(problems, key=lambda p: p[0])][:PROBLEMS_SHOWN]
    more = [f"... and {n - len(shown)} more"] if n > len(shown) else []
    return "\n".join([head, *(f"  {p}" for p in shown), *more])


def _record(
    store: Store, motion: Motion, rulings: list[Ruling], *, now: datetime, dry_run: bool
) -> Rulings:
    """Record the rulings in one transaction (none in a dry run), then say of each what it
    replaced and where its member stands."""
    if dry_run:
        replies = tuple(store.received(motion.id))
        result = tally(motion, replies, [*store.rulings(motion.id), *rulings], now=now)
        after = Report(result, replies, tuple(store.ignored(motion.id)))
    else:
        store.record_rulings(rulings)
        after = report(store, motion.id, now=now)
    lines = {x.member.id: x for x in after.result.lines}
    ruled = [_ruled(x, lines.get(x.member_id), after.result.casting) for x in rulings]
    return Rulings(tuple(ruled), after, dry_run)


def _ruled(ruling: Ruling, line: MemberLine | None, casting: StandingRuling | None) -> Ruled:
    if line is None:  # the casting vote: the latest casting ruling replaces the one before
        stands = casting is not None and casting.ruling == ruling
        before = casting.replaces if stands and casting is not None else None
        return Ruled(ruling, None, (before,) if before is not None else (), None, stands)
    replaces = tuple(x.item for x in line.superseded if x.by == ruling)
    stands = line.ruling is not None and line.ruling.ruling == ruling
    return Ruled(ruling, line.member, replaces, line, stands)


def _target(motion: Motion, target: str) -> str:
    """The member id a ruling is recorded under: the member's, or CASTING."""
    if target.strip().lower() == "casting":
        if motion.casting_vote.value != "chair":
            raise InvalidInput(
                f"motion {motion.id} has casting_vote: none; there is no casting vote"
            )
        return CASTING
    return find_member(motion, target).id


def _reason(text: str, what: str) -> str:
    """Text that goes into the audit trail: one line, no control characters, not empty."""
    text = text.strip()
    if not text:
        raise InvalidInput(f"{what}: say why (it is kept in the audit trail)")
    problem = line_problem(text)
    if problem is not None:
        raise InvalidInput(f"{what}: {problem}")
    return text


class _MemberIndex:
    """find_member for many rows: ids and addresses by dictionary (a 20,000-row file must
    not scan the electorate per row); names, near misses and errors by find_member."""

    def __init__(self, motion: Motion) -> None:
        self.motion = motion
        members = motion.committee.members
        self.ids = {m.id: m.id for m in members}
        owners: dict[str, set[str]] = defaultdict(set)
        for m in members:
            for a in m.addresses():
                owners[a].add(m.id)
        self.addresses = owners

    def find(self, who: str) -> str:
        text = " ".join(who.split())
        if text.lower() == "casting":
            return _target(self.motion, text)
        if text.lower() in self.ids:
            return self.ids[text.lower()]
        if "@" in text:
            found: set[str] = set()
            for a in mailbox_addresses(text) or [normalize_address(text)]:
                found |= self.addresses.get(a, set())
            if len(found) == 1:
                return found.pop()
        return find_member(self.motion, who).id


# --- undo ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Undone:
    """A ruling undone (it stays recorded, marked undone) and where its member stands now.

    member and line: None for the casting vote; casting: the casting ruling that stands
    after the undo (an earlier one), or None.
    """

    ruling: Ruling
    member: Member | None
    line: MemberLine | None
    casting: StandingRuling | None
    report: Report


def undo(
    store: Store, motion_id: str, target: str, *, reason: str, undone_by: str, now: datetime
) -> Undone:
    """Undo the latest ruling that holds on the member `target` names (as `rule` names
    them): recorded as an undo, never deleted; the tally then passes over that ruling.

    Raises UnknownMotion, or InvalidInput (exit 2) when the member is not found, the reason
    is empty, or no ruling of theirs holds.
    """
    motion = _ruled_on(store, motion_id)
    member_id = _target(motion, target)
    why = _reason(reason, "--reason")
    undone = store.undo_ruling(motion_id, member_id, Undo(why, _reason(undone_by, "--by"), now))
    if undone is None:
        who = "the casting vote" if member_id == CASTING else member_id
        raise InvalidInput(f"no ruling on {who} holds on motion {motion_id}: nothing to undo")
    after = report(store, motion_id, now=now)
    line = next((x for x in after.result.lines if x.member.id == member_id), None)
    member = line.member if line is not None else None
    return Undone(undone, member, line, after.result.casting, after)


def _ruled_on(store: Store, motion_id: str) -> Motion:
    """The motion to rule on; InvalidInput when it was withdrawn (no result to change)."""
    motion = recorded_motion(store, motion_id)
    recorded = store.recorded_motion(motion_id)
    if recorded is not None and recorded.withdrawn is not None:
        raise InvalidInput(f"motion {motion_id} was withdrawn: there is no count to rule on")
    return motion
