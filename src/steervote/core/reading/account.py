"""A vote counts only when every sentence of the member's own text is accounted for.

Each sentence must be exactly one of: a statement of the vote; courtesy (greeting, thanks,
sign-off, the member's name, a signature line); or a remark, in a language steervote reads,
that holds no vote word, negation, condition, hedge, question, acknowledgement, stated future
vote or change of vote. Whatever cannot be accounted for — a sentence in a language steervote
does not read, a qualifier in any language, a second option — sends the reply to review with
that sentence and the reason. Not knowing something is a reason to ask, never a vote.

The vocabulary is data (`lexicon`, one file per language); the language of a remark comes from
`identify`. The older English/German/French/Spanish/Dutch/Italian/Portuguese reader
(`core.classify`) still finds votes and qualifiers in those languages; this module adds the
other languages and the accounting on top of it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from steervote.core.classify import Verdict, classify, sentences
from steervote.core.reading import identify
from steervote.core.reading.lexicon import Language, languages, normalize, vote_phrases
from steervote.core.vote import Vote

# Symbols that do say something about a vote ("👍", "✅", "❌", "+1").
_SIGNALS = re.compile("[👍👎✅✔☑❌✖✗✘🙄😒🙃😏🤦🤡]|[+-]1")
# The languages the older reader (core.classify) reads whole, negations and all.
CLASSIFIED = frozenset({"en", "de", "fr", "es", "nl", "it", "pt"})
# "No. 4 Harbour Street", "VAT No. GB 123": the abbreviation of "number", not a negation.
_NUMBER = re.compile(r" (?:no|nr|n°|nº) ?(?=(?:[a-z]{1,3} ?)?\d)")
# A clause is a sentence, or the part of it between these marks.
_CLAUSE_BREAK = re.compile(r"[,;:،，；：、]|\s[-–—]+\s|\s[-–—]+$|^[-–—]+\s")
# Signature and name lines: short, and holding no sentence of their own.
_NAME_WORDS = 4
_KINDS = (
    ("negators", "a negation"),
    ("conditions", "a condition"),
    ("hedges", "a hedge"),
    ("acknowledgements", "an acknowledgement, not a vote"),
    ("future", "a vote stated for later"),
    ("changes", "a change of vote"),
    ("questions", "a question"),
)


@dataclass(frozen=True, slots=True)
class Account:
    """How the own text was accounted for: the vote it states, or the sentence that was not."""

    vote: Vote | None  # the one firm vote stated (None: none, or not accounted for)
    evidence: str  # the vote statement, or the sentence that could not be accounted for
    problem: str  # "" when everything was accounted for; else why a secretary must read it


CLEAR = Account(None, "", "")


@dataclass(slots=True)
class _Sentence:
    text: str
    clauses: list[str]  # normalised
    votes: set[Vote]  # data-language vote statements among its clauses
    courtesy: list[bool]


def account(own: str, verdict: Verdict, *, names: Iterable[str] = ()) -> Account:
    """Account for every sentence of `own` given the older reader's verdict on the whole text.

    `verdict` is `classify(own)`; `names` are the words of the member's name (a sign-off).
    Returns the vote stated (with its sentence) when all is accounted for, or the problem.
    """
    units = [_analyse(text, frozenset(normalize(n) for n in names)) for text in sentences(own)]
    if not units:
        return CLEAR
    data_votes = {vote for unit in units for vote in unit.votes}
    votes = set(data_votes)
    if verdict.vote is not None:
        votes.add(verdict.vote)
    if len(votes) > 1:
        shown = next((u.text for u in units if u.votes), verdict.evidence)
        return Account(None, shown, f'mixed votes: {", ".join(sorted(votes))} ("{shown}")')
    last_vote = max((i for i, u in enumerate(units) if _states_vote(u, verdict)), default=-1)
    reply_language = _reply_language(units)
    for index, unit in enumerate(units):
        problem = _unaccounted(unit, verdict, reply_language, trailing=index > last_vote >= 0)
        if problem:
            return Account(None, unit.text, f'{problem}: "{_excerpt(unit.text)}"')
    if not votes:
        return CLEAR
    vote = votes.pop()
    statement = verdict.evidence if verdict.vote is not None else units[last_vote].text
    return Account(vote, _excerpt(statement), "")


def _analyse(text: str, names: frozenset[str]) -> _Sentence:
    parts = [(normalize(p), p) for p in _CLAUSE_BREAK.split(text)]
    clauses = [c for c, _ in parts if c]
    if courtesy_only(normalize(text), names, capitalised(text)):
        polite = [True] * len(clauses)  # "Здравствуйте, Helen.": the name beside the greeting
    else:
        polite = [courtesy_only(c, names, capitalised(p)) for c, p in parts if c]
    return _Sentence(text, clauses, {v for c in clauses for v in _data_votes(c)}, polite)


def _data_votes(clause: str) -> set[Vote]:
    """The votes a clause states in a language only the data reads (the older reader has
    weighed every phrase of its own seven languages, changes of mind included)."""
    pairs = vote_phrases().get(clause, frozenset())
    if any(code in CLASSIFIED for code, _ in pairs):
        return set()
    return {vote for _, vote in pairs}


def capitalised(text: str) -> frozenset[str]:
    """Words written with a capital (names, as in "Thanks Helen"), normalised; at most two."""
    found = [normalize(w) for w in text.split() if w[:1].isupper() and not w.isupper()]
    if len(found) > 2:
        return frozenset()
    return frozenset(w for w in found if w not in vote_phrases())


def _states_vote(unit: _Sentence, verdict: Verdict) -> bool:
    return bool(unit.votes) or (verdict.vote is not None and _holds(verdict.evidence, unit.text))


def _holds(evidence: str, text: str) -> bool:
    """Is `evidence` (a possibly shortened sentence) this sentence's text?"""
    shown = " ".join(text.split())
    if evidence.endswith("...") and len(evidence) >= 200:
        return shown.startswith(evidence.removesuffix("..."))
    return bool(evidence) and shown == evidence


