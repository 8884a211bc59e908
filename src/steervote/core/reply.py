"""Reading a reply: machine mail, the member's own words, and the vote they state (or why not).

The one public entry point for reading replies. The pieces live beside it: `mime` (decoding
and text parts), `htmltext` (HTML without its quoted message), `quote` (the member's own
lines), `votewords` and `classify` (the vote), `autoreply` (machine-generated mail).
Messages come parsed with the default compat32 policy; nothing here raises on bad mail.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from steervote.core.mime import decode_words, raw_headers, read_body
from steervote.core.reading.languages.lexicon import languages, phrase_pattern, vote_phrases
from steervote.core.reading.languages.lexicon import normalize as normalized
from steervote.core.reading.machine import automated_reason, machine_reason
from steervote.core.reading.quotes import quote
from steervote.core.reading.quotes.known import BALLOT_INSTRUCTIONS, INSTRUCTIONS, KnownText
from steervote.core.reading.vote.account import CLAUSE_BREAK, account, courtesy_only
from steervote.core.reading.vote.answer import option_words, read_answer
from steervote.core.reading.vote.classify import NOTHING, Verdict, classify, normalize, sentences
from steervote.core.vote import Vote

OWN_TEXT_LIMIT = 2_000


class Kind(StrEnum):
    """What a reply is."""

    VOTE = "vote"
    NEEDS_REVIEW = "needs_review"
    NOT_A_VOTE = "not_a_vote"


@dataclass(frozen=True, slots=True)
class Reading:
    """How a reply was read, with the member's words that decided it."""

    kind: Kind
    vote: Vote | None  # set only when kind is VOTE
    evidence: str  # the member's exact words that decided it (a short excerpt), or ""
    own_text: str  # the member's own new text as extracted (bounded)
    reason: str  # one line a secretary can read: why this classification


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|wg|fw|fwd|tr|rv|enc|antw|antwort|odp|ynt|res|ref|réf|r|i|rif"
    r"|doorst|vá|trs|ri|fs)\s*(?:\[\d{1,3}\]|\^\d{1,3}|\(\d{1,3}\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_SUBJECT_SEPARATOR = re.compile(r"\s+[-–—|/]+\s+|\s*[:()\[\]]\s*")


def auto_reply_reason(msg: Message) -> str | None:
    """Why this message is machine-generated (not a vote), or None."""
    try:
        headers = raw_headers(msg)
        return machine_reason(msg, headers, decode_words(headers.get("subject", "")))
    except Exception:  # unreadable headers are not evidence of a machine
        return None


def decoded_subject(msg: Message) -> str:
    """The Subject as text: RFC 2047 words decoded, unknown charsets tolerated, one line."""
    try:
        return decode_words(raw_headers(msg).get("subject", ""))
    except Exception:
        return ""


def own_text(msg: Message) -> str:
    """The member's own new text: quotes, attributions, forwards, signatures, footers removed."""
    try:
        return quote.own_text(read_body(msg).text)[:OWN_TEXT_LIMIT]
    except Exception:
        return ""


def read_reply(
    msg: Message,
    *,
    ballot_subject: str | None = None,
    motion_title: str | None = None,
    ballot_text: str | None = None,
    strict_answer: bool = False,
    replying_to: str = "",
) -> Reading:
    """Classify a reply: auto-reply → NOT_A_VOTE; otherwise extract own text and read the vote.

    `ballot_text` is the text of the ballot replied to (`core.ballot.ballot_text`): wherever the
    reply quotes it, it is quoted text. A vote is read only when every sentence of the member's
    own text is accounted for (`reading.account`); otherwise NEEDS_REVIEW with the reason.

    `strict_answer`: the message answers a request for one word (`steervote ask`). After the
    normal reading, a VOTE counts only when the own text is one option word and courtesy
    (`reading.vote.answer`); otherwise NEEDS_REVIEW, evidence and own text kept. NOT_A_VOTE
    stands; a NEEDS_REVIEW reason is prefixed "answer to a request for one word: ".
    """
    try:
        reading = _read(msg, ballot_subject, motion_title, ballot_text)
        if strict_answer:
            return _held_to_one_word(reading, msg)
        if replying_to in _CONFIRMATIONS:
            return _confirming(reading, _CONFIRMATIONS[replying_to])
        return reading
    except Exception as exc:  # the last guard: hostile mail becomes a review, never a crash
        return Reading(
            Kind.NEEDS_REVIEW, None, "", "", f"could not read the message ({type(exc).__name__})"
        )


