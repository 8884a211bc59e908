"""A vote counts only when every sentence of the member's own text is accounted for.

Each sentence must be exactly one of: a statement of the vote; courtesy (greeting, thanks,
sign-off, the member's name, a signature line); or a remark, in a language steervote reads,
that holds no vote word, negation, condition, hedge, question, acknowledgement, stated future
vote or change of vote. Whatever cannot be accounted for — a sentence in a language steervote
does not read, a qualifier in any language, a second option — sends the reply to review with
that sentence and the reason. Not knowing something is a reason to ask, never a vote.

Text that is no sentence in any language (a formula, code, markup, characters that are not
text, long runs of filler lines) is never courtesy nor a remark. And the whole own text names
one option at most: a second option word anywhere in it, however it is separated from the
first, sends the reply to review naming both (`_second_option`).

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
from steervote.core.reading.languages import votewords as w
from steervote.core.reading.languages.lexicon import (
    Found,
    Language,
    as_written,
    find_entries,
    languages,
    normalize,
    vote_phrases,
)
from steervote.core.reading.vote import cues
from steervote.core.reading.vote.classify import (
    Verdict,
    classify,
    line_of,
    pieces,
    sentences,
    two_options,
)
from steervote.core.reading.vote.classify import normalize as lowered
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
    second = _second_option(own, verdict, context, votes)
    if second is not None:
        return second
    shapeless = _not_language(own, units)
    if shapeless is not None:
        return shapeless
    if not votes:
        return CLEAR
    vote = votes.pop()
    if verdict.vote is not None:
        return Account(vote, _excerpt(verdict.evidence), "")
    statement = units[last_vote].text
    bounded = line_of(statement, own, lambda line: _stated(line, vote))
    return Account(vote, bounded or _excerpt(statement), "")


def _stated(line: str, vote: Vote) -> Vote | None:
    """The vote a line states in the language data (a clause that is a vote entry), if it is
    `vote`."""
    clauses = (normalize(part) for part in CLAUSE_BREAK.split(line))
    said = {v for c in clauses for _, v in vote_phrases().get(c, ())}
    return vote if said == {vote} else None


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


def _excerpt(sentence: str, limit: int = 200) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- A second option ------------------------------------------------------------------------
#
# A reply whose own words name two different options is never counted, whatever separates
# them: another sentence, a comma, a NUL, line breaks, filler lines, or only a space ("For
# against"). Every option word of the language data (its `[votes]` entries and its yes and
# no) is found in the member's own text as whole words (in Chinese, Japanese and Korean inside
# words), the longest entry first, so "hverken for eller imod" (Danish: neither for nor
# against, an abstention) is one entry, not two options. An option word names no option only
# where the reader plainly understands it as something else:
#
# - part of a phrase the language data lists as no vote ("thanks for", "no problem");
# - negated: a negator of its language among the three words before it in its clause
#   ("not against"), a negator that is not itself a yes or a no ("nie za" asks);
# - "No. 4", the abbreviation of number;
# - a short word (four letters at most) of another language, inside a sentence written in a
#   language where it is no option word (Portuguese "da" is Croatian yes; Czech "no" is
#   English no) — only where the identifier is sure of that language, or guesses the very
#   language the reply votes in; never a word that stands among option words alone, nor one
#   of a language the reply votes in (their statements, their words standing alone, the older
#   reader's vote), nor a long word: languages share short words, not "dagegen";
# - a one-character word of a script without spaces inside a longer word ("是", yes, is
#   the "is" of "我也是"), as `_answer_in` already reads it;
# - a word Danish or Polish readers would each read differently ("tak": yes or thanks) in a
#   reply surely written in the language where it is thanks;
# - superseded where the older reader found the final intent explicit: named before a stated
#   change of vote ("For. Actually, please change my vote to against."), or in the
#   conditional before a committed statement ("I'd say no, but put me down as an
#   abstention"). A hedge is no conditional: "Probably yes. Put me down as against." asks.
#
# The words are found in segments (see `_segments`), not in `sentences`: a line break always
# separates two words, however the lines around it are joined into sentences. So do a digit
# ("line 0against"), a change of script, and a hyphen that joins no entry ("Yes-no"); letters
# written one by one are read whole ("A G A I N S T").


@dataclass(frozen=True, slots=True)
class _Word:
    """An option word found in the own text."""

    options: frozenset[tuple[str, str]]  # (language, option) it names
    written: str  # as the member wrote it
    segment: int  # which segment of the own text (see `_segments`)
    position: int  # where in the segment it starts
    standing: bool  # its clause holds nothing but option words
    statement: bool  # an entry of several words ("I vote against"), not a word alone
    hedged: bool  # in the conditional: "I'd" or "would" among the three words before it


def _segments(own: str) -> list[str]:
    """The own text cut where a member ends a thought: at every line break (a line joins the
    one before only when that one is long prose wrapped before its end), and at the end of
    every sentence. Filler lines between two words never join them into one sentence."""
    lines: list[str] = []
    for raw in own.splitlines():
        line = " ".join(raw.split())
        previous = lines[-1] if lines else ""
        if line and len(previous) >= _WRAPPED and not previous.endswith((*_SENTENCE_ENDS, ":")):
            lines[-1] = f"{previous} {line}"
        elif line:
            lines.append(line)
        else:
            lines.append("")  # a blank line ends a paragraph
    return [piece for line in lines if line for piece in pieces(line)]


_WRAPPED = 60  # a line this long that does not end a sentence is prose wrapped at its end


def _second_option(
    own: str, verdict: Verdict, context: _Context, votes: set[Vote]
) -> Account | None:
    """The problem when the own text names a second option (None when it names one or none)."""
    segments = _segments(own)
    found = [word for index, text in enumerate(segments) for word in _words(index, text)]
    if not found:
        return None
    in_play = _in_play(found, verdict, context)
    committed = verdict.vote is not None and _COMMITTED.search(f" {lowered(verdict.evidence)}")
    change = _last_change(segments) if verdict.changed else (-1, -1)
    named: dict[str, tuple[str, str]] = {}
    for word in found:
        options = _named_options(word, in_play, segments, context)
        superseded = (word.segment, word.position) < change or (word.hedged and committed)
        if superseded and verdict.vote is not None and options != {verdict.vote.value}:
            continue  # superseded by the explicit final intent the older reader found
        for option in sorted(options):
            named.setdefault(option, (word.written, segments[word.segment]))
    for vote in votes:
        named.setdefault(vote.value, (_excerpt(verdict.evidence) or vote.value, verdict.evidence))
    if len(named) < 2:
        return None
    shown = " / ".join(dict.fromkeys(_excerpt(text, 100) for _, text in named.values()))
    return Account(None, shown, two_options(named))


def _words(segment: int, text: str) -> list[_Word]:
    """The option words of one segment, with what stands around each in its clause."""
    found: list[_Word] = []
    for start, raw in _clauses_at(text):
        clause = _spelled_out(_separated(normalize(raw)))
        if not clause:
            continue
        tokens = clause.split()
        entries = find_entries(clause)
        voting = [e for e in entries if e.options]
        standing = sum(e.end - e.start for e in voting if e.whole) == len(tokens)
        for entry in voting:
            if _excused(entry, clause, tokens, standing=standing):
                continue
            before = tokens[max(0, entry.start - 3) : entry.start]
            hedged = any(_hypothetical(t) for t in before)
            written = as_written(raw, entry.phrase)
            position = start + max(0, raw.find(written))
            statement = " " in entry.phrase or (
                not entry.phrase.isascii() and len(entry.phrase) > 2
            )
            found.append(
                _Word(entry.options, written, segment, position, standing, statement, hedged)
            )
    return found


def _clauses_at(text: str) -> list[tuple[int, str]]:
    """The clauses of a sentence (as `CLAUSE_BREAK` cuts them), each with where it starts."""
    found: list[tuple[int, str]] = []
    start = 0
    for mark in CLAUSE_BREAK.finditer(text):
        found.append((start, text[start : mark.start()]))
        start = mark.end()
    found.append((start, text[start:]))
    return found


def _spelled_out(clause: str) -> str:
    """The clause with the words a member spelled out read whole: a hyphenated word that is no
    entry split at its hyphens ("yes-no", but not "abstenho-me"), and letters written one by
    one joined ("A G A I N S T", "a.g.a.i.n.s.t")."""
    tokens = clause.split()
    if not any("-" in t or len(t) == 1 for t in tokens):
        return clause
    covered = {i for entry in find_entries(clause) for i in range(entry.start, entry.end)}
    split = " ".join(
        t.replace("-", " ") if "-" in t and i not in covered else t for i, t in enumerate(tokens)
    ).split()
    out: list[str] = []
    run: list[str] = []
    for token in [*split, ""]:
        # Letters of one script written with spaces (not Chinese, Japanese or Korean, whose
        # single characters are words: "是 否" is yes and no).
        alone = len(token) == 1 and token.isalpha() and _script(token) != "east"
        if alone and (not run or _script(run[-1]) == _script(token)):
            run.append(token)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = [token] if alone else []
        if token and not alone:
            out.append(token)
    out.extend(["".join(run)] if len(run) > 1 else run)
    return " ".join(out)


def _separated(clause: str) -> str:
    """The clause with a space wherever a digit meets a letter or one script meets another
    ("0against", "forпротив"): whatever stands between two words, they are two words.
    Chinese, Japanese and Korean letters are one script here (Japanese mixes kanji and kana
    within a word)."""
    if clause.isascii() and not any(ch.isdigit() for ch in clause):
        return clause
    out: list[str] = []
    last = ""
    for ch in clause:
        kind = _script(ch)
        if kind and last and kind != last and out and out[-1] != " ":
            out.append(" ")
        out.append(ch)
        if ch == " ":
            last = ""
        elif kind:
            last = kind
    return "".join(out)


@functools.lru_cache(maxsize=8192)
def _script(ch: str) -> str:
    """The script class of a character for `_separated` ("" for marks, "'" and "-")."""
    if ch.isdigit():
        return "digit"
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC"):
        return "east"
    return first or "letter"


def _excused(entry: Found, clause: str, tokens: list[str], *, standing: bool) -> bool:
    """Is this option word plainly something else where it stands (see above)?"""
    if not entry.whole and len(entry.phrase) == 1:
        around = clause[max(0, entry.at - 1) : entry.at] + clause[entry.at + 1 : entry.at + 2]
        if any(ch.isalpha() for ch in around):
            return True  # "是" inside "我也是": the verb, not a yes
    if _NUMBER.match(" " + " ".join(tokens[entry.start :]) + " ") is not None:
        return True  # "No. 4 Harbour Street"
    if standing:
        return False
    codes = {code for code, _ in entry.options}
    before = tokens[max(0, entry.start - 3) : entry.start]
    return any(_negates(token, codes) for token in before)


def _negates(token: str, codes: set[str]) -> bool:
    """Is the word a negator of one of these languages that is not itself a yes or a no?"""
    if token in _option_vocabulary():
        return False
    table = languages()
    return token.endswith("n't") or any(token in table[code].negators for code in codes)


def _in_play(found: list[_Word], verdict: Verdict, context: _Context) -> frozenset[str]:
    """The languages the reply votes in: those of its vote statements, of option words that
    stand alone, and of the older reader's vote."""
    codes = set(context.vote_languages)
    for word in found:
        if word.standing or word.statement:
            codes.update(_base(code) for code, _ in word.options)
        if verdict.vote is not None and (verdict.vote.value in {o for _, o in word.options}):
            codes.update(_base(code) for code, _ in word.options)
    return frozenset(codes)


