"""A parsed (compat32) message turned into text: headers, charsets, format=flowed, HTML parts."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from email.header import decode_header
from email.message import Message

from steervote.core.reading.quotes.htmltext import html_to_text
from steervote.core.storable import valid_unicode

# Hostile or huge mail is read only this far: a member's own words are near the top
# (or just below one quoted ballot), and every pass over the text stays linear.
MAX_TEXT_BYTES = 256 * 1024
MAX_HTML_BYTES = 256 * 1024
MAX_PARTS = 64
MAX_DEPTH = 8
MAX_HEADER = 4000


@dataclass(frozen=True, slots=True)
class Body:
    """The readable text of a message, in order, and what made it hard to read."""

    text: str
    problem: str = ""  # "" when the body was read normally
    truncated: bool = False


def raw_headers(msg: Message) -> dict[str, str]:
    """The first value of every header, by lower-cased name, as raw (undecoded) text."""
    found: dict[str, str] = {}
    try:
        for name, value in msg.raw_items():
            key = str(name).lower()
            if key not in found:
                found[key] = value if isinstance(value, str) else str(value)
    except Exception:  # a damaged header list must not stop the reading
        return found
    return found


def decode_words(raw: str) -> str:
    """Decode an RFC 2047 header value tolerantly; unknown charsets never raise."""
    text = _unescape_surrogates(raw[:MAX_HEADER])
    if "=?" in text:
        try:
            parts = decode_header(text)
        except Exception:  # malformed encoded words: keep the raw text
            parts = [(text, None)]
        pieces: list[str] = []
        for part, charset in parts:
            if isinstance(part, str):
                pieces.append(part)
            elif charset is None:
                pieces.append(part.decode("raw-unicode-escape", errors="replace"))
            else:
                pieces.append(decode_bytes(part, charset))
        text = "".join(pieces)
    return " ".join(text.split())


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset, else UTF-8, else Latin-1 (which never fails).

    A label that names one of Python's codecs that is not a text encoding (rot13,
    base64_codec, zlib_codec ...) or that turns escapes into characters (unicode_escape,
    raw_unicode_escape, punycode, idna) is read as an unknown charset: no MIME charset
    is either (IANA Character Sets). Always valid Unicode: a lone surrogate, which UTF-7
    can produce, becomes U+FFFD.
    """
    name = (charset or "").strip().lower()
    if name in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default"):
        name = "utf-8"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        info = None
    if info is None or not info._is_text_encoding or info.name in _NOT_CHARSETS:
        name = "utf-8"
    for candidate in (name, "utf-8"):
        try:
            return valid_unicode(data.decode(candidate))
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    return data.decode("latin-1")


# Python codecs that are text encodings to Python but no charset of mail: they read
# escapes (`\ud800`, `xn--`) as characters, or are not encodings at all.
_NOT_CHARSETS = frozenset(
    {
        "unicode-escape",
        "raw-unicode-escape",
        "unicode-internal",
        "punycode",
        "idna",
        "undefined",
        "charmap",
    }
)


def read_body(msg: Message) -> Body:
    """The message's readable text parts, in order (alternative: plain over HTML)."""
    reader = _Reader()
    try:
        reader.visit(msg, 0)
    except Exception as exc:  # compat32 leaves odd structures; never let them escape
        return Body("\n\n".join(reader.texts), f"unreadable MIME structure ({type(exc).__name__})")
    return Body("\n\n".join(reader.texts), reader.problem, reader.truncated)


