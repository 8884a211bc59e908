"""Reply extraction: maintained reply-parsing libraries against our hand-written rules.

Run by hand, never by CI. The libraries are NOT dependencies of steervote: keep them out of
pyproject.toml and out of the project's .venv, and use a throw-away virtualenv:

    python3 -m venv /tmp/replylibs
    /tmp/replylibs/bin/pip install -e . email-reply-parser mail-parser-reply
    /tmp/replylibs/bin/python benchmarks/compare_reply_libraries.py [--details] [--offline]

(from the repository root). A library that is not installed is reported as such and its rows
are skipped; the script never fails for that.

What it does: every labelled template in tests/corpus (labels.tsv) is filled with
tests/corpus_fill.py, once with each ballot text of tests/test_reply_corpus.py (the realistic
"constitution" ballot, and the hostile "budget" ballot whose text is full of vote words,
attributions and header lines). Each filled reply is read by each pipeline:

1. ours: `steervote.core.reply.read_reply` as is (own text by `core.quote.own_text`).
2. email-reply-parser: `EmailReplyParser.parse_reply` on the text our code decodes
   (`core.mime.read_body`: the text/plain part, charset and format=flowed decoded; for the one
   HTML-only reply, our HTML-to-text, which already cuts at the quote container).
3. mail-parser-reply: `EmailReplyParser(languages=...).read(text).replies[0].body` on the same
   text (the newest reply without its header, signature and disclaimers), once with English
   only and once with every language the library knows.

How a library's text is classified: `read_with` below is `reply._read` with the own-text step
swapped, nothing else. It uses the same machine-mail check (headers and subject, so auto-replies
are caught alike), the same MIME problem checks, `core.classify.classify(own text, topic
words, neutral phrases)` and reply.py's own subject reading and combination (`_subject_vote`,
`_combine`). A minimal message whose body is the library's text, passed to `read_reply`, was
not used: `read_reply` would run our quote stripping again over the library's output and
the comparison would measure our rules twice. The script first checks that `read_with` fed our
own `quote.own_text` gives exactly `read_reply`'s reading on every file (it stops if not).

A control row classifies the whole decoded text (no extraction at all): it shows how much the
corpus depends on extraction, so that a tie between two extractors means something.

Counted per pipeline:
- miscounts: a clear vote (for/against/abstain) read as another vote, or a needs_review /
  not_a_vote reply read as a vote: the errors that change a tally unseen;
- clear votes read correctly (/N), and clear votes sent to review (safe but manual work);
- ballot leaks: replies whose extracted text contains a line of the ballot (any ballot line
  longer than 30 characters, as in tests/test_reply_corpus.py).

Maintenance: the installed version, the latest version on PyPI and its upload date (PyPI's
JSON metadata; `pip index versions` and `pip show` carry no dates) are printed; --offline
skips the lookup.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime
import email
import importlib.metadata
import json
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
CORPUS = TESTS / "corpus"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(ROOT / "src"))

from corpus_fill import fill  # noqa: E402  (tests/ is put on the path above)
from steervote.core import reply  # noqa: E402
from steervote.core.mime import decode_words, raw_headers, read_body  # noqa: E402
from steervote.core.reading.machine import machine_reason  # noqa: E402
from steervote.core.reading.quotes import quote  # noqa: E402
from steervote.core.reading.vote.classify import classify, normalize  # noqa: E402
from steervote.core.reply import Kind, Reading, read_reply  # noqa: E402

CLEAR = ("for", "against", "abstain")
LIBRARIES = ("email-reply-parser", "mail-parser-reply")  # distribution names

Extract = Callable[[str], str]


def ballots() -> dict[str, tuple[str, str]]:
    """The sample ballots of tests/test_reply_corpus.py, read from its source (no pytest)."""
    tree = ast.parse((TESTS / "test_reply_corpus.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("CONSTITUTION", "BUDGET"):
                found[target.id] = ast.literal_eval(node.value)
    return {
        "constitution": ("[new-constitution] Adopt the new constitution", found["CONSTITUTION"]),
        "budget": ("[budget-2017] Approve the 2017 budget", found["BUDGET"]),
    }


def labels() -> list[tuple[str, str]]:
    rows = (CORPUS / "labels.tsv").read_text(encoding="utf-8").splitlines()
    return [(row["file"], row["expected"]) for row in csv.DictReader(rows, delimiter="\t")]


def filled(name: str, subject: str, ballot_text: str) -> Message:
    """A corpus template filled as tests/test_reply_corpus.py fills it."""
    raw = fill(
        (CORPUS / name).read_bytes(),
        from_="Sam Tarry <sam.tarry@momentum.example>",
        to="votes+k3J9x2@steering-group.example.org",
        subject=subject,
        message_id="reply-1@momentum.example",
        in_reply_to="<ballot-1@steering-group.example.org>",
        references="<ballot-1@steering-group.example.org>",
        date="Thu, 05 Jan 2017 09:12:44 +0000",
        ballot_text=ballot_text,
    )
    return email.message_from_bytes(raw)


def read_with(
    msg: Message, extract: Extract, ballot_subject: str, motion_title: str
) -> tuple[Reading, str]:
    """`reply._read` with `extract` in place of `quote.own_text`; the reading and the text."""
    headers = raw_headers(msg)
    subject = decode_words(headers.get("subject", ""))
    machine = machine_reason(msg, headers, subject)
    body = read_body(msg)
    try:
        own = extract(body.text) or ""
    except Exception as exc:  # a library that crashes leaves the reply to a human
        reason = f"extractor raised {type(exc).__name__}"
        return Reading(Kind.NEEDS_REVIEW, None, "", "", reason), ""
    shown = own[: reply.OWN_TEXT_LIMIT]
    if machine is not None:
        return Reading(Kind.NOT_A_VOTE, None, "", shown, machine), own
    if body.problem:
        return Reading(Kind.NEEDS_REVIEW, None, "", shown, body.problem), own
    if body.truncated:
        return Reading(Kind.NEEDS_REVIEW, None, "", shown, "message too large"), own
    phrases = [ballot_subject, motion_title]
    topics = {t for p in phrases for t in normalize(p).split()}
    said = classify(own, topic_words=topics, neutral_phrases=phrases)
    titled = reply._subject_vote(subject, ballot_subject, motion_title, topics)
    return reply._combine(said, titled, shown), own


def library_extractors() -> tuple[dict[str, Extract], list[str]]:
    """The library pipelines that can run here, and the libraries that are not installed."""
    found: dict[str, Extract] = {}
    absent: list[str] = []
    try:
        from email_reply_parser import EmailReplyParser as Erp
    except ImportError:
        absent.append("email-reply-parser")
    else:
        found[f"email-reply-parser {_installed('email-reply-parser')}"] = Erp.parse_reply
    try:
        from mailparser_reply import EmailReplyParser as Mpr
        from mailparser_reply.constants import MAIL_LANGUAGES
    except ImportError:
        absent.append("mail-parser-reply")
    else:
        version = _installed("mail-parser-reply")
        every = sorted(MAIL_LANGUAGES)

        def newest(languages: list[str]) -> Extract:
            def extract(text: str) -> str:
                replies = Mpr(languages=list(languages)).read(text).replies
                return replies[0].body if replies else ""

            return extract

        found[f"mail-parser-reply {version} (en)"] = newest(["en"])
        found[f"mail-parser-reply {version} (all {len(every)}: {','.join(every)})"] = newest(every)
    return found, absent


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pypi_release(distribution: str) -> tuple[str, str, str]:
    """Latest version on PyPI, its first upload date, and the project's home page."""
    url = f"https://pypi.org/pypi/{distribution}/json"
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            data = json.load(response)
    except Exception as exc:
        return "?", f"unknown (PyPI not reachable: {type(exc).__name__})", ""
    latest = data["info"]["version"]
    uploads = sorted(f["upload_time_iso_8601"] for f in data["releases"].get(latest, []))
    urls = data["info"].get("project_urls") or {}
    home = urls.get("Homepage") or urls.get("Source") or data["info"].get("home_page") or ""
    return latest, uploads[0][:10] if uploads else "?", home