def _read(
    msg: Message, ballot_subject: str | None, motion_title: str | None, ballot_text: str | None
) -> Reading:
    headers = raw_headers(msg)
    subject = decode_words(headers.get("subject", ""))
    machine = machine_reason(msg, headers, subject)
    body = read_body(msg)
    names = _sender_names(headers)
    own = quote.own_text(body.text, known=_known(ballot_text), names=names)
    shown = own[:OWN_TEXT_LIMIT]
    if _OVERRIDE.search(body.text[:100_000]) and any(c.isalpha() for c in own):
        # U+202E and U+202D show the letters after them in reverse: "For.\u202e tsniaga"
        # reads FOR and shows AGAINST. What a member saw on screen is not what we read.
        return _review(shown, "a bidi override (U+202D/U+202E) shows the text reversed")
    if machine is None:
        # Only what this message's writer wrote: the quoted ballot's own words ("please",
        # "reply to this email") say nothing about who or what wrote the reply.
        written = "\n".join(quote.unquoted_lines(body.text, known=_known(ballot_text), limit=80))
        machine = automated_reason(written, subject)
    if machine is not None:
        vote = None if machine.startswith(_REPORTS) else _written_vote(body.text, ballot_text)
        if vote:
            # An auto-reply or helpdesk notice a member wrote a vote into: a person must see it.
            return _review(shown, f'looks automated ({machine}) but holds a vote: "{vote}"', vote)
        return Reading(Kind.NOT_A_VOTE, None, "", shown, machine)
    if body.problem:
        return _review(shown, body.problem)
    if body.truncated:
        return _review(shown, "message too large to read whole: read it by hand")
    phrases = [p for p in (ballot_subject, motion_title) if p]
    topics = {t for p in phrases for t in normalize(p).split()}
    said = classify(own, topic_words=topics, neutral_phrases=phrases)
    titled = _subject_vote(subject, ballot_subject, motion_title, topics)
    if said.signal and said.vote is None:
        return _combine(said, titled, shown)  # the older reader already found a reason to ask
    accounted = account(own, said, names=names)
    if accounted.problem:
        return _review(shown, accounted.problem, accounted.evidence)
    if accounted.vote is not None and said.vote is None:
        said = Verdict(accounted.vote, accounted.evidence, f"reads as {accounted.vote}", True)
    if said.vote is not None:
        question = _question_answered(body.text, ballot_text)
        if question and (_is_answer(said.evidence) or _echoes(question, said.evidence)):
            return _review(
                shown, f'"{said.evidence}" answers the question quoted below it: "{question}"'
            )
    return _combine(said, titled, shown)


_ONE_WORD = "an answer to a request for one word (FOR, AGAINST or ABSTAIN) must be that word alone"


_OVERRIDE = re.compile("[\u202d\u202e]")

# A receipt asks "is this what you meant?"; the result invites no vote. A yes or a no in
# reply answers that question (or is a remark), and thanks are thanks: neither is a vote.
_CONFIRMATIONS = {"receipt": "your receipt", "result": "the result announcement"}


_ACKNOWLEDGED = "an acknowledgement, not a vote"


