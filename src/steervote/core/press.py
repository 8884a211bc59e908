"""Each member's ballot from one rendering of the motion's shared ballot."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from email.policy import SMTP
from email.utils import parseaddr

from steervote.core.ballot import (
    Addressing,
    Attachment,
    ballot_message_id,
    ballot_text,
    compose,
    fingerprint,
    mailbox_header,
    reply_address,
)
from steervote.core.mail_text import line_problem
from steervote.core.motion import Member, Motion, Observer


def _placeholders() -> tuple[str, str, str, str]:
    """From, To, Reply-To and Message-ID placeholders: short ASCII values no header folding
    can split, and (being new random words for each press) no motion text can contain."""
    tag = secrets.token_hex(8)
    return (
        f"from.{tag}@placeholder.invalid",
        f"to.{tag}@placeholder.invalid",
        f"reply.{tag}@placeholder.invalid",
        f"<id.{tag}@placeholder.invalid>",
    )


class BallotPress:
    """Renders the shared body of a motion's ballots once, then each recipient's in microseconds.

    Every ballot of a motion carries the same text, papers and fingerprint; only To,
    Reply-To and Message-ID differ (and From is put in the same way, so that it may be
    an internationalised address). Composing an EmailMessage per member costs
    milliseconds (and the fingerprint is O(electorate)), which a 20,000-member ballot
    cannot afford; so the message is rendered once with placeholder headers, and each
    recipient's ballot is those bytes with the three headers put in.
    """

    def __init__(
        self,
        motion: Motion,
        addressing: Addressing,
        attachments: Sequence[Attachment],
        now: datetime,
    ) -> None:
        self.motion = motion
        self.addressing = addressing
        self._from, self._to, self._reply_to, self._message_id = _placeholders()
        name, address = parseaddr(addressing.sender)
        self._sender = _header_value(mailbox_header(name, address))
        self.fingerprint = fingerprint(motion, attachments)
        self._ballot = self._render(
            ballot_text(motion, attachments, fingerprint_=self.fingerprint), attachments, now
        )
        self._copy = self._render(
            ballot_text(motion, attachments, voting=False, fingerprint_=self.fingerprint),
            attachments,
            now,
        )

    def _render(
        self, text: str, attachments: Sequence[Attachment], now: datetime
    ) -> tuple[bytes, bytes]:
        addressing = replace(self.addressing, sender=self._from)
        msg = compose(self.motion, self._to, text, addressing, attachments, now)
        msg["Reply-To"] = self._reply_to
        msg["Message-ID"] = self._message_id
        raw = msg.as_bytes(policy=SMTP)
        head, sep, body = raw.partition(b"\r\n\r\n")
        for placeholder in (self._from, self._to, self._reply_to, self._message_id):
            if head.count(placeholder.encode("ascii")) != 1:
                raise AssertionError(f"ballot header placeholder {placeholder} not found once")
        head = head.replace(self._from.encode("ascii"), self._sender)
        return head, sep + body

    def _fill(self, template: tuple[bytes, bytes], to: bytes, reply_to: bytes, mid: bytes) -> bytes:
        head, body = template
        head = (
            head.replace(self._to.encode("ascii"), to)
            .replace(self._reply_to.encode("ascii"), reply_to)
            .replace(self._message_id.encode("ascii"), mid)
        )
        return head + body

    def ballot(self, member: Member, token: str) -> bytes:
        """A member's personal ballot, as the bytes to send."""
        return self._fill(self._ballot, *self._ballot_headers(member, token))

    def copy(self, observer: Observer, message_id: str) -> bytes:
        """An observer's information copy, as the bytes to send."""
        return self._fill(self._copy, *self._copy_headers(observer, message_id))

    def check(self, member: Member | Observer, token_or_message_id: str) -> None:
        """Raise ValueError now if this recipient's ballot (a Member's) or copy could not be
        made; cheap (no message is rendered), so that a run checks every recipient before
        it records anything."""
        if isinstance(member, Member):
            self._ballot_headers(member, token_or_message_id)
        else:
            self._copy_headers(member, token_or_message_id)

    def _ballot_headers(self, member: Member, token: str) -> tuple[bytes, bytes, bytes]:
        return (
            _header_value(mailbox_header(member.name, member.email)),
            _header_value(reply_address(self.addressing, token)),
            _header_value(ballot_message_id(self.motion.id, token, self.addressing)),
        )

    def _copy_headers(self, observer: Observer, message_id: str) -> tuple[bytes, bytes, bytes]:
        return (
            _header_value(mailbox_header(observer.name, observer.email)),
            _header_value(reply_address(self.addressing, None)),
            _header_value(message_id),
        )


def _header_value(value: str) -> bytes:
    """A header value safe to put into rendered bytes: one line, UTF-8 (RFC 6532).

    Values are validated before anything is composed (steervote.core.mail_text); this is
    the last guard, never meant to fire.
    """
    problem = line_problem(value)
    if problem is not None:
        raise ValueError(f"header value {value!r} {problem}")
    return value.encode("utf-8")