def _unaccounted(
    unit: _Sentence, verdict: Verdict, reply_language: str | None, *, trailing: bool
) -> str:
    """Why this sentence is not accounted for ("" when it is)."""
    if all(unit.courtesy):
        return ""
    if verdict.vote is not None and _holds(verdict.evidence, unit.text):
        # The older reader read this sentence whole, qualifiers included; what it does not
        # know is acknowledgement and stated future intent.
        return _cue(" ".join(unit.clauses), ("acknowledgements", "future"), reply_language)
    statement = _states_vote(unit, verdict)
    remarks = [
        clause
        for clause, polite in zip(unit.clauses, unit.courtesy, strict=True)
        if not polite and clause not in vote_phrases()
    ]
    if not remarks:
        return ""
    if trailing and _is_name_line(unit.text):
        return ""
    text = " ".join(remarks)
    if unit.text.rstrip(" \"')]*_~").endswith(("?", "？", "؟")):
        return "a question"
    if not statement:
        said = classify(unit.text)
        if said.signal and verdict.vote is not None:
            # The older reader weighed this sentence's vote words with the rest of the reply
            # ("Change my vote to AGAINST. I can't support it.") and found them consistent.
            return _cue(" ".join(unit.clauses), ("acknowledgements", "future"), reply_language)
        if said.signal:
            return said.reason.split(":", 1)[0] if said.reason else "a vote word in a remark"
    found = identify.identify(unit.text)
    unread = found.code if found.code is not None and not found.read else None
    if found.code is None and reply_language not in (None, *identify.READ_LANGUAGES):
        unread = reply_language  # too short to tell alone; the rest of the reply is unread
    if unread is not None:
        return f"written in {identify.language_name(unread)}, which steervote does not read"
    codes = [c for c in (found.code, reply_language) if c is not None]
    if not codes:
        if len(text.split()) > _NAME_WORDS:
            return "a remark in a language steervote could not tell"
        # Too short to tell its language ("None.", "Gladly."): no qualifier of any language.
        codes = sorted(languages())
    text = _NUMBER.sub(" number ", f" {text} ")
    if set(codes) <= CLASSIFIED:
        # The older reader has weighed negations and vote words in these languages (above);
        # what it does not look for outside a vote sentence is a condition, an
        # acknowledgement or a vote promised for later.
        return _cue(text, ("conditions", "acknowledgements", "future"), *codes)
    problem = _cue(text, tuple(kind for kind, _ in _KINDS), *codes)
    if problem:
        return problem
    return _vote_words(text, codes)


