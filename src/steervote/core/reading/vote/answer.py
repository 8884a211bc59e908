"""The strict rule for an answer to a request for one word (`steervote ask`, issue #12).

A member whose reply could not be counted is asked to reply with one word: FOR, AGAINST or
ABSTAIN. The answer counts only when the member's own text (quotes, signatures and footers
already removed) is that word alone: exactly one clause in the whole text is an *option word*
of some language steervote reads, written alone with at most emphasis around it ("For.",
"FOR!", "«Contre»", "*abstain*"), in a sentence of at most five words and no qualifier of
any language (a greeting "Guten Morgen" holds "morgen", tomorrow); every other clause or
sentence is courtesy (a greeting, thanks, a sign-off, the member's name; never a word that is
a vote in some language) or, after the word, a line of a signature. Anything else — a
condition, a question mark anywhere, a second option word (even the same one), a remark, a
sentence in any language, an emoji or a smiley beside the word, no word at all — is more than
the word, and the answer is left for a secretary to read.

An *option word* is the name of an option in a language, not a statement about it. It is
taken from the language data (`languages/*.toml`, `[votes]`), never listed here:

- an entry that holds no shorter entry of its language is the name; one that does is a
  statement built around a name ("I vote for", "jestem za", "voto a favor", "賛成です");
- in a language written with spaces, the name is one word, or two ("a favor", "en contra",
  "wstrzymuję się", "á móti") whose first word never stands right before a name in another
  entry of its language and whose last word never stands right after one: "I" stands before
  "approve" in "I approve", so "I agree" and "I oppose" are statements too; Hungarian
  "szavazok" stands after "igennel" in "igennel szavazok", so "mellette szavazok" is one;
- in a language written without spaces, the name holds none of the text its language's
  entries put around a name ("私は", "です", "します", "我", "票"): "賛成" is one, "同意します"
  is a statement;
- a name must have a letter ("+1" is a sign, not a word), must mean the same option in every
  language that lists it, and must not be courtesy in any language: Polish "tak" (yes) is
  Danish for thanks, and the normal reader already asks about it when it cannot tell which.

Why "I vote FOR" is not counted, though a member may well write it: the request asked for
the word alone, and the strict rule exists so that an answer needs no judgement at all. A
statement around the word is where judgement begins ("I vote for the amendment", "I agree" —
with the motion, or with the reason the request gave?), so every statement goes to a
secretary, who sees the new words beside the old ones and rules in a moment.

Yes and no count where the language data lists them as votes (English "yes" is FOR, German
"ja" is FOR), exactly as the normal reader counts them. This rule only narrows the normal
reader: `core.reply.read_reply(..., strict_answer=True)` counts an answer only when the normal
reading is the same vote.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from steervote.core.reading.languages.lexicon import Language, languages, normalize, vote_phrases
from steervote.core.reading.vote.account import CLAUSE_BREAK, capitalised, courtesy_only
from steervote.core.reading.vote.classify import sentences
from steervote.core.vote import Vote

__all__ = ["Answer", "option_words", "read_answer"]

# Marks a member may put around the word: full stops, exclamation marks, quotation marks,
# Markdown emphasis. Not "?" (a question), "~" (Markdown strikes a word through with it),
# brackets (an aside) or "…" (a word trailing off).
_AROUND = " \t.!。！．¡\"'«»‹›„“”‘’‚「」『』*_"
# What CLAUSE_BREAK splits on, left at the edge of a clause.
_CLAUSE_MARKS = ",;:،，；：、-–— \t"
_QUESTION_MARKS = ("?", "？", "؟", "¿")
_SENTENCE_ENDS = (".", "!", "?", "。", "！", "？", "؟")
# The sentence of the word holds little else ("Hi Jon, for, thanks"): in a longer one, a yes or
# a no may be an interjection ("No, thanks, friends, no rush"), as the normal reader knows.
_WORD_SENTENCE = 5
# Signature lines are short: a name, a title, an organisation.
_SIGNATURE_WORDS = 4
# The longest entry looked for inside a line, in words.
_LONGEST = 8
# Control characters, private use, unassigned code points, lone surrogates.
_NOT_TEXT = frozenset({"Cc", "Co", "Cn", "Cs"})
# A text longer than this is not one word and courtesy; it is not read further.
_LIMIT = 600
# The `[cues]` lists that qualify a vote (all but courtesy).
_CUE_KINDS = (
    "negators",
    "conditions",
    "hedges",
    "questions",
    "acknowledgements",
    "future",
    "changes",
)


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to a request for one word, read by the strict rule."""

    vote: Vote | None  # the option named, when the own text is that word alone
    word: str  # the option word as the member wrote it ("Contre"), or ""
    problem: str  # "" when the answer counts; else what is more than the word, quoted


