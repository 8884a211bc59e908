"""Fill a reply-corpus template (tests/corpus/*.eml) by literal byte substitution.

The rules are those of tests/corpus/README.md: placeholders are replaced byte for byte (never
with str.format: templates hold CSS braces); {QUOTED_BALLOT_GT} is the ballot with every line
prefixed "> ", {QUOTED_BALLOT_PLAIN} the ballot as is, {QUOTED_BALLOT_HTML} the ballot as
escaped HTML paragraphs. Values that land in the header section are RFC 2047-encoded when they
are not ASCII; inside an HTML part they are HTML-escaped. A template with CRLF line endings
keeps them, and one whose bytes are not UTF-8 (raw ISO-8859-1) gets its body values in
ISO-8859-1.
"""

from __future__ import annotations

import html
import re
from email.header import Header
from email.utils import formataddr, parseaddr

_HTML_PART = re.compile(rb"^content-type:\s*text/html", re.IGNORECASE)


def fill(
    template: bytes,
    *,
    from_: str,
    to: str,
    subject: str,
    message_id: str,
    in_reply_to: str,
    references: str,
    date: str,
    ballot_text: str,
) -> bytes:
    """The template with every placeholder replaced, ready for email.message_from_bytes."""
    newline = b"\r\n" if b"\r\n" in template else b"\n"
    nl = newline.decode()
    lines = ballot_text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    values = {
        "FROM": from_,
        "TO": to,
        "SUBJECT": subject,
        "MESSAGE_ID": message_id,
        "IN_REPLY_TO": in_reply_to,
        "REFERENCES": references,
        "DATE": date,
        "QUOTED_BALLOT_GT": nl.join(f"> {line}" for line in lines),
        "QUOTED_BALLOT_PLAIN": nl.join(lines),
    }
    body_charset = "utf-8"
    try:
        template.decode("utf-8")
    except UnicodeDecodeError:
        body_charset = "latin-1"

    split = template.find(newline + newline)
    head, body = (template, b"") if split < 0 else (template[:split], template[split:])
    head = _substitute(head, {k: _header_value(k, v, nl) for k, v in values.items()}, "ascii")

    out: list[bytes] = []
    in_html = _HTML_PART.search(_top_content_type(head)) is not None
    for line in body.split(newline):
        if line.startswith(b"--"):
            in_html = False
        elif _HTML_PART.match(line):
            in_html = True
        if b"{" in line:
            if in_html:
                html_values = {k: html.escape(v) for k, v in values.items()}
                html_values["QUOTED_BALLOT_HTML"] = _ballot_html(lines)
                line = _substitute(line, html_values, body_charset)
            else:
                plain = dict(values, QUOTED_BALLOT_HTML=_ballot_html(lines))
                line = _substitute(line, plain, body_charset)
        out.append(line)
    return head + newline.join(out)


def _substitute(data: bytes, values: dict[str, str], charset: str) -> bytes:
    for key, value in values.items():
        placeholder = b"{" + key.encode() + b"}"
        if placeholder in data:
            data = data.replace(placeholder, value.encode(charset, errors="replace"))
    return data


def _top_content_type(head: bytes) -> bytes:
    match = re.search(rb"^content-type:[^\n]*", head, re.IGNORECASE | re.MULTILINE)
    return match.group(0) if match else b""


def _header_value(key: str, value: str, newline: str) -> str:
    """A header value as it must appear on the wire: ASCII, RFC 2047 where needed."""
    if value.isascii():
        return value
    if key in ("FROM", "TO"):
        name, address = parseaddr(value)
        return formataddr((name, address), charset="utf-8")
    encoded = Header(value, "utf-8", header_name="Subject").encode(linesep=newline)
    return encoded


def _ballot_html(lines: list[str]) -> str:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(html.escape(line))
        elif paragraphs[-1]:
            paragraphs.append([])
    return "".join(f"<p>{'<br>'.join(p)}</p>" for p in paragraphs if p)
