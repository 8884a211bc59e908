"""Match a message to its motion and member, or say why it cannot be matched.

Strongest evidence first (DESIGN.md, Matching): the ballot's personal token in a
recipient address or in In-Reply-To/References; then the motion tag in the
subject plus a sender that is the member's address or alias. Every match records its
strength (core.strength): the token from the member's own address, authenticated or
not, above the subject tag or the thread with the member's address, above anything
weaker.

A reply belongs to its sender. A token used by another member of the motion (a
reply-all to someone's ballot or reply) is that other member's reply, matched by address;
the token's owner is untouched. A token used from a stranger's address is never its
owner's vote: it is matched for review ("ballot forwarded?"). A message with several
sender addresses (one From holding two, or two From headers) is never matched by its
sender: a forged address could ride on a member's.

Before a reply is read, its thread must agree with itself (core.thread): the token's
motion, the subject's tag and the ballot it quotes. A conflict is review on every motion
named, as is one member's tokens for several motions. A DKIM or DMARC failure reported by
the receiving server sends any match to review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import Message
from enum import StrEnum

from steervote.core.address import mailbox_addresses
from steervote.core.ballot import MOTION_HEADER, TOKEN_LENGTH
from steervote.core.strength import Strength, Verdict, authentication, token_strength
from steervote.core.thread import quoted_motions, subject_tags

TOKEN_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_TOKEN_IN_ADDRESS = re.compile(rf"\+([a-z2-7]{{{TOKEN_LENGTH}}})@", re.IGNORECASE)
# A ballot's Message-ID, or a later notice's (core.records.NoticeKind): each its own token.
NOTICE_PREFIXES = ("ballot", "receipt", "ask", "reminder", "result")
_TOKEN_IN_MESSAGE_ID = re.compile(
    rf"<(ballot|receipt|ask|reminder|result)\.[a-z0-9-]+\.([a-z2-7]{{{TOKEN_LENGTH}}})@[^>\s]+>",
    re.IGNORECASE,
)


class How(StrEnum):
    """How a reply was tied to its ballot; the report shows it for every counted vote."""

    TOKEN = "token"  # noqa: S105 - a matching method, not a secret
    SUBJECT = "subject+sender"
    THREAD = "thread+sender"  # another member's token in the thread, the sender's address


@dataclass(frozen=True, slots=True)
class Directory:
    """Everything matching needs, loaded once per tally run."""

    tokens: dict[str, tuple[str, str]]  # token -> (motion id, member id)
    members: dict[str, dict[str, str]]  # motion id -> normalize_address(address) -> member id
    require_token: dict[str, bool] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # motion id -> title
    closes: dict[str, datetime] = field(default_factory=dict)  # motion id -> deadline
    ballots: dict[str, str] = field(default_factory=dict)  # motion id -> ballot text
    fingerprints: dict[str, str] = field(default_factory=dict)  # ballot fingerprint -> motion
    authserv_ids: tuple[str, ...] = ()  # [tally] trusted_authserv_ids, lowercase
    received_by: tuple[str, ...] = ()  # [tally] trusted_received_by, lowercase host names
    # motion id -> normalised address -> every member id it is an address of, for the
    # addresses several members share (a motion recorded before validation refused them).
    shared: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    asks: frozenset[str] = frozenset()  # the tokens (as in `tokens`) of `ask` notices
    withdrawn: dict[str, datetime] = field(default_factory=dict)  # motion id -> when (UTC)

    def token_owner(self, token: str) -> tuple[str, str] | None:
        """(motion id, member id) of a ballot or notice token (lower case), or None."""
        return self.tokens.get(token)


@dataclass(frozen=True, slots=True)
class Matched:
    """Tied to a motion and member; `review` says why it must not be counted unasked.

    also: further (motion id, member id) on which the same message is reviewed (a
    thread naming several motions); never set without `review`. failed_auth: set (with
    `review`, and strength WEAK) when the receiving server reported DKIM or DMARC failing.
    """

    motion_id: str
    member_id: str
    how: How
    review: str | None = None
    strength: Strength = Strength.WEAK
    also: tuple[tuple[str, str], ...] = ()
    failed_auth: str = ""  # the receiving server's DKIM/DMARC failure, in words, or ""
    # In reply to an `ask` sent to this member: read by the strict one-word rule.
    answers_ask: bool = False
    # The kind of steervote message it replies to directly ("ballot", "receipt", "ask",
    # "reminder", "result"; "" when unknown): a yes or no answers that message's question.
    replying_to: str = ""


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Not a reply to any ballot we know; recorded as ignored with the reason."""

    reason: str
    motion_id: str | None = None


