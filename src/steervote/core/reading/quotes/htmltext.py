"""HTML mail to plain text, leaving out quoted messages, signatures and hidden text."""

from __future__ import annotations

import functools
import tomllib
from html.parser import HTMLParser
from importlib import resources


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BLOCK = _names(
    "p div br li ul ol tr table h1 h2 h3 h4 h5 h6 pre hr dd dt dl address section article "
    "header footer center title"
)
_INVISIBLE = _names("head style script title template xml object")
_VOID = _names("br hr img meta link input col area base wbr source embed param")


@functools.cache
def _markers() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The clients' quote markers (reading/clients.toml): classes, names, stop ids."""
    data = tomllib.loads(
        resources.files(__package__ or "steervote.core.reading.quotes")
        .joinpath("clients.toml")
        .read_text("utf-8")
    )
    return tuple(data["quote_classes"]), tuple(data["quote_names"]), tuple(data["stop_ids"])


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_tag = ""
        self.skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if self.skip_depth:
            if tag == self.skip_tag and tag not in _VOID:
                self.skip_depth += 1
            return
        values = {name: (value or "").lower() for name, value in attrs}
        classes_, names_, stop_ids = _markers()
        ident = values.get("id", "")
        if ident and any(marker in ident for marker in stop_ids):
            self.stopped = True
            return
        classes = values.get("class", "")
        style = values.get("style", "").replace(" ", "")
        hidden = "display:none" in style or "hidden" in values
        quoted = _marked(classes, classes_) or _marked(values.get("name", ""), names_)
        if tag in _INVISIBLE or tag == "blockquote" or hidden or quoted:
            if tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self.skip_depth:
            if tag == self.skip_tag:
                self.skip_depth -= 1
            return
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if not self.stopped and not self.skip_depth:
            # Source line breaks are only whitespace in HTML; tags make the lines.
            self.out.append(data.replace("\xa0", " ").replace("\n", " ").replace("\r", " "))


def _marked(value: str, markers: tuple[str, ...]) -> bool:
    return bool(value) and any(marker in value for marker in markers)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML part, cut at the quoted message; never raises."""
    parser = _Text()
    try:
        # Fed in slices so that reading stops soon after an Outlook quote marker.
        for start in range(0, len(markup), 16384):
            parser.feed(markup[start : start + 16384])
            if parser.stopped:
                break
        parser.close()
    except Exception:  # html.parser is lenient, but very broken markup can still trip it
        parser.stopped = True  # keep the text read so far
    lines = ("".join(parser.out)).split("\n")
    cleaned = [" ".join(line.split()) for line in lines]
    # Collapse the runs of empty lines that block tags leave behind.
    text: list[str] = []
    for line in cleaned:
        if line or (text and text[-1]):
            text.append(line)
    return "\n".join(text).strip("\n")
