"""Record the secretary's rulings (one, a file of them all or nothing, or the undo of
one) and say what each replaces and where its member stands after it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from steervote.adapters.store import RecordedMotion, Store
from steervote.core.address import mailbox_addresses, normalize_address
from steervote.core.mail_text import line_problem
from steervote.core.member_lookup import find_member, members_named
from steervote.core.motion import CastingVote, Member, Motion
from steervote.core.records import CASTING, Received, Ruling, Undo
from steervote.core.rules import Result
from steervote.core.ruling_file import MAX_BYTES, Problem, read_ruling_lines
from steervote.core.succession import Step
from steervote.core.tally import MemberLine, StandingRuling, Status, TallyResult, tally
from steervote.core.vote import Vote
from steervote.errors import InvalidInput
from steervote.services.review import Report, recorded_or_unknown

PROBLEMS_SHOWN = 20  # problems of a rulings file listed before "and N more"
CASTING_WORD = "casting"  # MEMBER as typed for the chair's casting vote (also: --casting)


@dataclass(frozen=True, slots=True)
class Ruled:
    """A ruling recorded (or, in a dry run, that would be) and where its member stands.

    member: None for the chair's casting vote. replaces: what the ruling replaced, oldest
    first (what stood, and a later reply in doubt it settles); empty: no vote stood.
    line: the member's line after it (None for the casting vote); stands: whether the
    ruling stands now (a reply received later than the ruling's own time replaces it).
    late: when no vote stood because the member's reply came after the deadline, that
    reply (not counted, never replaced: the ruling counts where it did not).
    """

    ruling: Ruling
    member: Member | None
    replaces: tuple[Step, ...]
    line: MemberLine | None
    stands: bool
    late: Received | None = None


@dataclass(frozen=True, slots=True)
class FinalChange:
    """A result changed after the deadline: from `before` to `after`.

    settles: the change only completes what the final result awaited (rulings on members
    whose replies were in review, or the chair's casting vote on a final tie): routine
    after a deadline. Otherwise a final result is overturned (a counted vote ruled
    otherwise, a late reply accepted, a ruling undone), and that is confirmed first.
    """

    before: Result
    after: Result
    settles: bool


def final_change(before: TallyResult, after: TallyResult, *, settles: bool) -> FinalChange | None:
    """How a change of rulings changed a final result (the deadline had passed), or None
    when the motion is still open or the result is the same."""
    if not after.closed or before.outcome.result is after.outcome.result:
        return None
    return FinalChange(before.outcome.result, after.outcome.result, settles)


def _settles(ruling: Ruling, before: TallyResult, lines: dict[str, MemberLine]) -> bool:
    """Whether the ruling completes what the count awaited: a member in review, or the
    chair's casting vote on a tie."""
    if ruling.member_id == CASTING:
        return before.outcome.result is Result.TIED
    line = lines.get(ruling.member_id)
    return line is not None and line.status is Status.NEEDS_REVIEW


@dataclass(frozen=True, slots=True)
class Rulings:
    """Rulings recorded (dry_run: checked, and what they would do) and the report after.

    already: rulings asked for that already stand (the same vote and reason are the
    member's standing ruling): not recorded again, each given as the ruling that stands.
    before: the count before. held: nothing was recorded because the rulings would change
    a final result and that was not allowed (ruled and report say what they would do).
    change: how they change (or would change) a final result, or None.
    """

    ruled: tuple[Ruled, ...]
    report: Report
    change: FinalChange | None = None
    dry_run: bool = False
    already: tuple[Ruled, ...] = ()
    held: bool = False


def rule(
    store: Store,
    motion_id: str,
    target: str | None,
    vote: Vote | None,
    *,
    reason: str,
    ruled_by: str,
    now: datetime,
    dry_run: bool = False,
    change_final: bool = False,
) -> Rulings:
    """Record a ruling on the vote of the member `target` names (an id, an address or
    alias, or a whole name; "casting", or None, the chair's casting vote) and say what it
    replaces. A ruling that already stands (same member, vote and reason) is not recorded
    again: it is returned in `already`. A ruling that would change a final result is
    recorded only with `change_final`; without it nothing is recorded and the Rulings
    returned is `held`.

    Raises UnknownMotion, or InvalidInput (exit 2, nothing recorded) for a member not found
    (with "did you mean"), "casting" when it also names a member, an empty reason or a
    casting vote the motion does not have.
    """
    recorded = _ruled_on(store, motion_id)
    why = _reason(reason, "--reason")
    by = _reason(ruled_by, "--by")
    ruling = Ruling(motion_id, _target(recorded.motion, target), vote, why, by, now)
    return _record(store, recorded, [ruling], now=now, dry_run=dry_run, change_final=change_final)


def rule_from_csv(
    store: Store,
    motion_id: str,
    path: Path,
    *,
    ruled_by: str,
    now: datetime,
    dry_run: bool = False,
    change_final: bool = False,
) -> Rulings:
    """Record every ruling of a CSV file (columns member, vote, reason and maybe by; a row
    without `by` is ruled by `ruled_by`), all or nothing; a row whose ruling already stands
    (the same vote and reason) is not recorded again, so a file run twice records once.
    A file that would change a final result is recorded only with `change_final` (else
    `held`, nothing recorded).

    Every row is checked before anything is recorded: a member not found (with "did you
    mean"), a vote not for/against/abstain/none, an empty reason, a member named twice.
    Raises InvalidInput (exit 2, nothing recorded) listing every problem with its line.
    """
    recorded = _ruled_on(store, motion_id)
    lines, problems = read_ruling_lines(_read_bounded(path), path)
    default_by = _reason(ruled_by, "--by")
    index = _MemberIndex(recorded.motion)
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
    return _record(store, recorded, rulings, now=now, dry_run=dry_run, change_final=change_final)


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
    store: Store,
    recorded: RecordedMotion,
    rulings: list[Ruling],
    *,
    now: datetime,
    dry_run: bool,
    change_final: bool,
) -> Rulings:
    """Record, in one transaction, the rulings that do not already stand (none in a dry run,
    none when they would change a final result without `change_final`), then say of each
    what it replaced and where its member stands."""
    motion = recorded.motion
    replies = tuple(store.received(motion.id))
    existing = store.rulings(motion.id)
    before = tally(motion, replies, existing, now=now)
    lines = {x.member.id: x for x in before.lines}
    already: list[Ruled] = []
    new: list[Ruling] = []
    for ruling in rulings:
        line = lines.get(ruling.member_id)
        standing = _same_standing(ruling, line, before.casting)
        if standing is None:
            new.append(ruling)
        else:
            already.append(Ruled(standing, line.member if line else None, (), line, True))
    after = tally(motion, replies, [*existing, *new], now=now)
    settles = all(_settles(x, before, lines) for x in new)
    change = final_change(before, after, settles=settles)
    held = bool(new) and not (dry_run or change_final) and change is not None and not settles
    if new and not dry_run and not held:
        store.record_rulings(new)
        # Read back: what the store holds is what stands (another secretary may rule too).
        after = tally(motion, replies, store.rulings(motion.id), now=now)
        change = final_change(before, after, settles=settles)
    late = {x.ref: x for x in replies}
    after_lines = {x.member.id: x for x in after.lines}
    ruled = [
        _ruled(x, after_lines.get(x.member_id), after.casting, _late(lines.get(x.member_id), late))
        for x in new
    ]
    report = Report(after, replies, tuple(store.ignored(motion.id)))
    return Rulings(tuple(ruled), report, change, dry_run, tuple(already), held)


def _same_standing(
    ruling: Ruling, line: MemberLine | None, casting: StandingRuling | None
) -> Ruling | None:
    """The ruling that stands for the member (or the casting vote) when it has the same
    vote and reason as `ruling` (who ruled does not matter: a file run again by another
    login is the same file), else None. A ruling a later reply replaced, or that a later
    reply in review questions, does not stand: ruling again settles it."""
    if line is None:
        standing = casting.ruling if casting is not None else None
    elif line.how == "ruling" and line.ruling is not None:
        standing = line.ruling.ruling
    else:
        standing = None
    if standing is None or (standing.vote, standing.reason) != (ruling.vote, ruling.reason):
        return None
    return standing


def _late(line: MemberLine | None, replies: dict[int, Received]) -> Received | None:
    """The member's reply that came after the deadline, when that is all they sent."""
    if line is None or line.status is not Status.LATE or line.ref is None:
        return None
    return replies.get(line.ref)


def _ruled(
    ruling: Ruling,
    line: MemberLine | None,
    casting: StandingRuling | None,
    late: Received | None,
) -> Ruled:
    if line is None:  # the casting vote: the latest casting ruling replaces the one before
        stands = casting is not None and casting.ruling == ruling
        before = casting.replaces if stands and casting is not None else None
        return Ruled(ruling, None, (before,) if before is not None else (), None, stands)
    replaces = tuple(x.item for x in line.superseded if x.by == ruling)
    stands = line.ruling is not None and line.ruling.ruling == ruling
    return Ruled(ruling, line.member, replaces, line, stands, late)


def _target(motion: Motion, target: str | None) -> str:
    """The member id a ruling is recorded under: the member's, or CASTING for the chair's
    casting vote (target None, or the word "casting" when it names no member)."""
    if target is not None and " ".join(target.split()).lower() != CASTING_WORD:
        return find_member(motion, target).id
    if target is not None:
        named = members_named(motion, target)
        if named:
            raise InvalidInput(_ambiguous(motion, target, named))
    if motion.casting_vote is not CastingVote.CHAIR:
        raise InvalidInput(f"motion {motion.id} has casting_vote: none; there is no casting vote")
    return CASTING


def _ambiguous(motion: Motion, said: str, named: list[Member]) -> str:
    """Why the word "casting" is refused where it is also a member's name, and how to say
    each of its two readings so that it has one."""
    who = " and ".join(f"{m.name} ({m.id})" for m in named)
    ways = " or ".join(f"{m.id} or {m.email}" for m in named)
    if motion.casting_vote is CastingVote.CHAIR:
        casting = (
            f"; for the chair's casting vote, the option --casting: steervote rule {motion.id} "
            "--casting VOTE --reason TEXT"
        )
    else:
        casting = " (this motion has no casting vote: casting_vote: none)"
    return (
        f"{said!r} is ambiguous on motion {motion.id}: it names the member {who}, and "
        f"'casting' also means the chair's casting vote. For the member give an id or "
        f"address: {ways}{casting}"
    )


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
        if text.lower() == CASTING_WORD:
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
    after the undo (an earlier one), or None. before: the count before the undo. held:
    nothing was recorded because the undo would change a final result and that was not
    allowed (ruling is the one it would undo; line and report say what would stand).
    change: how it changes (or would change) a final result; an undo never settles one.
    """

    ruling: Ruling
    member: Member | None
    line: MemberLine | None
    casting: StandingRuling | None
    report: Report
    change: FinalChange | None = None
    held: bool = False


def undo(
    store: Store,
    motion_id: str,
    target: str | None,
    *,
    reason: str,
    undone_by: str,
    now: datetime,
    change_final: bool = False,
) -> Undone:
    """Undo the latest ruling that holds on the member `target` names (as `rule` names
    them; None: the chair's casting vote): recorded as an undo, never deleted; the tally
    then passes over that ruling. An undo that would change a final result is recorded only
    with `change_final`; without it nothing is recorded and the Undone returned is `held`.

    Raises UnknownMotion, or InvalidInput (exit 2) when the member is not found, the reason
    is empty, or no ruling of theirs holds.
    """
    recorded = _ruled_on(store, motion_id)
    motion = recorded.motion
    member_id = _target(motion, target)
    why = _reason(reason, "--reason")
    u = Undo(why, _reason(undone_by, "--by"), now)
    replies = tuple(store.received(motion_id))
    existing = store.rulings(motion_id)
    latest = _latest_holding(existing, member_id)
    if latest is None:
        raise _nothing_to_undo(motion_id, member_id)
    before = tally(motion, replies, existing, now=now)
    after = tally(
        motion, replies, [replace(x, undone=u) if x is latest else x for x in existing], now=now
    )
    held = final_change(before, after, settles=False) is not None and not change_final
    if not held:
        undone = store.undo_ruling(motion_id, member_id, u)
        if undone is None:  # another secretary undid it meanwhile
            raise _nothing_to_undo(motion_id, member_id)
        latest = undone
        after = tally(motion, replies, store.rulings(motion_id), now=now)
    line = next((x for x in after.lines if x.member.id == member_id), None)
    member = line.member if line is not None else None
    report = Report(after, replies, tuple(store.ignored(motion_id)))
    change = final_change(before, after, settles=False)  # as recorded, or as it would be
    return Undone(latest, member, line, after.casting, report, change, held)


def _nothing_to_undo(motion_id: str, member_id: str) -> InvalidInput:
    who = "the casting vote" if member_id == CASTING else member_id
    return InvalidInput(f"no ruling on {who} holds on motion {motion_id}: nothing to undo")


def _latest_holding(rulings: list[Ruling], member_id: str) -> Ruling | None:
    """The member's latest ruling not undone, as Store.undo_ruling chooses it (the latest
    by time; of two at the same time, the one recorded last), or None."""
    holding = [x for x in rulings if x.member_id == member_id and x.undone is None]
    return holding[-1] if holding else None  # Store.rulings: by time, then as recorded


def _ruled_on(store: Store, motion_id: str) -> RecordedMotion:
    """The motion to rule on, loaded once; InvalidInput when it was withdrawn (there is no
    result to change)."""
    recorded = recorded_or_unknown(store, motion_id)
    if recorded.withdrawn is not None:
        raise InvalidInput(f"motion {motion_id} was withdrawn: there is no count to rule on")
    return recorded