class _Reader:
    """Walks the MIME tree once, collecting the text a member could have written."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.problem = ""
        self.truncated = False
        self.parts = 0

    def note(self, problem: str) -> None:
        if not self.problem:
            self.problem = problem

    def visit(self, part: Message, depth: int) -> None:
        self.parts += 1
        if depth > MAX_DEPTH or self.parts > MAX_PARTS:
            self.note("MIME structure too deep or too many parts")
            return
        ctype, params = content_type(part)
        maintype, _, subtype = ctype.partition("/")
        if maintype == "multipart":
            self.visit_multipart(part, subtype, depth)
        elif depth > 0 and _is_attachment(part):
            return
        elif ctype == "text/plain" or (maintype == "text" and subtype in ("", "enriched")):
            self.add(self.plain(part, params))
        elif ctype == "text/html":
            self.add(self.html(part, params))
        elif depth == 0:
            self.note(f"no readable text ({ctype})")

    def visit_multipart(self, part: Message, subtype: str, depth: int) -> None:
        payload = part.get_payload()
        if not isinstance(payload, list):
            self.note(f"malformed MIME: multipart/{subtype} without parts")
            return
        children = [c for c in payload if isinstance(c, Message)]
        if not children:
            self.note(f"malformed MIME: empty multipart/{subtype}")
            return
        if subtype == "encrypted":
            self.note("encrypted message: cannot be read")
        elif subtype == "signed":
            self.visit(children[0], depth + 1)
        elif subtype == "alternative":
            self.visit(_best_alternative(children), depth + 1)
        else:
            for child in children:
                self.visit(child, depth + 1)

    def add(self, text: str) -> None:
        if text.strip():
            self.texts.append(text)

    def payload(self, part: Message, limit: int) -> bytes:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return b""
        if len(data) > limit:
            self.truncated = True
            data = data[:limit]
        return data

    def plain(self, part: Message, params: dict[str, str]) -> str:
        data = self.payload(part, MAX_TEXT_BYTES)
        text = _newlines(decode_bytes(data, params.get("charset")))
        if params.get("format", "").lower() == "flowed":
            text = unflow(text, delsp=params.get("delsp", "").lower() == "yes")
        return text

    def html(self, part: Message, params: dict[str, str]) -> str:
        markup = decode_bytes(self.payload(part, MAX_HTML_BYTES), params.get("charset"))
        return _newlines(html_to_text(markup))


def _best_alternative(children: list[Message]) -> Message:
    """text/plain when it has words, else HTML, else a nested multipart, else the first."""
    by_type = [(content_type(c)[0], c) for c in children]
    for ctype, child in by_type:
        if ctype == "text/plain" and _has_words(child):
            return child
    for ctype, child in reversed(by_type):
        if ctype == "text/html" or ctype.startswith("multipart/"):
            return child
    return children[0]


def _has_words(part: Message) -> bool:
    data = part.get_payload(decode=True)
    return isinstance(data, bytes) and bool(data[:MAX_TEXT_BYTES].strip())


def header(part: Message, name: str) -> str:
    """One raw header of a part ("" when absent); cheaper than Message.get under compat32."""
    try:
        for key, value in part.raw_items():
            if key.lower() == name:
                return value if isinstance(value, str) else str(value)
    except Exception:  # a damaged header list reads as no header
        return ""
    return ""


def content_type(part: Message) -> tuple[str, dict[str, str]]:
    """The part's media type (lower-cased; text/plain when missing or invalid) and parameters.

    Parsed here rather than with Message.get_param, which re-parses on every call and
    dominated the cost of reading a reply.
    """
    value = header(part, "content-type")
    kind, _, rest = value.partition(";")
    ctype = "".join(kind.split()).lower()
    if ctype.count("/") != 1 or ctype.startswith("/") or ctype.endswith("/"):
        ctype = "text/plain"
    params: dict[str, str] = {}
    for item in rest.split(";"):
        name, equals, raw = item.partition("=")
        if equals:
            params[name.strip().lower()] = raw.strip().strip('"').strip()
    return ctype, params


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    except Exception:
        return True
    if disposition == "attachment":
        return True
    # A named text part that is not marked inline is a file, not the message body.
    return filename is not None and disposition != "inline"


def _unescape_surrogates(raw: str) -> str:
    """compat32 keeps raw 8-bit header bytes as surrogates; read them as UTF-8 or Latin-1."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        data = raw.encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    return raw


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unflow(text: str, *, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines of the same quote depth."""
    out: list[str] = []
    current = ""
    current_depth = -1
    open_paragraph = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if open_paragraph and depth == current_depth:
            current += content
        else:
            if open_paragraph:
                out.append(_quoted(current, current_depth))
            current, current_depth = content, depth
        if soft:
            if delsp:
                current = current[:-1]
            open_paragraph = True
        else:
            out.append(_quoted(current, current_depth))
            current, open_paragraph = "", False
    if open_paragraph:
        out.append(_quoted(current, current_depth))
    return "\n".join(out)


def _quoted(content: str, depth: int) -> str:
    return ("> " * depth) + content if depth > 0 else content
