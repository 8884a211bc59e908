"""The member's own new text: quotes, attributions, forwarded blocks, signatures, footers removed.

How mail clients quote, in brief. Most prefix quoted lines with ">" (Gmail, Apple, Thunderbird,
mutt, K-9): those lines are dropped, and text *below* them is still the member's (bottom-posting,
inline replies). Outlook and many mobile clients quote without a prefix, below an attribution
line ("On ... wrote:" in many languages), a header block ("From:/Sent:/To:/Subject:" and its
translations), a rule of underscores or an "-----Original Message-----" line: everything after
those is the earlier message. Signatures ("-- ", a sign-off such as "Regards"), mobile footers
("Sent from my iPhone") and disclaimers are not part of what the member said.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from steervote.core.reading.languages.lexicon import normalize, phrase_pattern, vote_phrases
from steervote.core.reading.languages.votewords import words
from steervote.core.reading.quotes import shapes
from steervote.core.reading.quotes.known import INSTRUCTIONS, KnownText
from steervote.core.reading.vote.account import capitalised, courtesy_only

_SEPARATOR_WORDS = re.compile(
    r"original|forward|weitergeleitet|urspr[üu]ngliche|d'origine|transf[ée]r|r[ée]exp[ée]di|"
    r"reenviado|oorspronkelijk|doorgestuurd|messaggio|inoltrato|mensagem|encaminhad|mensaje|"
    r"nachricht|bericht|message|vidarebefordrat|videresendt|oprindelig|wiadomo"
)
_SEPARATOR_STARTS = (
    "begin forwarded message",
    "forwarded message",
    "anfang der weitergeleiteten",
    "début du message",
    "debut du message",
    "inicio del mensaje",
    "begin doorgestuurd",
    "inizio messaggio",
    "início da mensagem",
    "inicio da mensagem",
)
_FROM_KEYS = words(
    "from von de van da från fra od от lähettäjä feladó kimden afzender remitente expéditeur "
    "mittente"
)
_OTHER_KEYS = words(
    "sent date to subject cc bcc gesendet datum an betreff envoyé à objet enviado para asunto "
    "fecha verzonden aan onderwerp inviato data oggetto enviada assunto skickat till ämne sendt "
    "til emne kopie a cc: reply-to temat do wysłano envoyé le"
) | {"envoyé le", "enviado el", "sent by", "gesendet am", "enviado em", "reply to"}
_ATTRIBUTION_VERB = re.compile(
    r"(?<!\w)(?:wrote|writes|schrieb|a [ée]crit|escribi[óo]|schreef|het volgende geschreven|"
    r"ha scritto|escreveu|skrev|napisa[łl]a?|napsal|kirjoitti|написала?|yazdı|έγραψε|írta|"
    r"scrisse)(?!\w)"
)
_ATTRIBUTION_LEAD = (
    "on ",
    "am ",
    "le ",
    "el ",
    "op ",
    "il ",
    "em ",
    "in data ",
    "den ",
    "på ",
    "w dniu ",
    "dne ",
    "> on ",
)
_NOTES_ATTRIBUTION = re.compile(
    r"(?<!\w)(?:wrote|schrieb|a [ée]crit|escribi[óo]|schreef|ha scritto|escreveu)"
    r" (?:on|am|le|el|op|il|em) \d"
)
_FOOTER_STARTS = (
    "sent from my ",
    "sent from outlook",
    "sent from mail for",
    "sent from yahoo",
    "sent from samsung",
    "sent from the ",
    "sent via ",
    "sent with ",
    "sent using ",
    "get outlook for",
    "von meinem ",
    "gesendet von ",
    "gesendet mit ",
    "envoyé de mon",
    "envoyé depuis",
    "envoye de mon",
    "enviado desde mi",
    "enviado desde ",
    "enviado do meu",
    "enviado de meu",
    "enviado do ",
    "verstuurd vanaf mijn",
    "verzonden vanaf mijn",
    "verzonden met ",
    "inviato da ",
    "inviato dal mio",
    "skickat från",
    "sendt fra min",
    "wysłane z ",
)
_DISCLAIMER_STARTS = (
    "this e-mail",
    "this email",
    "this message",
    "this communication",
    "the information contained",
    "the information in this",
    "confidentiality notice",
    "confidential:",
    "disclaimer",
    "privileged and confidential",
    "please consider the environment",
    "please think before you print",
    "if you are not the intended",
    "if you have received this",
    "registered in england",
    "registered office",
    "diese e-mail",
    "diese nachricht",
    "ce message",
    "ce courriel",
    "este mensaje",
    "este correo",
    "dit bericht",
    "deze e-mail",
    "questo messaggio",
    "esta mensagem",
    "este e-mail",
)
_BANNER_STARTS = (
    "caution:",
    "caution -",
    "[external]",
    "external email",
    "external:",
    "warning: this email",
    "this email originated",
    "this message originated",
)
_SIGNOFFS = (
    "regards|kind regards|best regards|warm regards|warmest regards|many thanks|thanks|thank you|"
    "thanks again|thanks all|cheers|best|best wishes|all the best|yours|yours sincerely|"
    "sincerely|yours faithfully|with thanks|love|take care|rgds|br|mfg|lg|"
    "viele grüße|viele grüsse|beste grüße|beste grüsse|liebe grüße|liebe grüsse|grüße|grüsse|gruß|"
    "mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|freundliche grüsse|"
    "cordialement|bien cordialement|bien à vous|bien à toi|amitiés|salutations|merci|"
    "saludos|un saludo|saludos cordiales|atentamente|un abrazo|gracias|"
    "met vriendelijke groet|vriendelijke groet|met vriendelijke groeten|groeten|groet|mvg|bedankt|"
    "cordiali saluti|saluti|distinti saluti|un saluto|grazie|"
    "atenciosamente|abraços|abraço|cumprimentos|obrigado|obrigada"
)
_SIGNOFF = re.compile(rf"(?:{_SIGNOFFS})[,.!]*(?:\s+[^\s,]+){{0,3}}[,.!]*")
_VOTEISH = words(
    "for yes no against abstain aye nay ja nein oui non voor tegen pour contre sí si sim"
)


def own_text(
    text: str,
    *,
    limit: int = 100_000,
    known: KnownText = INSTRUCTIONS,
    names: Sequence[str] = (),
) -> str:
    """The member's own lines of a decoded body, in order, without quoted or boilerplate text.

    `known` is the text of the ballot replied to: wherever a reply quotes it, under any quote
    prefix or none, those lines are quoted text. `names` are the words of the member's name
    (From): a line that is their name starts their signature ("Sam Tarry / Coordinator,
    Campaign Against Austerity" holds no vote).
    """
    signature_names = _name_lines(names)
    lines, quoted = _lines(text, known)
    own: list[str] = []
    size = 0
    in_signature = False
    skip_paragraph = False
    i, n = 0, len(lines)
    while i < n:
        raw = lines[i]
        line = raw.strip()
        if quoted[i]:
            in_signature = skip_paragraph = False  # text below a quote is the member's again
            i += 1
            continue
        low = line.lower()
        if not line:
            skip_paragraph = False
            own.append("")
            i += 1
            continue
        if _boundary(lines, i, line, low):
            break
        consumed, strong = _attribution(lines, i)
        if consumed:
            after = _next_nonblank(lines, i + consumed)
            if after < n and shapes.quote_prefix(lines[after]):
                i = after  # a prefixed quote follows: text below it is the member's again
                continue
            if strong:
                break  # an unprefixed quote (or nothing) follows
        if skip_paragraph:
            i += 1
            continue
        if in_signature:
            said = normalize(line)
            if (
                not low.startswith(("ps", "p.s"))
                and said not in vote_phrases()
                and not _states_a_vote(said)
            ):
                i += 1
                continue
            # A PS, or a vote written below the signature ("I vote against, ignore the
            # above"): the member's words again, never dropped as part of the signature.
            in_signature = False
        if raw.rstrip("\n") in ("-- ", "--", "—") or low.startswith(_DISCLAIMER_STARTS):
            in_signature = True
        elif (low.startswith(_FOOTER_STARTS) and len(line) < 160) or shapes.is_footer(line):
            pass
        elif low.startswith(_BANNER_STARTS):
            skip_paragraph = True
        elif (size and (_is_signoff(low) or _is_courtesy_line(line))) or (
            normalize(line) in signature_names
        ):
            in_signature = True
        else:
            own.append(line)
            size += len(line)
            if size > limit:
                break
        i += 1
    return _tidy(own)


@functools.cache
def _statements() -> re.Pattern[str]:
    """Every vote statement of two words or more ("i vote against", "ich stimme dafür"),
    in every language, as whole words."""
    return phrase_pattern(p for p in vote_phrases() if " " in p)


def _states_a_vote(said: str) -> bool:
    """Whether a normalised line holds a vote statement (not merely an option word, which
    a signature's job title may hold: "Officer for Campaigns")."""
    return _statements().search(said) is not None


def _boundary(lines: Sequence[str], i: int, line: str, low: str) -> bool:
    """Does an unprefixed quoted message start at line i (a rule, a header block, an inline
    attribution)?"""
    return (
        _is_separator(line, low)
        or shapes.separator(line)
        or _is_header_block(lines, i)
        or shapes.header_block(lines, i)
        or shapes.inline_attribution(line) >= 0
    )


def nearest_quote(text: str, *, known: KnownText = INSTRUCTIONS, limit: int = 40) -> str:
    """The words of the message quoted right below the member's text, unless it is the ballot.

    "" when the nearest quoted message is the ballot itself (or nothing is quoted). Used to
    see that a bare "Yes" answers a question quoted above the ballot, not the ballot.
    """
    lines, quoted = _lines(text, known)
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if quoted[i]
            or (line.strip() and _boundary(lines, i, line.strip(), line.strip().lower()))
            or _attribution(lines, i)[1]
        ),
        len(lines),
    )
    rest = lines[start:]
    if (
        rest
        and shapes.quote_prefix(rest[0])
        and any(line.strip() and not quoted[start + j] for j, line in enumerate(rest))
    ):
        return ""  # an inline or bottom reply: each answer stands under what it answers
    found: list[str] = []
    for line in rest[:200]:
        bare = shapes.unprefixed(line)
        if not bare:
            continue
        if known.proves(bare) or known.proves(line):
            break  # the ballot: what was collected above it is the nearest quote
        if (
            shapes.separator(bare)
            or shapes.attribution_shape(bare)
            or shapes.label_line(bare)
            or _attribution_strength(bare)
        ):
            if found:
                break  # the start of an older quoted message
            continue
        found.append(bare)
        if len(found) >= limit:
            break
    return "\n".join(found)


