"""Read a vote from the member's own words, or say why a secretary must read it.

Strict about what counts: a vote is read only from a clear statement. Negation ("I can't
support it"), conditions ("yes, provided ..."), hedges ("leaning towards yes"), questions,
two different votes, votes about something else, proxies, sarcasm markers a rule can see
(eye-roll emoji, "oh yes, another ...", "because what this group really needs is ..."):
all go to review. Within one message the final stated intent counts only where it is
explicit: a hypothetical ("I'd say no, but put me down as an abstention") or a stated change
("please change my vote to AGAINST").
"""

from __future__ import annotations

import dataclasses
import functools
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from steervote.core.reading.languages import votewords as w
from steervote.core.reading.languages.lexicon import as_written, find_entries
from steervote.core.reading.languages.lexicon import normalize as plain
from steervote.core.reading.vote import cues
from steervote.core.vote import Vote

MAX_TEXT = 10_000  # more new text than this is an essay: a secretary reads it


@dataclass(frozen=True, slots=True)
class Verdict:
    """A vote, or none with the reason; `signal` says the text held something to weigh.

    `changed`: the vote is the final stated intent after an explicit change of vote ("For.
    Actually, please change my vote to against."): the options named before it are
    superseded, and only those."""

    vote: Vote | None
    evidence: str
    reason: str
    signal: bool
    changed: bool = False


NOTHING = Verdict(None, "", "no vote found", False)


@dataclass(slots=True)
class _Mention:
    vote: Vote
    order: tuple[int, int, int]
    sentence: str
    negated: bool = False
    hedged: bool = False
    committed: bool = False
    question: bool = False
    conditional: bool = False
    elsewhere: bool = False  # "+1 to Anita", "yes to the amended version"

    @property
    def firm(self) -> bool:
        return not (
            self.negated or self.hedged or self.question or self.conditional or self.elsewhere
        )


_TRANSLATE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
        "“": ' " ',
        "”": ' " ',
        "„": ' " ',
        "–": "-",
        "—": "-",
        "−": "-",
        "\xa0": " ",
        "\u200b": "",
        "\x00": "",
        "\t": " ",
        # Opening marks get a space after them, so every word is preceded by a space.
        "(": " ( ",
        "[": " [ ",
        "{": " { ",
        '"': ' " ',
        "*": " ",
        "_": " ",
        "<": " < ",
    }
)
_TOKEN = re.compile(r"[+-]1(?!\d)|[\w']+(?:-[\w']+)*")
# Clause separators: punctuation, a spaced dash or slash, and "but" in each language.
_CLAUSE_MARKS = str.maketrans(dict.fromkeys(',;:()[]{}"<>', "\x00"))
_CLAUSE_WORDS = tuple(
    f" {word} "
    for word in sorted(w.words("but aber mais pero maar ma mas though although however"))
)
_SPACED_DASH = re.compile(r" -+(?= |$)| / ")
# Western marks end a sentence before a space; CJK full stops need none ("反对。会上见。").
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)|[。！？]+")
_WORD_CHARACTER = re.compile(r"[^\W_]")
_OR_SPLIT = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case, straight quotes and dashes, single spaces; invisible format characters
    (zero-width spaces and joiners, word joiners, direction marks) removed, as the language
    data's `normalize` removes them: "Sí\u200dno" is one word to both readers."""
    if not text.isascii():
        text = _FORMAT.sub("", text)
    return " ".join(text.translate(_TRANSLATE).lower().split())


