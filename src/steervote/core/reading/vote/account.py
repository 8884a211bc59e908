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

from steervote.core.reading.languages import identify
from steervote.core.reading.languages.lexicon import Language, languages, normalize, vote_phrases
from steervote.core.reading.vote import cues
from steervote.core.reading.vote.classify import Verdict, classify, sentences
from steervote.core.vote import Vote

# Symbols that do say something about a vote ("👍", "✅", "❌", "+1").
_SIGNALS = re.compile("[👍👎✅✔☑❌✖✗✘🙄😒🙃😏🤦🤡]|[+-]1")
# The languages the older reader (core.classify) reads whole, negations and all.
CLASSIFIED = frozenset({"en", "de", "fr", "es", "nl", "it", "pt"})
# "No. 4 Harbour Street", "VAT No. GB 123": the abbreviation of "number", not a negation.
_NUMBER = re.compile(r" (?:no|nr|n°|nº) ?(?=(?:[a-z]{1,3} ?)?\d)")
# A clause is a sentence, or the part of it between these marks.
CLAUSE_BREAK = re.compile(r"[,;:،，；：、]|\s[-–—]+\s|\s[-–—]+$|^[-–—]+\s")
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
    raw: list[str]  # the clauses as written


def account(own: str, verdict: Verdict, *, names: Iterable[str] = ()) -> Account:
    """Account for every sentence of `own` given the older reader's verdict on the whole text.

    `verdict` is `classify(own)`; `names` are the words of the member's name (a sign-off).
    Returns the vote stated (with its sentence) when all is accounted for, or the problem.
    """
    # Only the name words the text holds can matter, so "For." is worked out once a run.
    folded = own.casefold()
    member = frozenset(w for w in (normalize(n) for n in names) if w and w in folded)
    return _account(own, verdict, member)


@functools.lru_cache(maxsize=4096)
def _account(own: str, verdict: Verdict, member: frozenset[str]) -> Account:
    units = [_analyse(text, member, own=verdict.signal) for text in sentences(own)]
    if not units:
        return CLEAR
    context = _Context(units)
    for unit in units:
        problem = _resolve_double_meaning(unit, context)
        if problem:
            return Account(None, unit.text, f'{problem}: "{_excerpt(unit.text)}"')
    data_votes = {vote for unit in units for vote in unit.votes}
    votes = set(data_votes)
    if verdict.vote is not None:
        votes.add(verdict.vote)
    if len(votes) > 1:
        shown = next((u.text for u in units if u.votes), verdict.evidence)
        return Account(None, shown, f'mixed votes: {", ".join(sorted(votes))} ("{shown}")')
    last_vote = max((i for i, u in enumerate(units) if _states_vote(u, verdict)), default=-1)
    for index, unit in enumerate(units):
        problem = _unaccounted(unit, verdict, context, trailing=index > last_vote >= 0)
        if problem:
            return Account(None, unit.text, f'{problem}: "{_excerpt(unit.text)}"')
    if not votes:
        return CLEAR
    vote = votes.pop()
    statement = verdict.evidence if verdict.vote is not None else units[last_vote].text
    return Account(vote, _excerpt(statement), "")


def _analyse(text: str, names: frozenset[str], *, own: bool) -> _Sentence:
    """A sentence split into clauses; `own`: the older reader found something in the reply,
    so its seven languages' vote phrases are its to weigh."""
    parts = [(normalize(p), p) for p in CLAUSE_BREAK.split(text)]
    clauses = [c for c, _ in parts if c]
    if courtesy_only(normalize(text), names, capitalised(text)):
        polite = [True] * len(clauses)  # "Здравствуйте, Helen.": the name beside the greeting
    else:
        polite = [courtesy_only(c, names, capitalised(p)) for c, p in parts if c]
    votes = {v for c in clauses for v in _data_votes(c, own=own)}
    return _Sentence(text, clauses, votes, polite, [p for c, p in parts if c])


def _data_votes(clause: str, *, own: bool) -> set[Vote]:
    """The votes a clause states. Where the older reader found something, the phrases of its
    own seven languages are left to it (it weighs changes of mind and negations)."""
    pairs = vote_phrases().get(clause, frozenset())
    if own and any(code in CLASSIFIED for code, _ in pairs):
        return set()
    return {vote for _, vote in pairs}