def sender_addresses(msg: Message) -> list[str]:
    """Every distinct address in every From header, normalised (address.normalize_address)."""
    found: list[str] = []
    # Parse the raw text, before decoding: a decoded display name may hold commas or
    # angle brackets, and Message.get turns raw 8-bit (RFC 6531) text into U+FFFD.
    values = [str(v) for k, v in msg.raw_items() if k.lower() == "from"]
    for value in values[:20]:
        for address in mailbox_addresses(value):
            if address not in found:
                found.append(address)
    return found


def sender_address(msg: Message) -> str:
    """The one sender address, normalised ('' when there is none, or several)."""
    senders = sender_addresses(msg)
    return senders[0] if len(senders) == 1 else ""


def _several(senders: list[str]) -> str:
    shown = ", ".join(senders[:3]) + (", ..." if len(senders) > 3 else "")
    return f"several sender addresses ({shown})"


def tokens_in(msg: Message) -> set[str]:
    """Every ballot token the message carries in addresses or threading headers."""
    found: set[str] = set()
    # A plain search of the header text: a token is unguessable wherever it stands, and
    # parsing every address list cost more than the rest of matching together.
    for name in TOKEN_ADDRESS_HEADERS:
        for value in msg.get_all(name) or []:
            found.update(t.lower() for t in _TOKEN_IN_ADDRESS.findall(str(value)[:20_000]))
    for name in ("In-Reply-To", "References"):
        for value in msg.get_all(name) or []:
            found.update(t.lower() for _, t in _TOKEN_IN_MESSAGE_ID.findall(str(value)[:20_000]))
    return found


def match(msg: Message, directory: Directory) -> Matched | Unmatched:
    """Tie a message to (motion, member) with its strength, strongest evidence first.

    msg: the parsed message (its header block alone will do: the quoted ballot is then
    not looked for). Returns Matched, with `review` set when a person must decide, or
    Unmatched with the reason it is ignored.
    """
    own = own_message(msg)
    if own is not None:
        return Unmatched(own)
    senders = sender_addresses(msg)
    sender = senders[0] if len(senders) == 1 else ""
    owners = {o for o in map(directory.token_owner, tokens_in(msg)) if o is not None}
    tags = {t for t in subject_tags(msg) if t in directory.members}
    if owners:
        tie = _by_token(owners, senders, directory)
    else:
        tie = _by_subject(msg, tags, senders, directory)
    if not isinstance(tie, Matched):
        return tie
    # With one motion recorded, no quoted ballot can name another: skip the body search.
    many = len(directory.fingerprints) > 1
    quoted = quoted_motions(msg, directory.fingerprints) if many else set()
    tie = _thread_agrees(tie, tags, quoted, sender, directory)
    auth = authentication(msg, sender, directory.authserv_ids)
    if auth.verdict is Verdict.FAIL:
        spoofed = (
            f"no ballot token and {auth.detail}: spoofed?"
            if tie.how is How.SUBJECT
            else f"{auth.detail}: spoofed, or a token others have seen?"
        )
        return replace(
            tie,
            review=_also_review(tie.review, spoofed),
            strength=Strength.WEAK,
            failed_auth=auth.detail,
        )
    if tie.strength is Strength.TOKEN_AUTHENTICATED:
        tie = replace(tie, strength=token_strength(auth.verdict))
    kind, token = _replied_to(msg, tie, directory)
    if kind:
        tie = replace(tie, replying_to=kind, answers_ask=kind == "ask" and token in directory.asks)
    return tie