_FORMAT = re.compile(
    r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def classify(
    text: str, *, topic_words: Iterable[str] = (), neutral_phrases: Iterable[str] = ()
) -> Verdict:
    """Read the vote in `text` (the member's own words, or what is left of a Subject)."""
    return _classify(text, frozenset(topic_words), tuple(neutral_phrases))


@functools.lru_cache(maxsize=4096)
def _classify(text: str, topic_words: frozenset[str], neutral_phrases: tuple[str, ...]) -> Verdict:
    # Replies repeat ("For.", "Against", "I abstain."): each text is read once per run.
    if len(text) > MAX_TEXT:
        return Verdict(None, "", f"long reply ({len(text)} characters): read it", True)
    found = sentences(text)
    if not found:
        return NOTHING
    if _WORD_CHARACTER.search(text) is None:
        return Verdict(None, text.strip()[:200], "only emoji or symbols, no vote words", True)
    emoji = next((s for s in found if cues.SARCASM_EMOJI.search(s)), None)
    if emoji is not None:
        return _review("sarcasm marker (emoji)", emoji)
    phrases = [normalize(p) for p in neutral_phrases if p.strip()]
    normalized = [_prepare(s, phrases) for s in found]
    for label, pattern in cues.BLOCKERS:
        for original, prepared in zip(found, normalized, strict=True):
            if pattern.search(prepared):
                return _review(label, original)
    topics = w.MOTION_WORDS | {t for t in topic_words if len(t) > 3}
    mentions: list[_Mention] = []
    for index, (original, prepared) in enumerate(zip(found, normalized, strict=True)):
        mentions.extend(_mentions(index, original, prepared, topics))
    verdict = _decide(found, normalized, mentions)
    if verdict.vote is None:
        return verdict  # a reason to ask, or nothing: `account` weighs the rest
    named = {} if verdict.changed else _options_alone(text)  # `account` weighs a change
    if len(named) > 1:
        # "For against", "Against.\nFOR FOR FOR": the older reader saw one of the two.
        shown = " / ".join(dict.fromkeys(clause for _, clause in named.values()))
        return Verdict(None, _excerpt(shown), two_options(named), True)
    if "\n" in text:
        line = line_of(
            verdict.evidence, text, lambda t: _classify(t, topic_words, neutral_phrases).vote
        )
        if line:
            return dataclasses.replace(verdict, evidence=line)
    return verdict


# Where a clause ends inside a sentence: a comma, a colon, a semicolon, a spaced dash.
_OPTION_CLAUSE = re.compile(r"[,;:،，；：、]+|\s[-–—/]+\s")


def _options_alone(text: str) -> dict[str, tuple[str, str]]:
    """The options named by clauses made of nothing but option words of any language ("For
    against", "Yes no", "FOR FOR FOR", "賛成 反対"): option -> (the word as written, its clause).

    Such a clause is no sentence in any language, so each of its words is an option whatever
    language it belongs to; the accounted-for rule (`account`) weighs option words in
    sentences."""
    named: dict[str, tuple[str, str]] = {}
    lines = re.split(r"[\n\r\u2028\u2029]+", text)
    clauses = [c for line in lines for s in pieces(line) for c in _OPTION_CLAUSE.split(s)]
    for raw in clauses:
        clause = plain(raw)
        if not clause:
            continue
        entries = find_entries(clause)
        if sum(f.end - f.start for f in entries) != len(clause.split()):
            continue
        if not all(f.whole and f.options for f in entries):
            continue
        for entry in entries:
            for option in sorted({option for _, option in entry.options}):
                named.setdefault(option, (as_written(raw, entry.phrase), " ".join(raw.split())))
    return named


def two_options(named: Mapping[str, tuple[str, str]]) -> str:
    """The reason for a reply that names two different options (or more), each with the
    member's word for it."""
    shown = [f'{option} ("{_excerpt(word)}")' for option, (word, _) in sorted(named.items())]
    return "names two different options: " + " and ".join(shown)


def line_of(evidence: str, text: str, read: Callable[[str], Vote | None]) -> str:
    """The one line of `text` inside the evidence sentence that alone reads as the same vote,
    when the sentence was joined from several lines ("" when it was not, or none does): the
    evidence of a counted vote is the words that decided it, not the lines around them."""
    sentence = " ".join(evidence.removesuffix("...").split())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    if not sentence or any(sentence in line for line in lines if line):
        return ""
    cut = evidence.endswith("...")
    inside = [line for line in lines if line and line != sentence and (cut or line in sentence)]
    if not any(len(line) < _PROSE_LINE for line in inside[:-1]):
        return ""  # prose wrapped at the end of long lines: the sentence is the vote's
    wanted = None if cut else read(evidence)
    for line in reversed(inside):
        vote = read(line)
        if vote is not None and (wanted is None or vote == wanted):
            return _excerpt(line)
    return ""


_PROSE_LINE = 40  # a shorter line is not prose wrapped at its end (as `_continues` reads it)


def _review(label: str, sentence: str) -> Verdict:
    excerpt = _excerpt(sentence)
    return Verdict(None, excerpt, f'{label}: "{excerpt}"', True)


def _excerpt(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= 200 else text[:197] + "..."


def _prepare(sentence: str, phrases: list[str]) -> str:
    text = " " + normalize(sentence)
    for phrase in phrases:
        if phrase in text:
            text = text.replace(phrase, " the motion ")
    if " n" in text:
        text = w.NUMBER_ABBREVIATION.sub(" number ", text)
        text = w.NEUTRAL.sub(" ok", text)
    return cues.COURTESY.sub(" ", text) if "if" in text else text


def _clauses(prepared: str) -> list[str]:
    """The clauses of a prepared sentence, each trimmed and starting with one space."""
    text = prepared.translate(_CLAUSE_MARKS)
    if "-" in text or " / " in text:
        text = _SPACED_DASH.sub("\x00", text)
    text = text.replace(". ", "\x00")
    for word in _CLAUSE_WORDS:
        if word in text:
            text = text.replace(word, "\x00")
    return [" " + _trim(part) for part in text.split("\x00")]


def sentences(text: str) -> list[str]:
    """Sentences of the text: paragraphs, lines that are not wrapped prose, then punctuation."""
    units: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        current = ""
        for line in paragraph.split("\n"):
            line = line.strip()
            if not line:
                continue
            if current and _continues(current, line):
                current = f"{current} {line}"
            else:
                if current:
                    units.append(current)
                current = line
        if current:
            units.append(current)
    sentences: list[str] = []
    for unit in units:
        sentences.extend(_split_sentences(unit))
    return [s for s in sentences if s.strip()]


def _continues(previous: str, line: str) -> bool:
    """Is `line` the hard-wrapped continuation of `previous` (not a new short line)?"""
    if previous.endswith((".", "!", "?", ":")):
        return False
    return line[:1].islower() or len(previous) >= 40


def pieces(line: str) -> list[str]:
    """The sentences of one line (or of one paragraph already joined), as `sentences` cuts
    them."""
    return [s for s in _split_sentences(line) if s.strip()]


def _split_sentences(unit: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(unit):
        before = unit[start : match.start()].rsplit(None, 1)
        word = before[-1].lower().strip("(\"'") if before else ""
        if match.group() == "." and word in w.ABBREVIATIONS:
            if word not in ("no", "nr"):
                continue
            if re.match(r"\s*(?:[A-Z]{1,3} ?)?\d", unit[match.end() :]):
                continue
        out.append(unit[start : match.end()].strip())
        start = match.end()
    if unit[start:].strip():
        out.append(unit[start:].strip())
    return out


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"')]*_~").endswith("?")


def _mentions(index: int, original: str, prepared: str, topics: frozenset[str]) -> list[_Mention]:
    question = _is_question(original)
    hedged_sentence = w.HEDGE_GATE.search(prepared) is not None and bool(
        w.HEDGE_PHRASES.search(prepared)
    )
    conditional = (
        any(t in prepared for t in ("if", "wenn", "falls", "si ", "se "))
        and cues.CONDITION_IN_SENTENCE.search(prepared) is not None
    )
    sentence_words = _TOKEN.findall(prepared)
    bare_answer_only = len(sentence_words) > 5 and not (w.VOTE_CONTEXT & set(sentence_words))
    found: list[_Mention] = []
    for c_index, clause in enumerate(_clauses(prepared)):
        if clause == " ":
            continue
        words = _Words(clause)
        present = set(words.tokens)
        present.update(part for t in words.tokens if "-" in t for part in t.split("-"))
        spans: list[tuple[int, int, Vote, bool]] = []
        tail = words.tokens[-5:]
        for vote, bare, cued in w.SHORT_VOTES:
            if w.SHORT_TRIGGERS[vote].intersection(tail):
                whole = bare.fullmatch(clause)
                if whole is not None:
                    spans.append((0, whole.end(), vote, True))
                spans.extend((m.start(), m.end(), vote, False) for m in cued.finditer(clause))
        for vote, pattern in w.ANYWHERE_VOTES:
            if w.ANYWHERE_TRIGGERS[vote] & present:
                spans.extend((m.start(), m.end(), vote, False) for m in pattern.finditer(clause))
        if any(_is_negator(t) for t in present):
            for vote, pattern in w.LOOSE_VOTES:
                for m in pattern.finditer(clause):
                    if words.negated(m.start(), m.end()) and not _overlaps(spans, m.start()):
                        spans.append((m.start(), m.end(), vote, False))
        if not spans:
            continue
        committed = bool(w.COMMITMENT_TRIGGERS & present) and w.COMMITTED.search(clause) is not None
        for start, end, vote, whole_clause in sorted(spans, key=lambda s: s[0]):
            mention = _Mention(
                vote=vote,
                order=(index, c_index, start),
                sentence=original,
                negated=words.negated(start, end),
                hedged=hedged_sentence
                or words.hedged(start, end)
                or (bare_answer_only and clause[start:end].strip() in w.INTERJECTIONS),
                committed=whole_clause or committed,
                question=question,
                conditional=conditional,
                elsewhere=words.elsewhere(end, topics),
            )
            _merge(found, mention)
    return found


class _Words:
    """The words of one clause with their positions, to look around a vote word cheaply."""

    def __init__(self, clause: str) -> None:
        self.clause = clause
        self.tokens: list[str] = _TOKEN.findall(clause)
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        # Positions are needed only around a vote word, so most clauses never compute them.
        if self._starts is None:
            self._starts = [m.start() for m in _TOKEN.finditer(self.clause)]
        return self._starts

    def around(self, start: int, end: int) -> tuple[list[str], list[str], list[str]]:
        starts = self.starts
        first = bisect_left(starts, start)
        after = bisect_left(starts, end)
        return self.tokens[max(0, first - 4) : first], self.tokens[first:after], self.tokens[after:]

    def negated(self, start: int, end: int) -> bool:
        before, inside, _ = self.around(start, end)
        return any(_is_negator(t) for t in before + inside[1:-1])

    def hedged(self, start: int, end: int) -> bool:
        before, inside, after = self.around(start, end)
        return any(t in w.HEDGES or t.endswith("'d") for t in before + inside + after[:2])

    def elsewhere(self, end: int, topics: frozenset[str]) -> bool:
        """A vote word aimed at something named after it: "+1 to Anita", "in favour of X"."""
        after = self.tokens[bisect_left(self.starts, end) :][:5]
        if not after or after[0] not in ("of", "to", "with", "van", "met", "mit", "avec", "con"):
            return False
        return not any(t in topics for t in after[1:])


def _trim(clause: str) -> str:
    text = clause.strip()
    while text and not (text[-1].isalnum() or text[-1] == "'"):
        text = text[:-1].rstrip()
    while text and not (text[0].isalnum() or text[0] in "'" or text[:2] in ("+1", "-1")):
        text = text[1:].lstrip()
    return text


def _overlaps(spans: list[tuple[int, int, Vote, bool]], position: int) -> bool:
    return any(start <= position < end for start, end, _, _ in spans)


def _merge(found: list[_Mention], mention: _Mention) -> None:
    for other in found:
        if other.vote == mention.vote and other.order[:2] == mention.order[:2]:
            other.negated = other.negated or mention.negated
            other.hedged = other.hedged or mention.hedged
            other.committed = other.committed or mention.committed
            other.elsewhere = other.elsewhere or mention.elsewhere
            return
    found.append(mention)


def _is_negator(token: str) -> bool:
    return token in w.NEGATORS or token.endswith("n't")


def _decide(sentences: list[str], normalized: list[str], mentions: list[_Mention]) -> Verdict:
    for problem, label in (
        ("conditional", "conditional"),
        ("elsewhere", "a vote aimed at someone or something else"),
        ("question", "a vote word inside a question"),
    ):
        hit = next((m for m in mentions if getattr(m, problem)), None)
        if hit is not None:
            return _review(label, hit.sentence)
    for index, prepared in enumerate(normalized):
        votes = {m.vote for m in mentions if m.order[0] == index and not m.negated}
        if len(votes) > 1 and set(_OR_SPLIT.split(prepared)) & w.OR_WORDS:
            return _review("two alternatives offered", sentences[index])
    firm = [m for m in mentions if m.firm]
    questions = [s for s in sentences if _is_question(s)]
    if not firm:
        if mentions:
            first = mentions[0]
            label = "negated" if first.negated else "hedged, not a committed vote"
            return _review(label, first.sentence)
        if questions:
            return _review("a question, no vote", questions[0])
        return NOTHING
    for question in questions:
        if set(_TOKEN.findall(normalize(question))) & cues.QUESTION_TOPICS:
            return _review("asks about the motion", question)
    last = firm[-1]
    if len({m.vote for m in firm}) > 1 and not _changed_to(last, normalized, firm):
        other = next(m for m in firm if m.vote != last.vote)
        return Verdict(
            None,
            _excerpt(last.sentence),
            f'mixed votes: {other.vote} ("{_excerpt(other.sentence)}") and {last.vote} '
            f'("{_excerpt(last.sentence)}")',
            True,
        )
    for m in mentions:
        if m.vote == last.vote and m.negated:
            return _review(f"says {last.vote} and also not {last.vote}", m.sentence)
        if m.vote != last.vote and m.hedged and (m.order > last.order or not last.committed):
            return _review(f"mixed: a hedged {m.vote} and {last.vote}", m.sentence)
    changed = len({m.vote for m in firm}) > 1
    reason = f"reads as {last.vote}" + (" (the final stated intent)" if changed else "")
    return Verdict(last.vote, _excerpt(last.sentence), reason, True, changed=changed)


def _changed_to(last: _Mention, normalized: list[str], firm: list[_Mention]) -> bool:
    """An explicit change of vote before a committed final vote ("change my vote to ...")."""
    if not last.committed:
        return False
    first_other = next(m for m in firm if m.vote != last.vote)
    for index in range(first_other.order[0], last.order[0] + 1):
        if w.CHANGE_MARKERS.search(normalized[index]):
            return all(m.order < last.order for m in firm if m.vote != last.vote)
    return False