def capitalised(text: str) -> frozenset[str]:
    """Words written with a capital (names, as in "Thanks Helen"), normalised; at most two."""
    found = [normalize(w) for w in text.split() if w[:1].isupper() and not w.isupper()]
    if len(found) > 2:
        return frozenset()
    return frozenset(w for w in found if w not in vote_phrases())


def _resolve_double_meaning(unit: _Sentence, context: _Context) -> str:
    """A sentence that is a vote in one language and courtesy in another (Polish "tak", yes;
    Danish "tak", thanks) is read in the language of the reply; where that cannot be told,
    a secretary asks. Returns the problem, or "" (the sentence's votes then stand or go)."""
    if not unit.votes or not all(unit.courtesy):
        return ""
    clause = next((c for c in unit.clauses if c in vote_phrases()), "")
    voting = {code.split("-", 1)[0] for code, _ in vote_phrases().get(clause, ())}
    polite = {
        code.split("-", 1)[0] for code, lang in languages().items() if clause in lang.courtesy
    }
    if not polite or polite <= voting:
        return ""
    reply_language = context.reply_language
    if reply_language in voting and reply_language not in polite:
        return ""
    if reply_language in polite:
        unit.votes.clear()  # courtesy in the language the reply is written in
        return ""
    names = ", ".join(sorted(identify.language_name(c) for c in voting))
    others = ", ".join(sorted(identify.language_name(c) for c in polite))
    return f'"{clause}" is a vote in {names} but courtesy in {others}'


def _states_vote(unit: _Sentence, verdict: Verdict) -> bool:
    return bool(unit.votes) or (verdict.vote is not None and _holds(verdict.evidence, unit.text))


def _holds(evidence: str, text: str) -> bool:
    """Is `evidence` (a possibly shortened sentence) this sentence's text?"""
    shown = " ".join(text.split())
    if evidence.endswith("...") and len(evidence) >= 200:
        return shown.startswith(evidence.removesuffix("..."))
    return bool(evidence) and shown == evidence


class _Context:
    """What the whole reply says about its language (identified once, and only if asked)."""

    def __init__(self, units: list[_Sentence]) -> None:
        self._units = units

    @functools.cached_property
    def vote_languages(self) -> frozenset[str]:
        """The languages any of the reply's vote phrases belong to."""
        phrases = vote_phrases()
        codes = {code for u in self._units for c in u.clauses for code, _ in phrases.get(c, ())}
        return frozenset(c.split("-", 1)[0] for c in codes)

    @functools.cached_property
    def _identified(self) -> identify.Identified | None:
        text = " ".join(u.text for u in self._units if not all(u.courtesy))
        return identify.identify(text) if len(text.split()) >= 3 else None

    @property
    def reply_language(self) -> str | None:
        """The language of all its non-courtesy sentences, when the identifier is sure."""
        return self._identified.code if self._identified is not None else None

    @property
    def reply_guess(self) -> str | None:
        """The identifier's best guess for them, even if unsure."""
        return self._identified.guess if self._identified is not None else None


