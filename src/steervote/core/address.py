"""Email addresses: a sound syntactic check of one in a member list, and reading them from mail."""

from __future__ import annotations

import contextlib
import re
import unicodedata

# RFC 5322 dot-atom text, plus any non-ASCII character (RFC 6531 internationalised
# addresses); quoted local parts ("john smith"@…) are refused, as no member list needs them.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LOCAL_RE = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LETTER = r"[A-Za-z0-9\u0080-\U0010ffff]"
_LABEL_RE = re.compile(rf"{_LETTER}(?:[A-Za-z0-9\-\u0080-\U0010ffff]*{_LETTER})?")

# The common case, checked in one step (a 20,000-member list must load in well under a
# second): a plain ASCII address. Anything it does not accept gets the checks below.
_ASCII_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]"
_ASCII_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_ASCII_TLD = r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]"
_PLAIN_RE = re.compile(
    rf"{_ASCII_ATEXT}{{1,64}}(?:\.{_ASCII_ATEXT}+)*@{_ASCII_LABEL}(?:\.{_ASCII_LABEL})*\.{_ASCII_TLD}"
)


def address_problem(address: str) -> str | None:
    """Why the text is not a usable email address, or None if it is one."""
    if (
        len(address) <= 254
        and _PLAIN_RE.fullmatch(address) is not None
        and len(address.partition("@")[0]) <= 64
        and len(address.rpartition(".")[2]) <= 63
    ):
        return None
    return _problem(address)


def _problem(address: str) -> str | None:
    """The full check, and the reason; address_problem's fast path accepts a subset of it."""
    if not address:
        return "empty email address"
    if any(ch.isspace() or not ch.isprintable() for ch in address):
        return "an email address has no spaces or control characters"
    if any(ch in '<>()[]\\,;:"' for ch in address):
        return "an email address has no <>()[],;: quotes or backslashes (write just the address)"
    if address.count("@") != 1:
        return "an email address has exactly one @"
    local, domain = address.split("@")
    if not local:
        return "nothing before the @"
    if len(local) > 64:
        return "the part before the @ is longer than 64 characters"
    if _LOCAL_RE.fullmatch(local) is None:
        return "the part before the @ has a misplaced dot"
    labels = domain.split(".")
    if len(labels) < 2:
        return f"the domain {domain!r} has no dot"
    if len(address) > 254:
        return "longer than 254 characters"
    for label in labels:
        if len(label) > 63 or _LABEL_RE.fullmatch(label) is None:
            return f"the domain {domain!r} is not a valid host name"
    if labels[-1].isdigit():
        return f"the domain {domain!r} ends in a number"
    return None


# "Name <address>", the form a From or Reply-To is written in; the name may be quoted.
_NAME_AND_ADDRESS = re.compile(r"(?P<name>[^<>]*)<(?P<address>[^<>]*)>")
# RFC 5322 3.2.3 specials a display name holds only inside double quotes (a dot is let
# through, as every mail client writes "J. Smith" unquoted: obs-phrase, RFC 5322 4.1).
_NAME_SPECIALS = frozenset(',;:@()[]\\<>"')


def mailbox_problem(text: str) -> str | None:
    """Why the text cannot be one From or Reply-To mailbox, or None when it is one:
    `Name <address@domain>`, `"Name, with specials" <address@domain>` or a bare address,
    the address as `address_problem` wants it. Header rules (line breaks, invisible
    characters) are mail_text's: check them first."""
    text = text.strip()
    if text.count("<") > 1 or text.count(">") > 1 or (text.count("@") > 1 and "," in text):
        return "holds more than one address: give one"
    if "<" not in text and ">" not in text:
        if any(ch.isspace() for ch in text):
            return "has a space (a name goes before the address, which is in angle brackets)"
        return address_problem(text)
    match = _NAME_AND_ADDRESS.fullmatch(text)
    if match is None:
        return "cannot be read: angle brackets enclose the address, after the name"
    address = match["address"].strip()
    if any(ch.isspace() for ch in address):
        return f"the address {address!r} has a space"
    problem = address_problem(address)
    if problem is not None:
        return problem
    return _display_name_problem(match["name"].strip())


def _display_name_problem(name: str) -> str | None:
    """Why a display name cannot stand before `<address>` as written, or None."""
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        inner = name[1:-1].replace("\\\\", "").replace('\\"', "")
        return None if '"' not in inner else "the name has a quote inside its quotes"
    special = next((ch for ch in name if ch in _NAME_SPECIALS), None)
    if special is not None:
        return f"the name holds {special!r}: put the name in double quotes"
    return None