def _named_options(
    word: _Word, in_play: frozenset[str], segments: list[str], context: _Context
) -> set[str]:
    """The options this word names in this reply (an empty set: none)."""
    options = word.options
    own = {_base(c) for c, _ in options}
    if not word.standing and not own & in_play and _shared(word.written):
        written_in = _written_in(segments[word.segment], in_play)
        if written_in is not None and written_in not in own:
            return set()  # an ordinary word of the language the sentence is written in
    phrase = normalize(word.written)
    polite = {_base(code) for code, lang in languages().items() if phrase in lang.courtesy} - {
        _base(c) for c, _ in options
    }
    if polite and context.reply_language in polite:
        return set()  # "tak": Danish thanks in a Danish reply, not Polish yes
    return {option for _, option in options}


def _shared(word: str) -> bool:
    """Is the word short enough to be an ordinary word of another language too ("da", "no",
    "ne", "igen")? Languages share short words, not long ones ("dagegen", "nesouhlasím"),
    nor the words of Chinese, Japanese and Korean."""
    plain = normalize(word)
    return len(plain) <= _SHARED and not _PACKED.search(plain)


_SHARED = 4
_PACKED = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _written_in(text: str, in_play: frozenset[str]) -> str | None:
    """The read language the sentence is written in: the identifier's answer when it is
    sure, or its guess when that is a language the reply votes in and the guess is more than
    a shot in the dark ("Je ne peux pas venir jeudi.": French, 0.4). None when that cannot be
    told (then every language's option words count: "line 3 DA" is no English)."""
    found = _identified(text)
    if found.read:
        return found.code
    if found.guess in in_play and found.confidence >= _GUESS:
        return found.guess
    return None