@dataclass
class Score:
    miscounts: list[str] = field(default_factory=list)
    correct: int = 0
    to_review: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def score(
    pipeline: Callable[[Message, str, str], tuple[Reading, str]],
    corpus: list[tuple[str, str]],
    subject: str,
    ballot_text: str,
) -> Score:
    title = subject.split("] ", 1)[1]
    distinctive = [line for line in ballot_text.splitlines() if len(line) > 30]
    result = Score()
    for name, expected in corpus:
        reading, text = pipeline(filled(name, subject, ballot_text), subject, title)
        if reading.reason.startswith("extractor raised"):
            result.errors.append(name)
        if any(line in text for line in distinctive):
            result.leaks.append(name)
        if expected in CLEAR:
            if reading.kind == Kind.VOTE and reading.vote == expected:
                result.correct += 1
            elif reading.kind == Kind.VOTE:
                result.miscounts.append(f"{name} ({expected} read as {reading.vote})")
            else:
                result.to_review.append(name)
        elif reading.kind == Kind.VOTE:
            result.miscounts.append(f"{name} ({expected} read as {reading.vote})")
    return result


def ours(msg: Message, subject: str, title: str) -> tuple[Reading, str]:
    reading = read_reply(msg, ballot_subject=subject, motion_title=title)
    return reading, quote.own_text(read_body(msg).text)