def is_email_address(address: str) -> bool:
    """True if the text is a syntactically sound email address."""
    return address_problem(address) is None


# --- addresses as mail writes them ----------------------------------------------------

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_COMMENT = re.compile(r"\([^()]*\)")
_ANGLE = re.compile(r"<([^<>]*)>")
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # RFC 3490 3.1
HEADER_LIMIT = 4000  # characters of an address header read


def mailbox_addresses(value: str) -> list[str]:
    """The distinct addresses of an address-list header value (From, To), normalised.

    Lenient as mail really is (RFC 5322 3.4 as clients write it): a display name with an
    unquoted comma ("Member, One <m1@x>") is one mailbox, whose address is the one in
    angle brackets; quoted strings and comments are not addresses; a piece with no @ and
    no angle brackets is part of a display name. Takes the raw header text (not decoded
    from RFC 2047: a decoded name may hold commas or brackets); raw 8-bit text kept as
    surrogate escapes is read as UTF-8, else Latin-1.
    """
    text = _QUOTED.sub(" ", _unescape(value[:HEADER_LIMIT]))
    for _ in range(5):  # nested comments, innermost first
        text = _COMMENT.sub(" ", text)
    text = text.replace('"', " ").replace("(", " ").replace(")", " ")
    found: list[str] = []
    for piece in re.split(r"[,;]", text):
        angled = _ANGLE.findall(piece)
        if angled:
            # A source route (<@relay:addr>) is not part of the address.
            found.extend(a.rpartition(":")[2].strip() for a in angled)
        elif "@" in piece:
            found.extend(word for word in piece.replace(":", " ").split() if "@" in word)
    out: list[str] = []
    for address in (normalize_address(a) for a in found if a):
        if address not in out:
            out.append(address)
    return out


def normalize_address(address: str) -> str:
    """An address in the one form two spellings of it compare equal in.

    Lower case; Unicode NFC (RFC 6531 addresses may arrive composed or decomposed); the
    domain's IDNA A-labels ("xn--…", RFC 5891) decoded to U-labels and ideographic full
    stops read as dots. ASCII addresses without A-labels are only lower-cased.
    """
    address = address.strip()
    if address.isascii() and "xn--" not in address.lower():
        return address.lower().rstrip(".")
    # NFKC: a full-width "ｂob" is the same letters as "bob" to a person and to IDNA.
    local, at, domain = unicodedata.normalize("NFKC", address).rpartition("@")
    if not at:
        return unicodedata.normalize("NFKC", address).lower()
    return f"{local.lower()}@{normalize_domain(domain)}"


def normalize_domain(domain: str) -> str:
    """A domain name in U-label form, lower case, NFC, without a final dot."""
    labels = []
    folded = unicodedata.normalize("NFKC", domain).translate(_FULL_STOPS).lower().rstrip(".")
    for label in folded.split("."):
        if label.startswith("xn--"):
            # Not a valid A-label: compared as written.
            with contextlib.suppress(UnicodeError, ValueError):
                label = label[4:].encode("ascii").decode("punycode").lower()
        # The mapping the ballot's envelope gets (the stdlib's IDNA 2003 nameprep: "straße"
        # is sent as "strasse"): two spellings that reach one mailbox compare equal.
        with contextlib.suppress(UnicodeError, ValueError):
            label = label.encode("idna").decode("idna")
        labels.append(label)
    return unicodedata.normalize("NFC", ".".join(labels))


def _unescape(raw: str) -> str:
    """compat32 keeps raw 8-bit header bytes as surrogates; read them as UTF-8 or Latin-1."""
    if raw.isascii():
        return raw
    data = raw.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# --- addresses as mail is sent to them ---------------------------------------------------


def ascii_address(address: str) -> str | None:
    """The address as plain ASCII mail can carry it, or None when only SMTPUTF8 can.

    An ASCII local part at an internationalised domain is written with the domain's
    IDNA A-labels (`juergen@xn--bcher-kva.example`, RFC 5890), which every server takes;
    a non-ASCII local part (`jürgen@…`, RFC 6531) needs a server that offers SMTPUTF8.
    """
    if address.isascii():
        return address
    local, at, domain = address.rpartition("@")
    if not at or not local.isascii():
        return None
    try:
        encoded = unicodedata.normalize("NFC", domain).encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{local}@{encoded}"


def needs_smtputf8(address: str) -> bool:
    """True when mail to (or from) the address can only go through a server with SMTPUTF8."""
    return ascii_address(address) is None
