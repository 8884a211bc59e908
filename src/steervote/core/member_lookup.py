"""Find a voting member of a motion from what a secretary types: an id, an address or
alias, or a whole name; a near miss gets "did you mean", never a guess.

Names compare with accents dropped and case folded ("cecile wright" is "Cécile Wright");
addresses compare as matching compares them (address.normalize_address).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from steervote.core.address import mailbox_addresses, normalize_address
from steervote.core.motion import Member, Motion
from steervote.errors import InvalidInput


def find_member(motion: Motion, who: str) -> Member:
    """The voting member named by id, address or alias, or whole name (case and accents
    ignored). Raises InvalidInput with "did you mean" for a near miss, or the ids of the
    members who share a name."""
    text = " ".join(who.split())
    if not text:
        raise InvalidInput("MEMBER is empty: give a member id, an address or a whole name")
    found = members_named(motion, text)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        ids = ", ".join(m.id for m in found)
        raise InvalidInput(f"{who!r} names several members of {motion.id}: {ids}; give an id")
    if "@" in text:
        addresses = mailbox_addresses(text) or [normalize_address(text)]
        if any(normalize_address(o.email) in addresses for o in motion.committee.observers):
            raise InvalidInput(
                f"{who!r} is an observer of {motion.id}: a copy for information, no vote"
            )
    members = motion.committee.members
    raise InvalidInput(f"no member {who!r} on motion {motion.id}{_did_you_mean(members, text)}")


def members_named(motion: Motion, who: str) -> list[Member]:
    """The voting members `who` names exactly, no near misses: the member of that id, else
    (text with an @) every member with that address or alias, else every member of that
    whole name (case and accents ignored). Empty when none."""
    text = " ".join(who.split())
    members = motion.committee.members
    by_id = [m for m in members if m.id == text.lower()]
    if by_id:
        return by_id
    if "@" in text:
        addresses = set(mailbox_addresses(text) or [normalize_address(text)])
        return [m for m in members if addresses & set(m.addresses())]
    return [m for m in members if _folded(m.name) == _folded(text)]


def _folded(name: str) -> str:
    """A name as compared: accents dropped, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _did_you_mean(members: Sequence[Member], text: str) -> str:
    """ "; did you mean a (A) or b (B)?" for the members nearest to text, or a hint."""
    keys: dict[str, Member] = {}
    if "@" in text:
        # Addresses of one organisation share their domain: only a close spelling is near.
        wanted, cutoff, near = normalize_address(text), 0.85, []
        for m in members:
            keys.update((a, m) for a in m.addresses())
    else:
        wanted, cutoff = _folded(text), 0.6
        # Part of a whole name ("sam", "cecile wright") first, then spellings near one.
        words = set(wanted.split())
        near = [m for m in members if words <= set(_folded(m.name).split())]
        for m in members:
            keys.update(((m.id, m), (_folded(m.name), m)))
    for key in difflib.get_close_matches(wanted, keys, n=3, cutoff=cutoff):
        if keys[key] not in near:
            near.append(keys[key])
    if not near:
        return " (give a member id, an address or alias, or a whole name)"
    named = " or ".join(f"{m.id} ({m.name})" for m in near[:3])
    more = f" (and {len(near) - 3} more)" if len(near) > 3 else ""
    return f"; did you mean {named}?{more}"