def _cue(text: str, kinds: Sequence[str], *codes: str | None) -> str:
    """The first qualifier of the given kinds found in `text` (normalised), as a label."""
    labels = dict(_KINDS)
    for language in _languages_of(codes):
        for kind in kinds:
            if _pattern(language.code, kind).search(f" {text} "):
                return labels[kind]
    return ""


def _vote_words(text: str, codes: Sequence[str]) -> str:
    """A vote phrase of more than one word inside a remark: a second statement to weigh."""
    for language in _languages_of(codes):
        for vote, phrases in language.votes.items():
            for phrase in phrases:
                if (" " in phrase or len(phrase) > 4) and language.contains(text, phrase):
                    return f"mentions {vote.upper()} in a remark"
    return ""


def _languages_of(codes: Iterable[str | None]) -> list[Language]:
    table = languages()
    found: list[Language] = []
    for code in codes:
        if code is None:
            continue
        for key in (code, f"{code}-hans", f"{code}-hant"):
            if key in table and table[key] not in found:
                found.append(table[key])
    return found


@functools.cache
def _pattern(code: str, kind: str) -> re.Pattern[str]:
    language = languages()[code]
    phrases = sorted(getattr(language, kind), key=len, reverse=True)
    if not phrases:
        return re.compile(r"(?!x)x")
    body = "|".join(re.escape(p) for p in phrases)
    return re.compile(f" (?:{body}) " if language.word_boundaries else f"(?:{body})")


@functools.cache
def _courtesy_pattern() -> re.Pattern[str]:
    phrases = {p for language in languages().values() for p in language.courtesy}
    body = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(f"(?:^| )(?:{body})(?= |$)")


def courtesy_only(
    clause: str, names: frozenset[str] = frozenset(), guests: frozenset[str] = frozenset()
) -> bool:
    """Is the normalised clause only greetings, thanks, sign-offs and names?

    `names` are the member's own (a sign-off may be the name alone); `guests` are other names
    written with a capital, accepted only beside a courtesy word ("Thanks Helen", "Hi Jon").
    """
    if not clause or _SIGNALS.search(clause):
        return False
    rest = _courtesy_pattern().sub(" ", clause)
    allowed = names | guests if rest != clause else names
    return all(word in allowed or _is_symbol(word) for word in rest.split())


def _is_symbol(word: str) -> bool:
    """Emoji and other symbols (a smile, a heart) that say nothing about a vote."""
    return all(unicodedata.category(ch)[0] in "SM" or ch in "\u200d\ufe0f" for ch in word)


def _is_name_line(text: str) -> bool:
    """A line of a signature: a name, a title, an organisation (short, no sentence in it)."""
    words = text.split()
    if not words or len(words) > _NAME_WORDS or text.rstrip().endswith(("?", "!", ".")):
        return False
    return all(w[:1].isupper() or not w[:1].isalpha() or not w[:1].islower() for w in words)


def _reply_language(units: list[_Sentence]) -> str | None:
    text = " ".join(u.text for u in units if not all(u.courtesy))
    if len(text.split()) < 3:
        return None
    return identify.identify(text).code


def _excerpt(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= 200 else text[:197] + "..."