def read_answer(own: str, *, names: Iterable[str] = ()) -> Answer:
    """Read the member's own text (`Reading.own_text`) as an answer to a request for one word.

    `names` are the words of the member's display name (a sign-off may be the name alone).
    Returns the option named, with the word as written, when the text is exactly one option
    word plus courtesy; otherwise `vote` is None, `word` is "" and `problem` says in one line
    what is more than the word, quoting the first sentence that is. Pure; never raises.
    """
    if not own.strip():
        return Answer(None, "", "the reply has no text of its own")
    if len(own) > _LIMIT:
        return Answer(None, "", f"the reply's own text is {len(own)} characters long")
    if any(unicodedata.category(ch) in _NOT_TEXT and ch not in "\n\r\t" for ch in own):
        return Answer(None, "", "the reply's own text holds characters that are not text")
    member = frozenset(w for w in (normalize(n) for n in names) if w)
    found: list[tuple[Vote, str, str]] = []  # (vote, word as written, its sentence)
    for text in sentences(own):
        if any(mark in text for mark in _QUESTION_MARKS):
            return Answer(None, "", f'"{_excerpt(text)}" is a question')
        if _courtesy(normalize(text), member, text):
            continue
        words, other = _clauses(text, member)
        if other and not (found and not words and _is_signature(text, member)):
            return Answer(None, "", f'"{_excerpt(text)}"')
        if words and (len(text.split()) > _WORD_SENTENCE or _qualified(text)):
            return Answer(None, "", f'"{_excerpt(text)}"')
        for vote, word in words:
            if found:
                return Answer(None, "", f'"{_excerpt(text)}" is a second option word')
            found.append((vote, word, text))
    if not found:
        return Answer(None, "", "the reply's own text holds no option word")
    vote, word, _ = found[0]
    return Answer(vote, word, "")


def _clauses(text: str, member: frozenset[str]) -> tuple[list[tuple[Vote, str]], bool]:
    """The option words among the sentence's clauses, and whether any clause is neither an
    option word nor courtesy."""
    words: list[tuple[Vote, str]] = []
    other = False
    for raw in CLAUSE_BREAK.split(text):
        clause = normalize(raw)
        if not clause:
            # Nothing to read, but a mark may still say something (the ")" of "For :)").
            other = other or bool(raw.strip(_AROUND + _CLAUSE_MARKS))
            continue
        option = _option(raw)
        if option is not None:
            words.append(option)
        elif not _courtesy(clause, member, raw):
            other = True
    return words, other


def _qualified(text: str) -> bool:
    """Does a clause beside the word hold a qualifier of some language, even inside courtesy?
    The normal reader weighs qualifiers over the vote's whole sentence: "Guten Morgen,
    dafür" holds "morgen" (tomorrow), a vote stated for later."""
    for raw in CLAUSE_BREAK.split(text):
        plain = normalize(raw)
        if not plain or _option(raw) is not None:
            continue
        if any(cue in plain for cue in _unspaced_cues()):
            return True
        if _holds_entry(plain, entries=_cues()):
            return True
    return False


def _courtesy(clause: str, member: frozenset[str], raw: str) -> bool:
    """Courtesy as the accounted-for rule knows it, but never a vote in some language (Danish
    "tak", thanks, is Polish "tak", yes), and a capitalised word beside a greeting is taken for
    a name only if it is no entry of any language, nor part of one with its neighbours
    ("Thanks Maybe"; "Ma Abtin, a chairde" is Romanian "I abstain")."""
    if clause in vote_phrases():
        return False
    guests = capitalised(raw) - _single_words()
    if _holds_entry(clause, among=guests):
        return False
    return courtesy_only(clause, member, guests)


def _holds_entry(
    plain: str,
    *,
    among: frozenset[str] | None = None,
    skip: frozenset[str] = frozenset(),
    entries: frozenset[str] | None = None,
) -> bool:
    """Do consecutive words of the normalised text (all of them `among`, if given) make an
    entry of some language: a vote, a yes or no, a qualifier (or one of `entries`, if given)?
    A single word in `skip` (the member's own name) does not count."""
    known = _entries() if entries is None else entries
    words = plain.split()
    for size in range(1, min(len(words), _LONGEST) + 1):
        for start in range(len(words) - size + 1):
            gram = words[start : start + size]
            if size == 1 and gram[0] in skip:
                continue
            if " ".join(gram) in known and (among is None or among.issuperset(gram)):
                return True
    return False


def _option(raw: str) -> tuple[Vote, str] | None:
    """The option this clause names, with the word as written, if it is an option word alone
    (emphasis around it allowed, no other punctuation in it but a "'" or "-" inside a word)."""
    word = raw.strip(_AROUND)
    for index, ch in enumerate(word):
        if unicodedata.category(ch)[0] == "P" and not (
            ch in "'’-" and 0 < index < len(word) - 1 and word[index - 1].isalpha()
        ):
            return None
    vote = option_words().get(normalize(word))
    return None if vote is None else (vote, word)


