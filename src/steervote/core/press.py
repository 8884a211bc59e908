"""Each member's ballot from one rendering of the motion's shared ballot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.policy import SMTP
from email.utils import formataddr

from steervote.core.ballot import (
    Addressing,
    Attachment,
    ballot_message_id,
    ballot_text,
    compose,
    fingerprint,
    reply_address,
)
from steervote.core.motion import Member, Motion, Observer

# Placeholders for the per-recipient headers of a pre-rendered ballot: short ASCII
# values that no header folding can split and no ballot text can contain.
_TO = "to.7f3c@placeholder.invalid"
_REPLY_TO = "reply.7f3c@placeholder.invalid"
_MESSAGE_ID = "<id.7f3c@placeholder.invalid>"


class BallotPress:
    """Renders the shared body of a motion's ballots once, then each recipient's in microseconds.

    Every ballot of a motion carries the same text, papers and fingerprint; only To,
    Reply-To and Message-ID differ. Composing an EmailMessage per member costs
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
        msg = compose(self.motion, _TO, text, self.addressing, attachments, now)
        msg["Reply-To"] = _REPLY_TO
        msg["Message-ID"] = _MESSAGE_ID
        raw = msg.as_bytes(policy=SMTP)
        head, sep, body = raw.partition(b"\r\n\r\n")
        for placeholder in (_TO, _REPLY_TO, _MESSAGE_ID):
            if head.count(placeholder.encode("ascii")) != 1:
                raise AssertionError(f"ballot header placeholder {placeholder} not found once")
        return head, sep + body

    @staticmethod
    def _fill(template: tuple[bytes, bytes], to: str, reply_to: str, message_id: str) -> bytes:
        head, body = template
        head = (
            head.replace(_TO.encode("ascii"), _header_value(to))
            .replace(_REPLY_TO.encode("ascii"), _header_value(reply_to))
            .replace(_MESSAGE_ID.encode("ascii"), _header_value(message_id))
        )
        return head + body

    def ballot(self, member: Member, token: str) -> bytes:
        """A member's personal ballot, as the bytes to send."""
        return self._fill(
            self._ballot,
            formataddr((member.name, member.email), charset="utf-8"),
            reply_address(self.addressing, token),
            ballot_message_id(self.motion.id, token, self.addressing),
        )

    def copy(self, observer: Observer, message_id: str) -> bytes:
        """An observer's information copy, as the bytes to send."""
        return self._fill(
            self._copy,
            formataddr((observer.name, observer.email), charset="utf-8"),
            reply_address(self.addressing, None),
            message_id,
        )


def _header_value(value: str) -> bytes:
    """A header value safe to put into rendered bytes: ASCII, one line."""
    if not value.isascii() or "\r" in value or "\n" in value:
        raise ValueError(f"header value must be one line of ASCII: {value!r}")
    return value.encode("ascii")