def _unaccounted(unit: _Sentence, verdict: Verdict, context: _Context, *, trailing: bool) -> str:
    """Why this sentence is not accounted for ("" when it is)."""
    if all(unit.courtesy):
        return ""
    named = _NAMED_VOTE.match(unit.text)
    if named is not None and named.group(1).casefold() not in _LABELS:
        return "relays someone else's vote"  # "Jon: for." — a list of others' votes
    remarks = [
        clause
        for clause, polite in zip(unit.clauses, unit.courtesy, strict=True)
        if not polite and clause not in vote_phrases()
    ]
    if verdict.vote is not None and _read_whole(unit.text, verdict):
        # The older reader weighed this sentence's vote words with the rest of the reply
        # ("Change my vote to AGAINST. I can't support it.") and found them consistent. It
        # knows neither acknowledgements, votes promised for later and conditions it has no
        # word for, nor the qualifiers of languages other than its own ("For, hvis § 4 ...").
        whole = _without_courtesy(" ".join(unit.clauses))
        remarks = [  # the clauses the older reader did not read a vote in
            clause
            for clause, raw in zip(unit.clauses, unit.raw, strict=True)
            if clause in remarks and classify(raw).vote is None
        ]
        if not remarks:
            # Only the older reader's vote, in one of its languages: no identifier needed.
            return _cue(whole, _LATER, *sorted(CLASSIFIED | context.vote_languages))
        codes = _languages_for(unit.text, context)
        rest = _without_courtesy(" ".join(remarks))
        if isinstance(codes, str) and len(rest.split()) <= 2:
            codes = sorted(languages())  # "-1, sorry.": too short to tell; no qualifier at all
        if isinstance(codes, str):
            return codes if remarks else _cue(whole, _LATER, *_read_codes(context))
        if set(codes) <= CLASSIFIED or not remarks:
            found = _cue(whole, _LATER, *codes, *_read_codes(context))
            return found or (_cue(rest, ("conditions",), *codes) if remarks else "")
        others = [c for c in codes if c not in CLASSIFIED]
        return (
            _cue(rest, tuple(k for k, _ in _KINDS), *others)
            or _answer_in(rest, others)
            or _vote_words(rest, others)
            or _cue(whole, _LATER, *codes)
        )
    if not remarks:
        return ""
    if trailing and _is_name_line(unit.text):
        return ""
    if unit.text.rstrip(" \"')]*_~").endswith(("?", "？", "؟")):
        return "a question"
    statement = _states_vote(unit, verdict)
    if not statement:
        said = classify(unit.text)
        if said.signal:
            return said.reason.split(":", 1)[0] if said.reason else "a vote word in a remark"
    text = " ".join(remarks)
    codes = _languages_for(unit.text, context)
    if isinstance(codes, str):
        if len(text.split()) > _NAME_WORDS:
            return codes
        # Too short to tell its language ("None.", "Gladly."): no qualifier of any language.
        codes = sorted(languages())
    text = _NUMBER.sub(" number ", f" {text} ")
    if set(codes) <= CLASSIFIED:
        # The older reader has weighed negations and vote words in these languages (above);
        # what it does not look for outside a vote sentence is a condition, an
        # acknowledgement, a vote promised for later, or a second yes or no ("Oui. Enfin
        # non, je dois relire l'article 9.").
        text = _without_courtesy(_NEUTRAL.sub(" ok ", text))
        return _cue(text, _ALWAYS, *codes) or _answer_in(text, codes)
    problem = _cue(text, tuple(kind for kind, _ in _KINDS), *codes)
    if problem:
        return problem
    return _answer_in(text, codes) or _vote_words(text, codes)


# "Jon: for.", "Anna Berg: against": a name, a colon, a vote — someone else's vote reported.
_NAMED_VOTE = re.compile(
    r"^\s*([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?)\s*:\s*(?i:for|against|abstain|yes|no|\+1|-1)\b"
)
# Words a member may put before a colon about their own vote ("Vote: FOR", "Mine: against").
_LABELS = frozenset(
    {"vote", "my vote", "answer", "response", "reply", "decision", "mine", "me", "final"}
    | {"ballot", "yes", "no", "ok", "for", "against", "abstain", "re", "aw", "sv", "ref"}
)
# What the older reader never weighs, in any language.
_ALWAYS = ("conditions", "acknowledgements", "future")
_LATER = ("acknowledgements", "future")
# "No problem", "no worries": a no that answers nothing.
_NEUTRAL = re.compile(r" no (?:problems?|objections?|worries|doubt|issues?|concerns?|rush|hurry)\b")


def _read_whole(text: str, verdict: Verdict) -> bool:
    """Did the older reader read this sentence as (part of) the vote?"""
    if _holds(verdict.evidence, text):
        return True
    said = classify(text)
    return said.vote is not None or said.reason.startswith(("negated", "hedged", "mixed"))


def _without_courtesy(text: str) -> str:
    """Courtesy uses of "if" ("let me know if you need anything") are no condition."""
    return cues.COURTESY.sub(" ", f" {text} ")


def _answer_in(text: str, codes: Sequence[str]) -> str:
    """A yes or a no inside a remark: a second answer to weigh ("Ja. Eller nej förresten")."""
    for language in _languages_of(codes):
        # In scripts without spaces a one-character yes ("是", also "is") says nothing alone.
        answers = [a for a in language.answers if language.word_boundaries or len(a) > 1]
        if any(language.contains(text, answer) for answer in answers):
            return "a yes or no in a remark"
    return ""