def _confirming(reading: Reading, what: str) -> Reading:
    """A reply to a receipt or to the result: counted only when it names an option (FOR,
    AGAINST, ABSTAIN in any language), never on a yes or no alone; thanks alone are no
    vote (the vote stands)."""
    said = normalized(reading.own_text)
    if _names_an_option(said):
        return reading
    if reading.kind is Kind.VOTE:
        return _review(
            reading.own_text,
            f"a yes or no in reply to {what}: confirming it, or changing the vote?",
            reading.evidence,
        )
    clauses = [c for c in re.split(r"[.!?\n,;]+", said) if c.strip()]
    thanks = clauses and all(map(courtesy_only, clauses))
    if reading.kind is Kind.NEEDS_REVIEW and (thanks or reading.reason.startswith(_ACKNOWLEDGED)):
        return Reading(
            Kind.NOT_A_VOTE, None, "", reading.own_text, f"thanks in reply to {what}: no vote"
        )
    return reading


@functools.cache
def _options() -> re.Pattern[str]:
    yes_no = _yes_and_no()
    return phrase_pattern(w for w in option_words() if w not in yes_no)


def _names_an_option(said: str) -> bool:
    return _options().search(said) is not None


def _held_to_one_word(reading: Reading, msg: Message) -> Reading:
    """The normal reading of an answer to a request for one word, held to the strict rule."""
    if reading.kind is Kind.NOT_A_VOTE:
        return reading
    if reading.kind is Kind.NEEDS_REVIEW:
        reason = f"answer to a request for one word: {reading.reason}"
        return dataclasses.replace(reading, reason=reason)
    answer = read_answer(reading.own_text, names=_sender_names(raw_headers(msg)))
    if answer.vote is None:
        return _review(reading.own_text, f"{_ONE_WORD}: {answer.problem}", reading.evidence)
    if answer.vote != reading.vote:  # not expected: the rule only narrows the normal reading
        problem = f'"{answer.word}" reads as {answer.vote}, the reply as {reading.vote}'
        return _review(reading.own_text, f"{_ONE_WORD}: {problem}", reading.evidence)
    if normalized(answer.word).strip(".!*_ \"'«»") in _yes_and_no():
        problem = f'"{answer.word}" is a yes or a no, not one of FOR, AGAINST or ABSTAIN'
        return _review(reading.own_text, f"{_ONE_WORD}: {problem}", reading.evidence)
    reason = f'the one word asked for: "{answer.word}" ({answer.vote})'
    return dataclasses.replace(reading, reason=reason)


@functools.cache
def _yes_and_no() -> frozenset[str]:
    """Every language's yes and no (`answers`): an ask names the options, not a question."""
    return frozenset(a for language in languages().values() for a in language.answers)


@functools.cache
def _answers() -> frozenset[str]:
    return frozenset(a for language in languages().values() for a in language.answers)


def _is_answer(evidence: str) -> bool:
    """Does the vote statement start with a yes or a no ("Yes.", "Ja, danke.", "No, not
    yet!")? Those answer any question, not only the ballot's."""
    words = normalized(evidence).split()
    return bool(words) and words[0] in _answers()


def _echoes(question: str, evidence: str) -> bool:
    """Does the quoted question ask about voting, or offer the very word the member wrote
    ("Is anyone against moving the meeting?" — "Against.")?"""
    words = normalized(evidence).split()
    asked = normalized(question).split()
    return bool(words) and (words[0] in asked or _VOTING.search(question) is not None)


def _question_answered(text: str, ballot_text: str | None) -> str:
    """The question in the message quoted right below the member's words, if it is not the
    ballot ("Could everyone confirm the PDF opens?"): a bare "Yes" answers that, not the motion."""
    if "?" not in text and "？" not in text and "؟" not in text:
        return ""  # no question anywhere: nothing for a yes to answer but the ballot
    nearest = quote.nearest_quote(text, known=_known(ballot_text))
    return next(
        (
            s
            for s in sentences(nearest)
            if s.rstrip().endswith(("?", "？", "؟")) and len(normalized(s).split()) >= 2
        ),
        "",
    )


@functools.lru_cache(maxsize=64)
def _known(ballot_text: str | None) -> KnownText:
    """The ballot's words to recognise in quotes (cached: every reply to a motion shares it)."""
    return INSTRUCTIONS if not ballot_text else KnownText.of(BALLOT_INSTRUCTIONS, ballot_text)


