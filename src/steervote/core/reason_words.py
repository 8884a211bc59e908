"""A review reason in words a member understands, for the ask that requests their answer."""

from __future__ import annotations

import re

# The kinds of review reason (core.reading, core.match, core.succession, core.tally,
# core.receipt, services.collect) in words a member understands; each pattern is matched,
# lower-cased, against a reason's label: a clause (split at "; ") with quoted excerpts
# removed, up to its first ": ". The member's own words are never matched as a kind.
_PLAIN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (
            r"^earlier\b|change of vote|change my vote",
            "it changes the vote you sent earlier, and we must confirm the change with you",
        ),
        (
            r"conditional|\bcondition\b",
            "it sets a condition, and a vote with a condition cannot be counted",
        ),
        (
            r"two alternatives|mixed votes|several options|^mixed\b|mentions \w+ in a remark"
            r"|the subject says .* but the body says",
            "it names more than one option",
        ),
        (
            r"^negated|a negation|^says \w+ and also not",
            "it has a “not” or “no” near your vote, so we could not tell which way you meant it",
        ),
        (
            r"^hedged|a hedge",
            "it does not state your vote firmly (for example “I think” or “probably”)",
        ),
        (
            r"answers the question quoted",
            "it seems to answer a question quoted in your reply, not the motion itself",
        ),
        (
            r"question|^asks about the motion",
            "it asks a question, so we could not be sure it is your vote",
        ),
        (
            r"acknowledg",
            "it reads as an acknowledgement (such as “received” or “noted”), not a vote",
        ),
        (
            r"for later|^not voted yet",
            "it says you have not decided yet or will vote later",
        ),
        (
            r"language|not accounted for|written in \w+|does not read"
            r"|is a vote in .* but courtesy in",
            "part of it is in words or a language we could not read with certainty",
        ),
        (r"sarcasm", "we could not be sure it was meant literally"),
        (
            r"proxy|deputy|relays someone else|on behalf",
            "it seems to pass on someone else's vote or to ask someone to vote for you, "
            "and each member votes for themselves",
        ),
        (
            r"someone else's view",
            "it refers to someone else's view instead of naming your own option",
        ),
        (
            r"vote on something else|aimed at someone or something else",
            "it seems to be about something other than this motion",
        ),
        (
            r"asks the chair",
            "it asks us for something (for example to explain or to resend the papers)",
        ),
        (r"withdrawn", "it seems to withdraw your vote"),
        (r"leaves the choice", "it leaves the choice to someone else"),
        (r"^no vote found", "we could not find a vote in it"),
        (r"emoji|symbols", "it holds only symbols or emoji, not words we can count"),
        (r"^long reply|too large", "it is too long for us to read with certainty"),
        (
            r"looks automated",
            "it looks like an automatic message (such as an out-of-office reply), so we "
            "could not be sure you wrote the vote yourself",
        ),
        (
            r"same time",
            "more than one reply from you arrived at the same moment, and we could not "
            "tell which is your latest",
        ),
        (
            r"reply-all|^in reply to|tokens of several members",
            "it was sent in reply to another member's message, so we could not be sure it "
            "is your own vote",
        ),
        (
            r"several motions|the subject names|quotes the ballot of|which motion",
            "we could not tell which motion it is about",
        ),
        (
            r"personal ballot answered|forwarded|several sender addresses|ballot token of",
            "it did not come from your address as a reply to your own ballot, so we must "
            "check that it is yours",
        ),
        (
            r"weaker than|message-id reused|authentication|is older than|replayed|forged",
            "we could not confirm that it came from you",
        ),
        (
            r"receipt time|late\?",
            "we could not confirm that it arrived before the deadline",
        ),
        (r"unreadable", "we could not read the message itself (its format or encoding)"),
    )
)
_FALLBACK = "we could not read it with certainty"
_EXCERPT = re.compile(r'"[^"]*"|“[^”]*”')


def reason_in_plain_words(reason: str) -> str:
    """A review reason (e.g. 'conditional: "Yes, provided clause 9 is amended first."')
    as words for the member ('it sets a condition, and ...'), with no sentence-final
    full stop. Only fixed phrases come out: never the reason's own words, which may hold
    the member's excerpt or internal terms; an unknown kind gives a general sentence."""
    for clause in _EXCERPT.sub("", reason.casefold()).split(";"):
        label = clause.strip()
        label = label.removeprefix("subject:").strip().partition(": ")[0]
        for pattern, words in _PLAIN_REASONS:
            if pattern.search(label):
                return words
    return _FALLBACK