def _replied_to(msg: Message, tie: Matched, directory: Directory) -> tuple[str, str]:
    """(kind, token) of the steervote message this one replies to directly (In-Reply-To,
    else the last References id), when it was sent to the very member it is matched to;
    ("", "") otherwise."""
    parent = str(msg.get("In-Reply-To") or "").strip()
    if not parent:
        ids = str(msg.get("References") or "").split()
        parent = ids[-1] if ids else ""
    found = _TOKEN_IN_MESSAGE_ID.search(parent[:2000])
    if found is None:
        return "", ""
    token = found.group(2).lower()
    if directory.token_owner(token) != (tie.motion_id, tie.member_id):
        return "", ""
    return found.group(1).lower(), token


_OWN_MESSAGE_ID = re.compile(
    r"<(ballot|copy|receipt|ask|reminder|result)\.[a-z0-9-]+\.[a-z0-9]+@[^>\s]+>", re.IGNORECASE
)


def own_message(msg: Message) -> str | None:
    """Why this is a message steervote itself sent (a ballot, an observer's copy or a
    notice: its own Message-ID and motion header), or None. Read from the outbox, or a
    copy the server kept, it is never a reply."""
    if MOTION_HEADER not in msg:
        return None
    found = _OWN_MESSAGE_ID.fullmatch(" ".join(str(msg.get("Message-ID") or "").split()))
    if found is None:
        return None
    return (
        f"sent by steervote itself (its own {found.group(1).lower()}), not a reply: "
        "is this source the outbox?"
    )


def _also_review(first: str | None, then: str) -> str:
    return then if not first else f"{first}; {then}"


def _member_by_address(directory: Directory, motion_id: str, sender: str) -> str | None:
    return directory.members.get(motion_id, {}).get(sender) if sender else None


def _by_token(
    owners: set[tuple[str, str]], senders: list[str], directory: Directory
) -> Matched | Unmatched:
    """The tie of a message carrying known ballot tokens: to its sender where a member."""
    sender = senders[0] if len(senders) == 1 else ""
    motions = sorted({m for m, _ in owners})
    if len(motions) > 1:
        return _several_motions(owners, motions, sender, directory)
    (motion_id,) = motions
    holders = sorted(member for _, member in owners)
    member_id = _member_by_address(directory, motion_id, sender)
    sharing = directory.shared.get(motion_id, {}).get(sender, ())
    if member_id not in holders and any(h in sharing for h in holders):
        # The token's owner answered from an address another member shares: the owner's
        # own address wins, and the reply never moves to the other member.
        member_id = next(h for h in holders if h in sharing)
    if len(senders) > 1:
        if len(holders) == 1:
            return Matched(
                motion_id,
                holders[0],
                How.TOKEN,
                review=f"{holders[0]}'s personal ballot answered with {_several(senders)}: "
                "whose vote?",
            )
        return Unmatched("carries the ballot tokens of several members", motion_id)
    if member_id is not None and member_id in holders:
        if len(holders) > 1:
            return Matched(
                motion_id,
                member_id,
                How.TOKEN,
                review=f"carries the ballot tokens of several members ({', '.join(holders)})",
                strength=Strength.TOKEN_AUTHENTICATED,
            )
        # Strongest until the receiving server's verdict says otherwise (match()).
        return Matched(motion_id, member_id, How.TOKEN, strength=Strength.TOKEN_AUTHENTICATED)
    if member_id is not None:
        # Another member of this motion answered in the thread (reply-all): the reply is
        # the sender's, as strong as their address; the token's owner is untouched.
        review = None
        if directory.require_token.get(motion_id, False):
            review = "no personal ballot token of the sender's own, and this motion requires one"
        return Matched(motion_id, member_id, How.THREAD, review=review, strength=Strength.SUBJECT)
    if len(holders) > 1:
        return Unmatched("carries the ballot tokens of several members", motion_id)
    return Matched(
        motion_id,
        holders[0],
        How.TOKEN,
        review=f"ballot forwarded? {holders[0]}'s personal ballot answered from "
        f"{sender or 'no address'}",
    )