# "my vote ... is AGAINST" written into an out-of-office: a statement about voting.
_VOTING = re.compile(r"\b(?:vote|voting|voted|abstain\w*|stimme|voto|stem)\b", re.IGNORECASE)
# Delivery and read reports and calendar responses carry the ballot itself, never a vote;
# list mail (digests, list notices) carries other people's words.
_REPORTS = (
    "delivery or read report",
    "calendar response",
    "bounce",
    "auto-reply: Precedence=list",
    "auto-reply: Precedence=bulk",
    "list software notice",
)


def _written_vote(text: str, ballot_text: str | None) -> str:
    """A line of machine-looking mail, outside what it quotes, that states a vote ("" if none)."""
    for line in quote.unquoted_lines(text, known=_known(ballot_text)):
        clauses = [normalized(c) for t in sentences(line) for c in CLAUSE_BREAK.split(t)]
        # A bare yes or no in machine text answers its own question ("Yes, I'm a human").
        stated = _VOTING.search(line) is not None and classify(line).vote is not None
        if stated or any(c in vote_phrases() and c not in _answers() for c in clauses):
            return line.strip()[:200]
    return ""


def _sender_names(headers: dict[str, str]) -> list[str]:
    """The words of the From display name ("Sam Tarry <s@x>", '"Tarry, Sam" <s@x>')."""
    name = decode_words(headers.get("from", "")).partition("<")[0]
    if "@" in name:
        return []  # a bare address, or a name we cannot tell from one
    return name.replace(",", " ").replace('"', " ").split()


def _review(shown: str, reason: str, evidence: str = "") -> Reading:
    return Reading(Kind.NEEDS_REVIEW, None, evidence, shown, reason)


def _combine(said: Verdict, titled: Verdict, shown: str) -> Reading:
    if said.vote is not None:
        if titled.vote is not None and titled.vote != said.vote:
            return _review(
                shown,
                f'the subject says {titled.vote} ("{titled.evidence}") but the body says '
                f'{said.vote} ("{said.evidence}")',
                said.evidence,
            )
        if titled.signal and titled.vote is None:
            return _review(shown, f"subject: {titled.reason}", titled.evidence)
        return Reading(Kind.VOTE, said.vote, said.evidence, shown, said.reason)
    if said.signal:
        return _review(shown, said.reason, said.evidence)
    if titled.vote is not None:
        reason = f"the subject says {titled.vote}; the body has no vote"
        return Reading(Kind.VOTE, titled.vote, titled.evidence, shown, reason)
    if titled.signal:
        return _review(shown, f"subject: {titled.reason}", titled.evidence)
    return _review(shown, "no vote found" + ("" if shown.strip() else " (no new text)"))


def _subject_vote(
    subject: str, ballot_subject: str | None, motion_title: str | None, topics: set[str]
) -> Verdict:
    """The vote a member added to the Subject ("Re: <ballot subject> - YES"), if any.

    The ballot's subject and the motion's title are removed first, so a title such as
    "Approve the budget" is never read as a vote. Where neither is found, only a trailing
    part set off by a separator (" - YES", "(abstain)") or a lone short vote is read.
    """
    text = " ".join(subject.split())
    anchored = False
    for phrase in (ballot_subject, motion_title):
        if not phrase:
            continue
        cleaned = " ".join(phrase.split())
        found = re.search(re.escape(cleaned), text, re.IGNORECASE)
        if cleaned and found:
            text = f"{text[: found.start()]} - {text[found.end() :]}"
            anchored = True
    text = _REPLY_PREFIX.sub("", text)
    text = re.sub(r"\[[^\]]{0,80}\]", " - ", text)
    text = text.strip(" -–—:|/")
    if not text:
        return NOTHING
    if not anchored:
        parts = [p for p in _SUBJECT_SEPARATOR.split(text) if p.strip()]
        text = parts[-1] if parts else ""
        if len(text.split()) > 3:
            return NOTHING
    return classify(text, topic_words=topics)
