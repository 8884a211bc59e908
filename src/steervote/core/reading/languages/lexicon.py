"""The language data the vote reader uses: one TOML file per language in `languages/`.

The files are described in `languages/README.md`; this module loads them (once), checks that
each follows the format, and offers the one text normalisation every entry and every reply is
compared in. Pure standard library, no I/O beyond the package's own data files.
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from steervote.core.vote import Vote

__all__ = [
    "Found",
    "Language",
    "LexiconError",
    "find_entries",
    "languages",
    "normalize",
    "vote_phrases",
]

# Typographic apostrophes and quotes that stand for "'" (straightened before NFKC: NFKC turns
# "´" into a space and a combining accent). U+02BC is the apostrophe Ukrainian text often uses.
_APOSTROPHES = "\u2019\u2018\u201b\u0060\u00b4\u02bc\u2032"
_STRAIGHTEN = {ord(ch): "'" for ch in _APOSTROPHES} | {0x2010: "-", 0x2011: "-"}


class _CharTable(dict[int, str | None]):
    """str.translate table, filled lazily: punctuation and controls -> space, format -> removed.

    Letters, marks, digits, symbols (emoji, "+", "€"), "'" and "-" stay. Invisible format
    characters (zero-width spaces, direction marks, soft hyphens) are removed, not spaced.
    """

    def __missing__(self, key: int) -> str | None:
        ch = chr(key)
        category = unicodedata.category(ch)
        value: str | None
        if ch in "'-":
            value = ch
        elif ch in _APOSTROPHES:
            value = "'"
        elif category == "Cf":
            value = ""
        elif category[0] in "PZ" or category == "Cc":
            value = " "
        else:
            value = ch
        self[key] = value
        return value


_TABLE = _CharTable()


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch)[0] == "M"


# A "'" or "-" with something other than a letter, digit or mark on either side. After the
# table above only letters, digits, marks, symbols, "'", "-" and spaces are left, so "not a
# word character" is: a space, a symbol, another mark of these, or an end.
_LONE_MARK = re.compile(r"(?:^|(?<=[\s'\-]))['\-]|['\-](?=[\s'\-]|$)")


def _inner_marks(text: str) -> str:
    """Keep "'" and "-" only between word characters ("don't", "e-mail"); space the others."""
    if not any(unicodedata.category(ch)[0] == "S" for ch in text if not ch.isalnum()):
        return _LONE_MARK.sub(" ", text)
    chars = list(text)
    last = len(chars) - 1
    for i, ch in enumerate(text):
        if ch in "'-" and not (
            0 < i < last and _is_word_char(text[i - 1]) and _is_word_char(text[i + 1])
        ):
            chars[i] = " "
    return "".join(chars)


def _normalize_once(text: str) -> str:
    text = text.translate(_STRAIGHTEN)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text)
    # A capital dotted I (Turkish "İ") casefolds to "i" + combining dot above: read it as "i".
    text = text.replace("i\u0307", "i").translate(_TABLE)
    if "'" in text or "-" in text:
        text = _inner_marks(text)
    return " ".join(text.split())


# The same mapping for ASCII alone (the fast path): straightened, then the table's rule.
_ASCII = {c: str(chr(c).translate(_STRAIGHTEN).translate(_TABLE)) for c in range(128)}


@functools.lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """NFKC, casefold, typographic quotes/apostrophes straightened (’‘`´ -> '), punctuation
    removed except ' and - between word characters, whitespace collapsed, stripped.

    Cached: replies repeat their short lines ("For.", "Kind regards", a footer)."""
    if text.isascii():
        # NFKC and casefold leave ASCII as lower() does, and one pass settles it.
        ascii_text = text.lower().translate(_ASCII)
        if "'" in ascii_text or "-" in ascii_text:
            ascii_text = _inner_marks(ascii_text)
        return " ".join(ascii_text.split())
    result = _normalize_once(text)
    # Removing a character can bring a letter and a combining mark together; settle them.
    for _ in range(3):
        again = _normalize_once(result)
        if again == result:
            break
        result = again
    return result


@dataclass(frozen=True, slots=True)
class Language:
    """One language file, loaded: every entry already normalised (see `normalize`)."""

    code: str
    name: str
    word_boundaries: bool
    votes: Mapping[Vote, frozenset[str]]
    answers: frozenset[str]
    not_votes: frozenset[str]
    negators: frozenset[str]
    conditions: frozenset[str]
    hedges: frozenset[str]
    questions: frozenset[str]
    acknowledgements: frozenset[str]
    future: frozenset[str]
    changes: frozenset[str]
    courtesy: frozenset[str]
    header_labels: Mapping[str, frozenset[str]]
    wrote: frozenset[str]
    original: frozenset[str]
    footers: tuple[str, ...]
    out_of_office: tuple[str, ...]
    automated: tuple[str, ...]
    examples: Mapping[str, tuple[str, ...]]

    def contains(self, normalized_text: str, phrase: str) -> bool:
        """phrase occurs in text: on word boundaries when word_boundaries, else as a substring."""
        if not phrase:
            return False
        if not self.word_boundaries:
            return phrase in normalized_text
        size = len(normalized_text)
        start = normalized_text.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            if (start == 0 or normalized_text[start - 1] == " ") and (
                end == size or normalized_text[end] == " "
            ):
                return True
            start = normalized_text.find(phrase, start + 1)
        return False


class LexiconError(Exception):
    """A language file that does not follow the format (the message names file and key)."""


# Each table and its keys; True: the list must not be empty.
_SCHEMA: dict[str, dict[str, bool]] = {
    "votes": {"for": True, "against": True, "abstain": True, "answers": False, "not_votes": False},
    "cues": {
        "negators": True,
        "conditions": True,
        "hedges": False,
        "questions": False,
        "acknowledgements": False,
        "future": False,
        "changes": False,
        "courtesy": True,
    },
    "mail": {
        "from": True,
        "sent": False,
        "to": False,
        "cc": False,
        "subject": True,
        "date": False,
        "wrote": False,
        "original": False,
        "footers": False,
        "out_of_office": False,
        "automated": False,
    },
    "examples": {
        "for": True,
        "against": True,
        "abstain": True,
        "negated": True,
        "conditional": True,
        "question": True,
        "acknowledgement": True,
    },
}
_HEADER_KEYS = ("from", "sent", "to", "cc", "subject", "date")
_TOP_KEYS = frozenset({"code", "name", "word_boundaries", *_SCHEMA})


def _scalar(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise LexiconError(f"{where}: key {key!r} must be a {kind.__name__}")
    return value


def _lists(data: dict[str, Any], table: str, where: str) -> dict[str, tuple[str, ...]]:
    section = data.get(table)
    if not isinstance(section, dict):
        raise LexiconError(f"{where}: table [{table}] is missing")
    keys = _SCHEMA[table]
    unknown = sorted(set(section) - set(keys))
    if unknown:
        raise LexiconError(f"{where}: unknown key {table}.{unknown[0]}")
    out: dict[str, tuple[str, ...]] = {}
    for key, required in keys.items():
        value = section.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise LexiconError(f"{where}: key {table}.{key} must be a list of non-empty strings")
        if required and not value:
            raise LexiconError(f"{where}: key {table}.{key} must not be empty")
        out[key] = tuple(value)
    return out


def _parse(stem: str, text: str) -> Language:
    where = f"languages/{stem}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{where}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise LexiconError(f"{where}: unknown key {unknown[0]!r}")
    code = _scalar(data, "code", str, where)
    if code != stem:
        raise LexiconError(f"{where}: key 'code' is {code!r}, not the file's name {stem!r}")
    name = _scalar(data, "name", str, where)
    word_boundaries = _scalar(data, "word_boundaries", bool, where)
    votes, cues, mail, examples = (_lists(data, table, where) for table in _SCHEMA)
    by_vote = {vote: frozenset(votes[vote.value]) for vote in Vote}
    for vote, other in itertools.combinations(Vote, 2):
        both = by_vote[vote] & by_vote[other]
        if both:
            raise LexiconError(
                f"{where}: votes.{vote.value} and votes.{other.value} both list {min(both)!r}"
            )
    return Language(
        code=code,
        name=name,
        word_boundaries=word_boundaries,
        votes=MappingProxyType(by_vote),
        answers=frozenset(votes["answers"]),
        not_votes=frozenset(votes["not_votes"]),
        negators=frozenset(cues["negators"]),
        conditions=frozenset(cues["conditions"]),
        hedges=frozenset(cues["hedges"]),
        questions=frozenset(cues["questions"]),
        acknowledgements=frozenset(cues["acknowledgements"]),
        future=frozenset(cues["future"]),
        changes=frozenset(cues["changes"]),
        courtesy=frozenset(cues["courtesy"]),
        header_labels=MappingProxyType({key: frozenset(mail[key]) for key in _HEADER_KEYS}),
        wrote=frozenset(mail["wrote"]),
        original=frozenset(mail["original"]),
        footers=mail["footers"],
        out_of_office=mail["out_of_office"],
        automated=mail["automated"],
        examples=MappingProxyType(dict(examples)),
    )


@functools.cache
def languages() -> Mapping[str, Language]:
    """Every language file, loaded once (functools.cache), keyed by code."""
    folder = resources.files(__package__ or "steervote.core.reading.languages")
    loaded: dict[str, Language] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml") and entry.is_file():
            language = _parse(entry.name.removesuffix(".toml"), entry.read_text("utf-8"))
            loaded[language.code] = language
    return MappingProxyType(loaded)


@functools.cache
def vote_phrases() -> Mapping[str, frozenset[tuple[str, Vote]]]:
    """normalized phrase -> the (language code, vote) pairs it means, over all languages.

    Loaded once (functools.cache)."""
    found: dict[str, set[tuple[str, Vote]]] = {}
    for code, language in languages().items():
        for vote, phrases in language.votes.items():
            for phrase in phrases:
                found.setdefault(phrase, set()).add((code, vote))
    return MappingProxyType({phrase: frozenset(pairs) for phrase, pairs in found.items()})


def phrase_pattern(phrases: Iterable[str], *, start: bool = False) -> re.Pattern[str]:
    """One pattern finding any of the (normalised) phrases in *casefolded* raw text.

    Punctuation and spacing between the words of a phrase may be anything that is not a word
    character ("##- Please type your reply above this line -##"), so a long text need not be
    normalised first. `start`: only at the start of the text (after non-word characters).
    """
    alternatives = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        words = [re.escape(w).replace("'", "['’]") for w in phrase.split()]
        if words:
            alternatives.append(r"[\W_]+".join(words))
    if not alternatives:
        return re.compile(r"(?!x)x")
    body = "|".join(alternatives)
    lead = r"^[\W_]*" if start else r"(?<!\w)"
    return re.compile(rf"{lead}(?:{body})(?!\w)")


@dataclass(frozen=True, slots=True)
class Found:
    """An entry of some language found in a normalised text (see `find_entries`)."""

    start: int  # index of its first word in text.split()
    end: int  # index after its last word
    phrase: str  # the entry, normalised
    options: frozenset[tuple[str, str]]  # (language code, option): a Vote's value, or for a
    # yes or no whose option the data does not give, the answer itself; empty: a not-a-vote
    whole: bool  # it is whole words of the text (not part of a word of a script without spaces)
    at: int = 0  # where it starts in the text (a character index)


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    spaced: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]]  # first word -> entries
    packed: re.Pattern[str]
    options: Mapping[str, frozenset[tuple[str, str]]]


def _answer_option(language: Language, answer: str) -> str:
    """The option a yes or no that is not itself a vote entry stands for, where the data
    tells: a no holds a negator of its language; a yes is the other answer of a language
    whose no does. Otherwise the answer itself (an option of its own: a yes or a no)."""
    listed = {v.value for v, phrases in language.votes.items() if answer in phrases}
    if listed:
        return min(listed)

    def negative(word: str) -> bool:
        if language.word_boundaries:
            return bool(set(word.split()) & language.negators)
        return any(n in word for n in language.negators)

    if negative(answer):
        return Vote.AGAINST.value
    if any(negative(other) for other in language.answers if other != answer):
        return Vote.FOR.value
    return answer


@functools.cache
def _vocabulary() -> _Vocabulary:
    options: dict[str, set[tuple[str, str]]] = {}
    packed: set[str] = set()
    spaced: dict[str, set[tuple[tuple[str, ...], str]]] = {}
    for code, language in languages().items():
        named: list[tuple[str, str | None]] = [
            (phrase, vote.value) for vote, phrases in language.votes.items() for phrase in phrases
        ]
        named += [(a, _answer_option(language, a)) for a in language.answers]
        named += [(phrase, None) for phrase in language.not_votes]
        for phrase, option in named:
            found = options.setdefault(phrase, set())
            if option is not None:
                found.add((code, option))
            if language.word_boundaries:
                words = tuple(phrase.split())
                spaced.setdefault(words[0], set()).add((words, phrase))
            else:
                packed.add(phrase)
    ordered = {
        first: tuple(sorted(entries, key=lambda e: (-len(e[0]), e[1])))
        for first, entries in spaced.items()
    }
    body = "|".join(re.escape(p) for p in sorted(packed, key=lambda p: (-len(p), p)))
    return _Vocabulary(
        spaced=MappingProxyType(ordered),
        packed=re.compile(body or r"(?!x)x"),
        options=MappingProxyType({p: frozenset(o) for p, o in options.items()}),
    )


# Letters of the scripts written without spaces (kana, CJK ideographs, Hangul): only a text
# holding one of these is searched for those languages' entries.
_PACKED_SCRIPT = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def find_entries(text: str) -> list[Found]:
    """Every vote entry, yes or no, and not-a-vote phrase (`[votes] not_votes`) of every
    language in the normalised `text`, leftmost and longest first, none overlapping: the words
    of "hverken for eller imod" (Danish, abstain) are that entry, not "for" and "imod".

    Languages written with spaces match whole words; the others match inside words, and
    `Found.whole` says whether the match is whole words of the text."""
    vocabulary = _vocabulary()
    words = text.split()
    starts: list[int] = []
    position = 0
    for word in words:
        position = text.index(word, position)
        starts.append(position)
        position += len(word)
    found: list[Found] = []
    covered = [False] * len(words)
    index = 0
    while index < len(words):
        for entry, phrase in vocabulary.spaced.get(words[index], ()):
            end = index + len(entry)
            if tuple(words[index:end]) == entry:
                options = vocabulary.options[phrase]
                found.append(Found(index, end, phrase, options, True, starts[index]))
                covered[index:end] = [True] * len(entry)
                index = end
                break
        else:
            index += 1
    if _PACKED_SCRIPT.search(text) is not None:
        for match in vocabulary.packed.finditer(text):
            first = _word_at(starts, match.start())
            last = _word_at(starts, match.end() - 1)
            if any(covered[first : last + 1]):
                continue
            whole = match.start() == starts[first] and match.end() == starts[last] + len(
                words[last]
            )
            options = vocabulary.options[match.group()]
            found.append(Found(first, last + 1, match.group(), options, whole, match.start()))
        found.sort(key=lambda f: (f.start, f.end))
    return found


def _word_at(starts: list[int], position: int) -> int:
    """The index of the word holding character `position` (starts: each word's first)."""
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= position:
            low = middle
        else:
            high = middle - 1
    return low


def as_written(raw: str, phrase: str) -> str:
    """The words of `raw` that normalise to the entry `phrase` ("AGAINST" for "against"), or
    the phrase itself when they cannot be found apart from it."""
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(raw.translate(_STRAIGHTEN)):
        low = ch.casefold()
        folded.append(low)
        origin.extend([index] * len(low))
    text = "".join(folded)
    match = phrase_pattern([phrase]).search(text)  # as whole words, else inside words
    start, end = (match.start(), match.end()) if match else (text.find(phrase), -1)
    if match is None:
        end = start + len(phrase)
    if start < 0 or end <= start:
        return phrase
    return raw[origin[start] : origin[end - 1] + 1]