def _is_signature(text: str, member: frozenset[str]) -> bool:
    """A line of a signature after the word: at most four words, each capitalised (or in a
    script without capitals), no sentence end, and no vote, yes, no or qualifier of any
    language in it ("Not Sure", "SUBJECT TO", "반대표를 던집니다"), unless it is the member's
    own name ("Ana Da Silva")."""
    words = text.split()
    if not words or len(words) > _SIGNATURE_WORDS or text.rstrip().endswith(_SENTENCE_ENDS):
        return False
    if not all(any(c.isalpha() for c in w) for w in words):
        return False  # every word of a name holds a letter
    if not all(w[:1].isupper() or not w[:1].isalpha() or _uncased(w) for w in words):
        return False
    plain = normalize(text)
    if any(entry in plain for entry in _unspaced_entries()):
        return False
    return not _holds_entry(plain, skip=member)


def _uncased(word: str) -> bool:
    """A short word of a script without capitals (王伟, サム): it may be a name."""
    return not (word[:1].islower() or word[:1].isupper()) and len(word) <= 5


def _cues_of(language: Language) -> set[str]:
    return {cue for kind in _CUE_KINDS for cue in getattr(language, kind)}


def _entries_of(language: Language) -> set[str]:
    votes = {p for ps in language.votes.values() for p in ps}
    return set(language.answers) | votes | _cues_of(language)


@functools.cache
def _cues() -> frozenset[str]:
    """Every qualifier of every language written with spaces (normalised)."""
    return frozenset(
        c for lang in languages().values() if lang.word_boundaries for c in _cues_of(lang)
    )


@functools.cache
def _unspaced_cues() -> tuple[str, ...]:
    """The qualifiers of the languages written without spaces, found inside words."""
    found = (_cues_of(lang) for lang in languages().values() if not lang.word_boundaries)
    return tuple(sorted(set().union(*found)))


@functools.cache
def _entries() -> frozenset[str]:
    """Every vote entry, yes, no and qualifier of every language (normalised)."""
    return frozenset(e for language in languages().values() for e in _entries_of(language))


@functools.cache
def _single_words() -> frozenset[str]:
    """The entries of one word."""
    return frozenset(e for e in _entries() if " " not in e)


@functools.cache
def _unspaced_entries() -> tuple[str, ...]:
    """The entries of the languages written without spaces, found inside words."""
    found = (_entries_of(lang) for lang in languages().values() if not lang.word_boundaries)
    return tuple(sorted(set().union(*found)))


@functools.cache
def option_words() -> Mapping[str, Vote]:
    """Every language's option words (normalised, see the module docstring) -> the option.

    Loaded once from the language data (functools.cache)."""
    courtesy = {c for language in languages().values() for c in language.courtesy}
    named: dict[str, Vote] = {}
    for language in languages().values():
        for vote, phrase in _options_of(language):
            meanings = {v for _, v in vote_phrases().get(phrase, frozenset())}
            if meanings == {vote} and phrase not in courtesy and any(c.isalpha() for c in phrase):
                named[phrase] = vote
    return MappingProxyType(named)


def _options_of(language: Language) -> list[tuple[Vote, str]]:
    """The language's option words: its `[votes]` entries that are names, not statements."""
    names = [(vote, p) for vote, phrases in language.votes.items() for p in sorted(phrases)]
    votes = {p for _, p in names}
    entries = votes | language.answers
    # What stands right before a name inside a longer entry, and right after one. Only votes
    # are weighed: the answers of some languages hold each other (Chinese "不是", "not" + "is").
    before: set[str] = set()
    after: set[str] = set()
    for entry in votes:
        for inner in votes:
            if _holds(language, entry, inner):
                start = entry.find(inner)
                head, tail = entry[:start].strip(), entry[start + len(inner) :].strip()
                if language.word_boundaries:
                    before.update(head.split()[-1:])
                    after.update(tail.split()[:1])
                else:
                    before.update([head] if head else [])
                    after.update([tail] if tail else [])
    options: list[tuple[Vote, str]] = []
    for vote, phrase in names:
        if any(_holds(language, phrase, inner) for inner in entries):
            continue  # a statement built around a name
        if language.word_boundaries:
            words = phrase.split()
            if len(words) > 2 or (len(words) == 2 and (words[0] in before or words[1] in after)):
                continue
        elif any(piece in phrase for piece in before | after):
            continue
        options.append((vote, phrase))
    return options


def _holds(language: Language, entry: str, inner: str) -> bool:
    """Does `entry` hold the different, shorter entry `inner` (as words where words count)?"""
    if inner == entry:
        return False
    return language.contains(entry, inner) if language.word_boundaries else inner in entry


def _excerpt(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= 200 else text[:197] + "..."
