"""Every language file's own examples read as its reviewer says: the votes counted, the
negated, conditional, questioning and acknowledging replies sent to review."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from steervote.core.reading.languages.lexicon import languages
from steervote.core.reply import Kind, read_reply

CASES = [
    (code, label, text)
    for code, language in sorted(languages().items())
    for label, texts in sorted(language.examples.items())
    for text in texts
]


def read(text: str):
    msg = EmailMessage()
    msg["From"] = "Member <member@x.example>"
    msg["Subject"] = "Re: [m1] Adopt the new constitution"
    msg.set_content(text + "\n\n> Reply to this email with one word: FOR, AGAINST or ABSTAIN.\n")
    return read_reply(
        msg, ballot_subject="[m1] Adopt the new constitution", motion_title="Adopt the constitution"
    )


@pytest.mark.parametrize(
    ("code", "label", "text"), CASES, ids=[f"{code}-{label}" for code, label, _ in CASES]
)
def test_example_reads_as_labelled(code: str, label: str, text: str) -> None:
    reading = read(text)
    if label in ("for", "against", "abstain"):
        assert (reading.kind, reading.vote) == (Kind.VOTE, label), reading.reason
    else:
        assert reading.kind == Kind.NEEDS_REVIEW, (reading.vote, reading.reason)


def test_every_language_has_an_example_of_each_kind() -> None:
    for code, language in languages().items():
        for label in ("for", "against", "abstain", "negated", "conditional"):
            assert language.examples.get(label), f"{code}: no {label} example"
