"""Text read from mail as the store and a terminal can take it: valid Unicode, no NUL.

Python's codecs can make text that is not Unicode at all: UTF-7 (`+2AA-`), UTF-16 and
the escape codecs decode to lone surrogates (U+D800 to U+DFFF), which no UTF-8 encoder
(SQLite, PostgreSQL, a terminal) accepts. PostgreSQL refuses NUL, and NUL would split
one key into two. Each becomes U+FFFD REPLACEMENT CHARACTER, as Unicode's own decoders
do with what they cannot read (Unicode 15, section 3.9).
"""

from __future__ import annotations

import re

_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """The text with every NUL and lone surrogate replaced by U+FFFD; unchanged otherwise."""
    if text.isascii():
        return text.replace("\x00", "\ufffd") if "\x00" in text else text
    return _NOT_STORABLE.sub("\ufffd", text)


def valid_unicode(text: str) -> str:
    """The text with every lone surrogate replaced by U+FFFD (NUL is kept)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