_GUESS = 0.3


@functools.lru_cache(maxsize=4096)
def _identified(text: str) -> identify.Identified:
    return identify.identify(text)


def _last_change(segments: list[str]) -> tuple[int, int]:
    """Where the last statement of a change of vote ("change my vote to") starts: its
    segment and its place in it, or (-1, -1). Only the options named after it may count."""
    for index in range(len(segments) - 1, -1, -1):
        text = segments[index]
        if w.CHANGE_MARKERS.search(f" {lowered(text)}"):
            found = w.CHANGE_MARKERS.search(f" {text.lower()}")
            return index, max(0, found.start() if found else 0)
    return -1, -1


def _base(code: str) -> str:
    return code.split("-", 1)[0]


_COMMITTED = w.COMMITTED


@functools.cache
def _option_vocabulary() -> frozenset[str]:
    """Every vote entry and yes or no of every language (normalised)."""
    answers = {a for language in languages().values() for a in language.answers}
    return frozenset(vote_phrases()) | answers


def _hypothetical(token: str) -> bool:
    """Does the word put the option after it in the conditional ("I'd say no", "I would
    vote for")? Such an option gives way to a later committed statement ("..., but put me
    down as an abstention"), as the older reader weighs it; a hedge ("probably yes") does not."""
    return token.endswith("'d") or token in _CONDITIONAL