def unquoted_lines(text: str, *, known: KnownText = INSTRUCTIONS, limit: int = 200) -> list[str]:
    """The non-blank lines of a body that are neither quote-prefixed nor the ballot's words
    (the first `limit` lines only): what a person or a program wrote in this message."""
    lines, quoted = _lines(text, known)
    pairs = zip(lines[:limit], quoted[:limit], strict=True)
    return [line for line, q in pairs if line.strip() and not q]


def _name_lines(names: Sequence[str]) -> frozenset[str]:
    """The lines a member's signature starts with: their full name, their first name."""
    words = [normalize(n) for n in names if normalize(n)]
    if not words:
        return frozenset()
    return frozenset({" ".join(words), words[0]})


@functools.lru_cache(maxsize=4)
def _lines(text: str, known: KnownText) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The body's lines (bidi controls removed) and which are quoted; each reply's body is
    walked for its own words, its nearest quote and any machine text, so it is kept."""
    lines = shapes.without_bidi(text).split("\n")
    return tuple(lines), tuple(_quoted_lines(lines, known))


def _quoted_lines(lines: Sequence[str], known: KnownText) -> list[bool]:
    """Which lines are quoted: a quote prefix, or a run of the ballot's own words.

    A short line of ballot words ("HOW TO VOTE") is quoted only beside a line that proves it.
    """
    prefixed = [shapes.quote_prefix(line) for line in lines]
    proven = [not p and known.proves(line) for line, p in zip(lines, prefixed, strict=True)]
    quoted = [p or proof for p, proof in zip(prefixed, proven, strict=True)]
    if not any(proven):
        return quoted
    for _ in range(2):
        for i, line in enumerate(lines):
            # One word ("For.") is never taken for the ballot's: it may be the member's vote.
            if quoted[i] or len(line.split()) < 2 or not known.holds(line):
                continue
            before = _nonblank(lines, i, -1)
            after = _nonblank(lines, i, 1)
            if (before is not None and proven[before]) or (after is not None and proven[after]):
                quoted[i] = proven[i] = True
    return quoted


def _nonblank(lines: Sequence[str], i: int, step: int) -> int | None:
    j = i + step
    while 0 <= j < len(lines):
        if lines[j].strip():
            return j
        j += step
    return None


def _is_courtesy_line(line: str) -> bool:
    """A line of greetings, thanks or a sign-off in any language steervote reads."""
    return len(line) <= 60 and courtesy_only(normalize(line), guests=capitalised(line))


def _tidy(lines: Sequence[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _next_nonblank(lines: Sequence[str], start: int) -> int:
    j = start
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j


def _is_separator(line: str, low: str) -> bool:
    if len(line) >= 10 and line.strip("_") == "":
        return True
    if low.startswith(_SEPARATOR_STARTS) and len(line) < 80:
        return True
    if line.startswith("--") and line.endswith("--") and len(line) < 100:
        middle = low.strip("- ")
        return bool(middle) and _SEPARATOR_WORDS.search(middle) is not None
    return False


def _header_key(line: str) -> str:
    head, colon, _ = line.partition(":")
    if not colon or len(head) > 24:
        return ""
    return head.strip(" \t*_").lower()


def _is_header_block(lines: Sequence[str], i: int) -> bool:
    """A "From:" line followed within a few lines by two of Sent/Date/To/Subject (any language)."""
    line = lines[i].strip()
    if _header_key(line) not in _FROM_KEYS or not line.partition(":")[2].strip(" *"):
        return False
    seen = 0
    for following in lines[i + 1 : i + 9]:
        if _header_key(following.strip()) in _OTHER_KEYS:
            seen += 1
            if seen >= 2:
                return True
    return False


def _attribution(lines: Sequence[str], i: int) -> tuple[int, bool]:
    """How many lines an attribution ("On ... wrote:") starting here spans, and if it is certain."""
    text = lines[i].strip()
    for span in (1, 2, 3):
        if span > 1:
            if i + span - 1 >= len(lines):
                break
            extra = lines[i + span - 1].strip()
            if not extra or extra.startswith(">") or text.endswith((".", "!", "?")):
                break
            text = f"{text} {extra}"
        if len(text) > 400:
            break
        strength = _attribution_strength(text)
        if strength:
            return span, strength == 2
    return 0, False


def _attribution_strength(text: str) -> int:
    """2: certainly an attribution; 1: only if a quote follows; 0: not one."""
    low = text.lower()
    if not low.endswith(":"):
        return shapes.attribution_shape(text)
    if _ATTRIBUTION_VERB.search(low) is None and not shapes.attribution_verb(low):
        return shapes.attribution_shape(text)
    dated = "@" in low or any(ch.isdigit() for ch in low)
    if _NOTES_ATTRIBUTION.search(low) or (dated and low.startswith(_ATTRIBUTION_LEAD)):
        return 2
    if len(low.split()) <= 8 and (
        _ATTRIBUTION_VERB.search(low[-20:]) or shapes.attribution_verb(low[-24:])
    ):
        return 2  # "Tom Kibasi wrote:" — whatever follows is his, marked or not
    if dated and (_ATTRIBUTION_VERB.search(low[-30:]) or shapes.attribution_verb(low[-40:])):
        return 2
    return max(1, shapes.attribution_shape(text))


def _is_signoff(low: str) -> bool:
    if len(low) > 60 or _SIGNOFF.fullmatch(low) is None:
        return False
    words = {w.strip(",.!") for w in low.split()[1:]}
    return not (words & _VOTEISH)
