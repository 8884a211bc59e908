"""Slugs: the lowercase ASCII ids of motions, committees and members."""

from __future__ import annotations

import re
import unicodedata

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# Letters that Unicode does not decompose into an ASCII base letter plus accents.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "µ": "mu",  # the micro sign, a Latin-1 letter that decomposes to Greek mu
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ł": "l",
        "Ł": "l",
        "ı": "i",
        "ħ": "h",
        "Ħ": "h",
    }
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# An apostrophe joins a name rather than splitting it: "O'Brien" -> "obrien".
_APOSTROPHES = re.compile("['\u2019\u02bc`]")


def is_slug(text: str) -> bool:
    """True if the text is a slug: lowercase ASCII letters and digits, single hyphens between."""
    return SLUG_RE.fullmatch(text) is not None


def slugify(name: str) -> str:
    """The slug of a name ("Cécile Wright" -> "cecile-wright"); "" if nothing ASCII is left."""
    text = _APOSTROPHES.sub("", name)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
        text = decomposed.encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", text.lower()).strip("-")