def _several_motions(
    owners: set[tuple[str, str]], motions: list[str], sender: str, directory: Directory
) -> Matched | Unmatched:
    """Tokens for several motions: reviewed on each, for the sender or the one owner."""
    ties: list[tuple[str, str]] = []
    for motion_id in motions:
        holders = sorted(member for m, member in owners if m == motion_id)
        member_id = _member_by_address(directory, motion_id, sender)
        if member_id is None and len(holders) == 1:
            member_id = holders[0]
        if member_id is not None:
            ties.append((motion_id, member_id))
    if not ties:
        return Unmatched("carries the ballot tokens of several motions and members", motions[0])
    (first_motion, first_member), *rest = ties
    own = all(
        (m, member) in owners and _member_by_address(directory, m, sender) == member
        for m, member in ties
    )
    return Matched(
        first_motion,
        first_member,
        How.TOKEN,
        review=f"carries ballot tokens for several motions ({', '.join(motions)}): "
        "which vote is for which?",
        strength=Strength.TOKEN_AUTHENTICATED if own else Strength.WEAK,
        also=tuple(rest),
    )


def _by_subject(
    msg: Message, tags: set[str], senders: list[str], directory: Directory
) -> Matched | Unmatched:
    """No known token: the motion tag in the subject plus the member's address."""
    known = sorted(tags)
    if not known:
        every = subject_tags(msg)
        if every:
            return Unmatched(f"unknown motion {sorted(every)[0]!r} in the subject")
        return Unmatched("no ballot token and no motion tag in the subject")
    if len(senders) > 1:
        return Unmatched(f"{_several(senders)}: not matched by sender", known[0])
    sender = senders[0] if senders else ""
    if len(known) > 1:
        return _several_tags(known, sender, directory)
    motion_id = known[0]
    member_id = _member_by_address(directory, motion_id, sender)
    if member_id is None:
        return Unmatched(f"sender {sender or '(none)'} is not a member of {motion_id}", motion_id)
    review = None
    if directory.require_token.get(motion_id, False):
        review = "no personal ballot token, and this motion requires one"
    sharing = directory.shared.get(motion_id, {}).get(sender, ())
    if len(sharing) > 1:
        whose = f"{sender} is an address of {', '.join(sharing)}: whose vote?"
        review = _also_review(review, whose)
    return Matched(motion_id, member_id, How.SUBJECT, review=review, strength=Strength.SUBJECT)


def _several_tags(known: list[str], sender: str, directory: Directory) -> Matched | Unmatched:
    """No token, and the subject names several motions: a member's message is reviewed on
    each motion they are a member of (a person must see it), never read as one vote."""
    ties = [
        (motion_id, member_id)
        for motion_id in known
        if (member_id := _member_by_address(directory, motion_id, sender)) is not None
    ]
    if not ties:
        return Unmatched(
            f"names several motions ({', '.join(known)}); sender {sender or '(none)'} "
            "is a member of none of them",
            known[0],
        )
    (motion_id, member_id), *rest = ties
    return Matched(
        motion_id,
        member_id,
        How.SUBJECT,
        review=f"the subject names several motions ({', '.join(known)}): which vote is for which?",
        strength=Strength.SUBJECT,
        also=tuple(rest),
    )


def _thread_agrees(
    tie: Matched, tags: set[str], quoted: set[str], sender: str, directory: Directory
) -> Matched:
    """The tie, sent to review on every motion named when its thread names other motions."""
    other_tags = sorted(tags - {tie.motion_id})
    other_quoted = sorted(quoted - {tie.motion_id})
    if not other_tags and not other_quoted:
        return tie
    named = "the ballot token" if tie.how is not How.SUBJECT else "the subject"
    parts = []
    if other_tags and tie.how is not How.SUBJECT:
        parts.append(f"the subject names {', '.join(other_tags)}")
    if other_quoted:
        parts.append(f"it quotes the ballot of {', '.join(other_quoted)}")
    if not parts:  # Several tags and no token: already reviewed on each (_several_tags).
        return tie
    conflict = f"{' and '.join(parts)}, but {named} is {tie.motion_id}'s: which motion?"
    also = list(tie.also)
    for motion_id in [*other_tags, *other_quoted]:
        member_id = _member_by_address(directory, motion_id, sender)
        if member_id is not None and (motion_id, member_id) not in also:
            also.append((motion_id, member_id))
    return replace(tie, review=_also_review(tie.review, conflict), also=tuple(also))