_CONDITIONAL = frozenset({"would", "i'd", "we'd"})


# --- Text that is not a sentence in a language ----------------------------------------------

# Addresses and links say nothing of a language; they are set aside before looking for code.
_ADDRESS = re.compile(
    r"(?:https?|ftp)://\S+|\bwww\.\S+|<[^<>\s]+@[^<>\s]+>|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
_SHAPES = (
    ("a formula", re.compile(r"^\s*[=+@]\s*[A-Za-z_][\w.]*\s*\(")),
    (
        "code",
        re.compile(
            r"[A-Za-z_][\w.]*\([^()]*[\"'][^()]*\)|[{}]|\w ?(?:==|!=|=>|&&|\|\|) ?\w|\w=[\w\"']"
        ),
    ),
    ("markup", re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&(?:[A-Za-z]+|#\d+);")),
)
# A run of lines this many with the same words (digits aside), or of short lines this many,
# is filler, not sentences.
_SAME_LINES = 5
_SHORT_LINES = 12
_SHORT = 40
# Words this many of which at most a third are different: the same words again and again.
_REPEATED_WORDS = 8


def _not_language(own: str, units: list[_Sentence]) -> Account | None:
    """The problem when the own text holds text that is no sentence in any language: a
    formula, code, markup, characters that are not text, long runs of filler lines, the same
    words again and again. Such text is never courtesy nor a remark (None: there is none)."""
    for unit in units:
        reason = _shape(unit.text)
        if reason:
            return Account(
                None, _excerpt(unit.text), f'not a sentence ({reason}): "{_excerpt(unit.text)}"'
            )
    lines = [" ".join(line.split()) for line in own.splitlines()]
    lines = [line for line in lines if line and not _options_only(line)]
    shapes: dict[str, int] = {}
    for line in lines:
        shape = re.sub(r"\d+", "#", normalize(line))
        if not shape:
            continue  # a rule of dashes, stars or equals signs
        shapes[shape] = shapes.get(shape, 0) + 1
        if shapes[shape] >= _SAME_LINES:
            return Account(
                None, _excerpt(line), f'not a sentence (filler lines): "{_excerpt(line)}"'
            )
    short = [line for line in lines if len(line) < _SHORT]
    if len(short) >= _SHORT_LINES:
        return Account(
            None,
            _excerpt(short[-1]),
            f'not a sentence (a long run of short lines): "{_excerpt(short[-1])}"',
        )
    return None


def _options_only(line: str) -> bool:
    """Is the line nothing but option words ("FOR", "Yes, for!")? Repeating one is no filler."""
    words = _words(0, line)
    return bool(words) and all(word.standing for word in words)


def _shape(text: str) -> str:
    """Why this sentence is no sentence in a language ("" when it may be one)."""
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cn", "Cs") or (category == "Co" and ch > "\uffff"):
            return "characters that are not text"
        if category == "Cc" and (ch < "\x20" or ch == "\x7f") and ch not in "\t\n\r\x0b\x0c":
            # Not C1 controls (U+0080-U+009F): they are what cp1252 text labelled Latin-1
            # decodes to ("I\x92m"), which a member's mail client shows as punctuation.
            return "characters that are not text"
    bare = _ADDRESS.sub(" ", text)
    for reason, pattern in _SHAPES:
        if pattern.search(bare):
            return reason
    words = [t for t in normalize(bare).split() if any(ch.isalpha() for ch in t)]
    if len(words) >= _REPEATED_WORDS and 3 * len(set(words)) <= len(words):
        return "the same words again and again"
    return ""