def check_mirror(corpus: list[tuple[str, str]], ballot_set: dict[str, tuple[str, str]]) -> None:
    """`read_with` + our own extraction must read every file exactly as `read_reply` does."""
    for subject, text in ballot_set.values():
        title = subject.split("] ", 1)[1]
        for name, _ in corpus:
            msg = filled(name, subject, text)
            mirrored, _ = read_with(msg, quote.own_text, subject, title)
            real = read_reply(msg, ballot_subject=subject, motion_title=title)
            if mirrored != real:
                sys.exit(f"read_with no longer mirrors read_reply on {name}: update it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--details", action="store_true", help="list the files behind counts")
    parser.add_argument("--offline", action="store_true", help="skip the PyPI date lookup")
    args = parser.parse_args(argv)

    corpus = labels()
    ballot_set = ballots()
    check_mirror(corpus, ballot_set)
    clear = sum(1 for _, expected in corpus if expected in CLEAR)
    extractors, absent = library_extractors()

    print(
        f"run {datetime.date.today().isoformat()}; python {sys.version.split()[0]}; "
        f"steervote {_installed('steervote')}"
    )
    print(f"corpus: {len(corpus)} replies ({clear} clear votes), tests/corpus/labels.tsv")
    print("check: read_with(quote.own_text) == read_reply on every file and ballot: ok\n")

    print("| library | installed | latest on PyPI | released | home |")
    print("|---|---|---|---|---|")
    for distribution in LIBRARIES:
        latest, date, home = ("?", "not looked up (--offline)", "")
        if not args.offline:
            latest, date, home = pypi_release(distribution)
        print(f"| {distribution} | {_installed(distribution)} | {latest} | {date} | {home} |")
    for missing in absent:
        print(
            f"\nNOTE {missing} is not installed in this Python: its rows are left out. Install it"
            f" into the throw-away venv (pip install {missing}); if pip cannot find it, it is"
            " not installable from PyPI here."
        )

    pipelines: dict[str, Callable[[Message, str, str], tuple[Reading, str]]] = {
        "ours (read_reply)": ours,
        "control: no extraction (whole decoded text)": lambda m, s, t: read_with(
            m, lambda text: text, s, t
        ),
    }
    for label, extract in extractors.items():
        pipelines[label] = lambda m, s, t, extract=extract: read_with(m, extract, s, t)

    for ballot, (subject, text) in ballot_set.items():
        print(f"\nBallot: {ballot} ({subject})\n")
        print(
            f"| pipeline | miscounts | clear votes read correctly (/{clear}) "
            f"| clear votes to review | ballot text leaked into extracted text (/{len(corpus)}) "
            "| extractor errors |"
        )
        print("|---|---|---|---|---|---|")
        scores = {label: score(run, corpus, subject, text) for label, run in pipelines.items()}
        for label, s in scores.items():
            print(
                f"| {label} | {len(s.miscounts)} | {s.correct} | {len(s.to_review)} "
                f"| {len(s.leaks)} | {len(s.errors)} |"
            )
        if args.details:
            for label, s in scores.items():
                print(f"\n{label}:")
                print("  miscounts: " + ("; ".join(s.miscounts) or "-"))
                print("  clear votes to review: " + (", ".join(s.to_review) or "-"))
                print("  leaks: " + (", ".join(s.leaks) or "-"))
                if s.errors:
                    print("  errors: " + ", ".join(s.errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
