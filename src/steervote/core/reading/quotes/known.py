"""The ballot's own text, recognised wherever a reply quotes it.

steervote composed the ballot, so it knows every word of it. A reply line whose words are a
run of the ballot's words (after quote prefixes, case, punctuation, wrapping and HTML are
normalised away) is quoted ballot text, whatever the client did to it: "> ", "> > ", "HM> ",
no prefix at all, or the ballot re-wrapped at another width.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
# Lines shorter than this (in characters of words) are too common to prove a quote alone
# ("For.", "HOW TO VOTE"): they count only beside a line that does.
MIN_PROOF = 18

# The instruction lines of every ballot steervote composes (core.ballot.ballot_text), known
# even when the motion's own text is not at hand.
BALLOT_INSTRUCTIONS = (
    "HOW TO VOTE\n"
    "Reply to this email with one word: FOR, AGAINST or ABSTAIN.\n"
    "You may add reasons below your vote. Your reply address is personal to you:\n"
    "please do not forward this ballot.\n"
    "FOR INFORMATION ONLY\n"
    "You receive this copy as an observer; you do not have a vote on this motion.\n"
)


def words_of(text: str) -> str:
    """The words of `text`, lower-cased, joined by single spaces (punctuation dropped)."""
    return " ".join(_WORD.findall(text.casefold()))


@dataclass(frozen=True, slots=True)
class KnownText:
    """A text steervote wrote (a ballot), as one stream of words to search reply lines in."""

    stream: str  # " word word ... " with a space at both ends

    @classmethod
    def of(cls, *texts: str) -> KnownText:
        """The known text of the given ballot texts, one stream (a client may re-wrap lines)."""
        return cls(" " + " ".join(words_of(text) for text in texts) + " ")

    def proves(self, line: str) -> bool:
        """Is `line` a long enough run of the known words to be a quote on its own?"""
        if len(line) < MIN_PROOF:
            return False  # its words alone would be shorter still
        return _proves(self.stream, line)

    def holds(self, line: str) -> bool:
        """Is `line` (of any length) a run of the known words?"""
        return _holds(self.stream, line)


INSTRUCTIONS = KnownText.of(BALLOT_INSTRUCTIONS)


@functools.lru_cache(maxsize=8192)
def _proves(stream: str, line: str) -> bool:
    # Every reply to a motion quotes the same ballot lines: each is worked out once.
    found = words_of(line)
    return len(found) >= MIN_PROOF and f" {found} " in stream


@functools.lru_cache(maxsize=8192)
def _holds(stream: str, line: str) -> bool:
    found = words_of(line)
    return bool(found) and f" {found} " in stream