# Languages steervote does not read, and the read languages close enough that a short
# sentence of one is often identified as the other (CLD2 on a few words of Bulgarian may say
# Serbian): such a sentence is read in the close language the rest of the reply is in.
_CLOSE = {
    "sr": ("hr", "bg", "sl"),
    "bs": ("hr", "sl"),
    "mk": ("bg",),
    "be": ("ru", "uk"),
    "ca": ("es", "fr"),
    "gl": ("pt", "es"),
    "af": ("nl",),
    "lb": ("de",),
    "fy": ("nl",),
    "nn": ("no",),
    "fo": ("is", "da"),
}


def _languages_for(text: str, context: _Context) -> list[str] | str:
    """The read languages to weigh this sentence in, or why it cannot be weighed."""
    found = identify.identify(text)
    pool = set(context.vote_languages)
    for code in (context.reply_language, context.reply_guess):
        if code in identify.READ_LANGUAGES:
            pool.add(str(code))
    if found.code is not None:
        if found.read:
            return [found.code]
        close = [c for c in _CLOSE.get(found.code, ()) if c in pool]
        if close:
            return close
        return f"written in {identify.language_name(found.code)}, which steervote does not read"
    reply = context.reply_language
    if reply is not None and reply not in identify.READ_LANGUAGES:
        # Too short to tell alone, and the rest of the reply is in a language not read.
        return f"written in {identify.language_name(reply)}, which steervote does not read"
    guess = found.guess
    # A guess on one or two words ("sorry") means little; on more, an unread guess is a reason.
    if guess is not None and guess not in identify.READ_LANGUAGES and len(text.split()) > 2:
        close = [c for c in _CLOSE.get(guess, ()) if c in pool]
        if not close:
            return (
                f"perhaps written in {identify.language_name(guess)}, which steervote does not read"
            )
        return close
    if guess in identify.READ_LANGUAGES:
        pool.add(str(guess))
    if not pool:
        return "a remark in a language steervote could not tell"
    return sorted(pool)


def _read_codes(context: _Context) -> list[str]:
    codes = set(context.vote_languages)
    if context.reply_language in identify.READ_LANGUAGES:
        codes.add(str(context.reply_language))
    return sorted(codes)


def _cue(text: str, kinds: Sequence[str], *codes: str | None) -> str:
    """The first qualifier of the given kinds found in `text` (normalised), as a label."""
    labels = dict(_KINDS)
    padded = f" {text} "
    if not any(_any_language(kind).search(padded) for kind in kinds):
        return ""  # no language's word of these kinds at all: the common case, two searches
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
                if " " in phrase and language.contains(text, phrase):
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
def _any_language(kind: str) -> re.Pattern[str]:
    """Every language's words of one kind in one pattern: a first test before the exact one."""
    spaced = {
        p for lang in languages().values() if lang.word_boundaries for p in getattr(lang, kind)
    }
    packed = {
        p for lang in languages().values() if not lang.word_boundaries for p in getattr(lang, kind)
    }
    parts = []
    if spaced:
        parts.append(
            " (?:" + "|".join(re.escape(p) for p in sorted(spaced, key=len, reverse=True)) + ") "
        )
    if packed:
        parts.append(
            "(?:" + "|".join(re.escape(p) for p in sorted(packed, key=len, reverse=True)) + ")"
        )
    return re.compile("|".join(parts) if parts else r"(?!x)x")


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
    rest = _without_courtesy_words(clause)
    allowed = names | guests if rest != clause else names
    return all(word in allowed or _is_symbol(word) for word in rest.split())


@functools.lru_cache(maxsize=8192)
def _without_courtesy_words(clause: str) -> str:
    return _courtesy_pattern().sub(" ", clause)


def _is_symbol(word: str) -> bool:
    """Emoji and other symbols (a smile, a heart) that say nothing about a vote."""
    return all(unicodedata.category(ch)[0] in "SM" or ch in "\u200d\ufe0f" for ch in word)


def _is_name_line(text: str) -> bool:
    """A line of a signature: a name, a title, an organisation (short, no sentence in it)."""
    words = text.split()
    if not words or len(words) > _NAME_WORDS or text.rstrip().endswith(_SENTENCE_ENDS):
        return False
    return all(w[:1].isupper() or not w[:1].isalpha() or _short_uncased(w) for w in words)


_SENTENCE_ENDS = ("?", "!", ".", "。", "！", "？", "؟")


def _short_uncased(word: str) -> bool:
    """A word of a script without capitals (王伟, サム, 샘 드림) short enough to be a name."""
    return not (word[:1].islower() or word[:1].isupper()) and len(word) <= 5


def _excerpt(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= 200 else text[:197] + "..."
