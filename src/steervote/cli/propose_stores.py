"""propose's defence against the wrong folder: say when a new store will be created, and
refuse to send a motion whose ballots another store on this computer already holds (the
per-user list in adapters/known_stores.py), unless --second-store says it is meant."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from steervote.cli import consoles
from steervote.errors import InvalidInput
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from steervote.adapters.known_stores import KnownStore, KnownStores
    from steervote.config import Settings
    from steervote.core.ballot import Attachment
    from steervote.core.motion import Motion
    from steervote.services.propose import Plan

SHOWN = 3  # other stores named in one message; the rest counted


@dataclass(frozen=True, slots=True)
class StoreGuard:
    """The list of stores as read at the start of a propose, and this run's store."""

    stores: KnownStores
    entries: tuple[KnownStore, ...]
    here: str  # known_stores.store_name of this run's store
    reach: str  # how a later command reaches this run's store
    content: str  # services.propose.content_digest of the motion file


def guard_of(settings: Settings, motion: Motion, attachments: tuple[Attachment, ...]) -> StoreGuard:
    """Read the list (a warning line for what cannot be read: the send is not stopped)."""
    from steervote.adapters.known_stores import KnownStores, state_dir, store_name
    from steervote.services.propose import content_digest

    stores = KnownStores(state_dir(os.environ))
    listing = stores.read()
    if listing.unreadable is not None:
        _warn(
            f"cannot read the list of stores in {stores.where} ({listing.unreadable}): propose "
            "cannot check whether another store already has ballots of this motion"
        )
    if listing.damaged:
        more = f" and {len(listing.damaged) - 1} more" if len(listing.damaged) > 1 else ""
        _warn(
            f"the list of stores in {stores.where} has an entry that cannot be read "
            f"({listing.damaged[0]}{more}): a store it names is not checked; delete the file "
            "if it is damaged"
        )
    here = store_name(settings.database_url)
    return StoreGuard(
        stores, listing.entries, here, reach_of(settings), content_digest(motion, attachments)
    )


def reach_of(settings: Settings) -> str:
    """What a later command needs to reach this store: `cd DIR`, `--config PATH`, or the
    environment variable that named it."""
    if os.environ.get("STEERVOTE_DATABASE_URL"):
        return "$STEERVOTE_DATABASE_URL set to that URL"
    if settings.source is not None:
        source = settings.source.resolve()
        if source.name == "steervote.toml" and not os.environ.get("STEERVOTE_CONFIG"):
            return f"cd {shlex.quote(str(source.parent))}"
        return f"--config {shlex.quote(str(source))}"
    return f"cd {shlex.quote(str(settings.base_dir))}"


def place(settings: Settings) -> str:
    """Where this run's store is, as a person reads it: ./steervote.db under the current
    folder, else its whole path, or the PostgreSQL URL without its password."""
    from steervote.adapters.store import redact_url

    url = settings.database_url
    if not url.startswith("sqlite:///"):
        return redact_url(url)
    path = Path(url.removeprefix("sqlite:///")).absolute()
    try:
        return f"./{path.relative_to(Path.cwd())}"
    except ValueError:
        return str(path)


def new_store_note(settings: Settings, guard: StoreGuard) -> None:
    """Say that the store does not exist and will be created, and name the stores this user
    proposed from before: the first sign of a run in the wrong folder."""
    from steervote.adapters.known_stores import still_there

    if settings.database_url.startswith("sqlite:///"):
        said = f"No store here: a new one will be created at {place(settings)}."
    else:
        said = f"No store yet in {place(settings)} (no steervote tables): they will be created."
    seen: dict[str, KnownStore] = {}
    for e in sorted(guard.entries, key=lambda e: e.at, reverse=True):
        if e.store != guard.here and still_there(e.store):
            seen.setdefault(e.store, e)
    if seen:
        named = [f"{_shown(e.store)} ({e.reach})" for e in list(seen.values())[:SHOWN]]
        more = f" and {len(seen) - SHOWN} more" if len(seen) > SHOWN else ""
        said += f" Motions were proposed before from {', '.join(named)}{more}."
    consoles.out.print(untrusted(said, 4000), markup=False, highlight=False, soft_wrap=True)


def refuse_elsewhere(
    guard: StoreGuard, motion_id: str, plan: Plan, *, here: str, allowed: bool
) -> None:
    """InvalidInput (nothing written) when this run would send ballots of a motion another
    existing store already holds, by id or by content, unless `allowed` (--second-store).
    `here` names this run's store in the message."""
    from steervote.services.propose import elsewhere

    if allowed or not plan.to_send:
        return
    found = elsewhere(guard.entries, motion_id, guard.content, guard.here)
    if not found:
        return
    first = found[0]
    others = [f"{_shown(e.store)} (reach it with: {e.reach})" for e in found[1:SHOWN]]
    also = f"; also in {', '.join(others)}" if others else ""
    if plan.recorded and plan.already_sent:
        # This store holds the motion and sent its ballots: a copied workspace, say. What
        # this run would send (a ballot that failed here, a member added) the other store
        # may have sent, or may send, too: each copy would send it once.
        n = len(plan.to_send)
        raise InvalidInput(
            f"motion {motion_id} is also held by another store: {_shown(first.store)} "
            f"(reach it with: {first.reach}){also}. This store ({here}) sent "
            f"{plan.already_sent:,} of its ballots, and the {n:,} "
            f"{'message' if n == 1 else 'messages'} this run would send the other store may "
            "send too, so that a member gets two ballots with different tokens: send from "
            "one store only (delete or move the copy you do not use), or pass --second-store "
            "if both are meant; nothing was recorded or sent"
        )
    what = (
        f"motion {motion_id} already has ballots"
        if first.motion_id == motion_id
        else f"motion {motion_id} is motion {first.motion_id} under another id (the same "
        "title, text, members, papers and deadline), which already has ballots"
    )
    raise InvalidInput(
        f"{what} in another store: {_shown(first.store)} (since {first.at:%d %b %Y %H:%M} "
        f"UTC; reach it with: {first.reach}){also}. Proposing it from this store ({here}) "
        "would send every member a second ballot with a different token, and neither store "
        "would see the replies to the other's ballots: run propose there, or pass "
        "--second-store if a second set of ballots is meant; nothing was recorded or sent"
    )


def remember(guard: StoreGuard, plan: Plan, now: datetime) -> None:
    """Add this store to the list before its first ballot goes out (a run killed while
    sending is covered too); a warning line, never a stop, if the list cannot be written."""
    from steervote.adapters.known_stores import KnownStore

    entry = KnownStore(plan.motion.id, plan.digest, guard.content, guard.here, guard.reach, now)
    problem = guard.stores.record(entry)
    if problem is not None:
        _warn(
            f"cannot add this store to the list in {guard.stores.where} ({problem}): a propose "
            "of this motion from another store will not be caught"
        )


def _shown(name: str) -> str:
    """A store's name from the list as a person reads it: a SQLite file's path."""
    return name.removeprefix("sqlite:///")


def _warn(text: str) -> None:
    consoles.err.print(
        f"warning: {untrusted(text, 2000)}", markup=False, highlight=False, soft_wrap=True
    )
