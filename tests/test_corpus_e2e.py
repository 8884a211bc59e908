"""Every labelled corpus reply, filled from a real ballot, through SMTP -> Dovecot -> tally.

Each corpus file is answered by its own member of a committee made for the purpose;
the tally must record exactly the label: a clear vote as that vote, a needs_review
reply in review (never counted), machine mail ignored (never counted, never in review).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest

from corpus_fill import fill
from election import Election, ballot_text, header, make_election
from servers import DovecotServer, SmtpServer

CORPUS = Path(__file__).parent / "corpus"
LABELS = [
    (row["file"], row["expected"])
    for row in csv.DictReader(
        (CORPUS / "labels.tsv").read_text(encoding="utf-8").splitlines(), delimiter="\t"
    )
]


def write_corpus_motion(root: Path, *, plus_tokens: bool) -> None:
    members = root / "motions" / "corpus-members.csv"
    with members.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "email"])
        for i in range(len(LABELS)):
            w.writerow([f"Member {i:03d}", f"member{i:03d}@corpus.example"])
    (root / "motions" / "corpus.yaml").write_text(
        "id: corpus\n"
        "title: Adopt the new constitution\n"
        "text: |\n  That the committee adopts the constitution attached.\n"
        "proposer: member000@corpus.example\n"
        "threshold: majority-of-members\n"
        "closes: 7d\n"
        "name: Corpus Committee\n"
        "timezone: Europe/London\n"
        "members: corpus-members.csv\n",
        encoding="utf-8",
    )
    if not plus_tokens:
        toml = root / "steervote.toml"
        toml.write_text(toml.read_text().replace("plus_tokens = true", "plus_tokens = false"))


def run_corpus(election: Election) -> tuple[dict[str, Any], dict[str, str]]:
    # The ballots are recorded as sent a day before the replies arrive (each with the
    # receipt time of now): a reply with nothing of the ballot in it (no token, no thread,
    # as a Lotus Notes or forwarded one) in the second its ballot went out answers no
    # ballot, and this corpus is about reading replies, not about that race.
    election.propose("motions/corpus.yaml")
    import email

    ballots = {}
    for m in election.smtp.messages:
        msg = email.message_from_bytes(m.content)
        ballots[m.recipients[0].lower()] = msg
    message_ids = {}
    for i, (name, _) in enumerate(LABELS):
        address = f"member{i:03d}@corpus.example"
        ballot = ballots[address]
        message_id = make_msgid(domain="corpus.example")[1:-1]
        raw = fill(
            (CORPUS / name).read_bytes(),
            from_=f"Member {i:03d} <{address}>",
            to=header(ballot, "Reply-To"),
            subject=header(ballot, "Subject"),
            message_id=message_id,
            in_reply_to=header(ballot, "Message-ID"),
            references=header(ballot, "Message-ID"),
            date=format_datetime(datetime.now(UTC)),
            ballot_text=ballot_text(ballot),
        )
        election.append(raw)
        message_ids[address] = f"<{message_id}>"
    run = election.cli("tally", "corpus", "--json")
    assert run.code == 0, run.err
    return run.json(), message_ids


@pytest.mark.parametrize("plus_tokens", [True, False], ids=["plus-token", "no-plus-token"])
def test_every_corpus_reply_is_recorded_as_labelled(
    tmp_path: Path,
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
    imap_user: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    plus_tokens: bool,
) -> None:
    url = f"sqlite:///{tmp_path}/steervote.db"
    election = make_election(tmp_path, smtp_server, dovecot, imap_user, url, capsys, monkeypatch)
    write_corpus_motion(tmp_path, plus_tokens=plus_tokens)
    result, message_ids = run_corpus(election)
    by_email = {m["email"]: m for m in result["members"]}
    ignored_ids = {i["message_id"] for i in result["ignored"]}
    wrong = []
    for i, (name, expected) in enumerate(LABELS):
        address = f"member{i:03d}@corpus.example"
        got = by_email[address]
        if expected in {"for", "against", "abstain"}:
            ok = got["status"] == "counted" and got["vote"] == expected
        elif expected == "needs_review":
            ok = got["status"] == "needs_review" and got["vote"] is None
        else:
            ok = got["status"] == "not_voted" and message_ids[address] in ignored_ids
        if not ok:
            wrong.append(f"{name}: expected {expected}, got {got['status']}/{got['vote']}")
    assert not wrong, "\n".join(wrong)
    labels = [e for _, e in LABELS]
    assert result["counts"]["for"] == labels.count("for")
    assert result["counts"]["against"] == labels.count("against")
    assert result["counts"]["abstain"] == labels.count("abstain")
    assert result["counts"]["needs_review"] == labels.count("needs_review")
