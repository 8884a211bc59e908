"""The result announcement's two parts, text/plain and text/html, made from one content.

The HTML part says what the text part says, every string escaped, with a bar of the votes
drawn in inline CSS (no image, script or remote content).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from steervote.core.tally import TallyResult


@dataclass(frozen=True, slots=True)
class Announced:
    """The announcement's content, shared by its text and HTML parts (all plain text)."""

    heading: str
    correction: tuple[str, str] | None
    result: str
    state: str
    counts: tuple[tuple[str, int], ...]
    facts: tuple[tuple[str, str], ...]
    members: tuple[tuple[str, str], ...] | None
    footer: str


def vote_bar(result: TallyResult) -> list[tuple[str, str, int, int]]:
    """(label, colour, members, width in tenths of a percent) for each part of the bar;
    the widths sum to 1000 (largest remainders), or 0 with no electorate."""
    c = result.counts
    n = len(result.lines)
    parts = [
        ("For", "#2e7d32", c.for_),
        ("Against", "#c62828", c.against),
        ("Abstain", "#757575", c.abstain),
        ("In review", "#f9a825", result.needs_review),
        (
            "Not voted or late" if result.late else "Not voted",
            "#d0d0d0",
            n - c.counted - result.needs_review,
        ),
    ]
    if n == 0:
        return [(label, colour, count, 0) for label, colour, count in parts]
    widths = [count * 1000 // n for _, _, count in parts]
    order = sorted(range(len(parts)), key=lambda i: -(parts[i][2] * 1000 % n))
    for i in order[: 1000 - sum(widths)]:
        widths[i] += 1
    return [
        (label, colour, count, w) for (label, colour, count), w in zip(parts, widths, strict=True)
    ]


def text_part(a: Announced) -> str:
    """The announcement's text/plain part."""
    lines: list[str] = []
    if a.correction is not None:
        was, changed = a.correction
        lines += [
            f"This corrects the result announced earlier: {was}",
            f"What changed: {changed}.",
            "",
        ]
    lines += [a.heading, "", f"Result: {a.result}", "", a.state, "", "Counts"]
    width = max(len(label) for label, _ in a.counts) + 1
    lines += [f"  {label + ':':<{width}} {n}" for label, n in a.counts]
    lines += ["", *(f"{label}: {value}" for label, value in a.facts)]
    if a.members is not None:
        lines += ["", "Votes", *(f"  {name}: {vote}" for name, vote in a.members)]
    lines += ["", a.footer]
    return "\n".join(lines) + "\n"


def html_part(a: Announced, bar: list[tuple[str, str, int, int]]) -> str:
    """The announcement's text/html part, every string escaped, with `bar` (vote_bar) drawn."""

    def e(text: str) -> str:
        return html.escape(text, quote=True)

    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"></head>',
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#222222">',
    ]
    if a.correction is not None:
        was, changed = a.correction
        out += [
            '<p style="border-left:4px solid #c62828;padding-left:8px">'
            f"<strong>This corrects the result announced earlier:</strong> {e(was)}<br>",
            f"What changed: {e(changed)}.</p>",
        ]
    out += [
        f'<h2 style="font-size:18px">{e(a.heading)}</h2>',
        f"<p><strong>Result:</strong> {e(a.result)}</p>",
        f"<p>{e(a.state)}</p>",
    ]
    spans = "".join(
        f'<span title="{e(label)}: {count}" style="display:inline-block;height:20px;'
        f'width:{w // 10}.{w % 10}%;background-color:{colour}"></span>'
        for label, colour, count, w in bar
        if w
    )
    out.append(
        '<div style="width:100%;max-width:600px;height:20px;background-color:#f0f0f0;'
        f'font-size:0;line-height:0;white-space:nowrap">{spans}</div>'
    )
    legend = " &nbsp; ".join(
        f'<span style="display:inline-block;width:10px;height:10px;background-color:{colour}">'
        f"</span> {e(label)} {count}"
        for label, colour, count, _ in bar
    )
    out.append(f'<p style="font-size:13px">{legend}</p>')
    cell = 'style="text-align:left;padding:2px 12px 2px 0"'
    out.append('<table style="border-collapse:collapse">')
    out += [f"<tr><th {cell}>{e(label)}</th><td {cell}>{n}</td></tr>" for label, n in a.counts]
    out.append("</table>")
    out += [f"<p><strong>{e(label)}:</strong> {e(value)}</p>" for label, value in a.facts]
    if a.members is not None:
        out += [
            '<table style="border-collapse:collapse">',
            f"<tr><th {cell}>Member</th><th {cell}>Vote</th></tr>",
            *(f"<tr><td {cell}>{e(name)}</td><td {cell}>{e(v)}</td></tr>" for name, v in a.members),
            "</table>",
        ]
    out += [f'<p style="font-size:13px">{e(a.footer)}</p>', "</body></html>"]
    return "\n".join(out) + "\n"
