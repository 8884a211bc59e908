"""One rule of reading a reply at a time, with cases the corpus does not hold."""

from __future__ import annotations

import base64
import email
import time
from email.message import Message

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steervote.core.reply import Kind, auto_reply_reason, decoded_subject, own_text, read_reply

SUBJECT = "[budget-2017] Approve the 2017 budget"
TITLE = "Approve the 2017 budget"
BALLOT_GT = "\n".join(
    "> " + line
    for line in (
        "Motion budget-2017: Approve the 2017 budget",
        "",
        "Reply with one word: FOR, AGAINST or ABSTAIN. Yes or no.",
        "-- ",
        "Voting closes 12 January. I vote for it myself; against is allowed.",
    )
)
BALLOT_PLAIN = BALLOT_GT.replace("> ", "")


def message(
    body: str | bytes,
    *,
    subject: str = f"Re: {SUBJECT}",
    content_type: str = "text/plain; charset=utf-8",
    headers: str = "",
    encoding: str = "8bit",
) -> Message:
    """A reply as the tally adapters hand it over: parsed with the default compat32 policy."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    head = (
        "From: Member <member@example.org>\n"
        "To: votes+tok@example.org\n"
        f"Subject: {subject}\n"
        "Message-ID: <r1@example.org>\n"
        "MIME-Version: 1.0\n"
        f"Content-Type: {content_type}\n"
        f"Content-Transfer-Encoding: {encoding}\n"
        f"{headers}"
    )
    return email.message_from_bytes(head.encode("utf-8") + b"\n" + data)


def read(msg: Message) -> tuple[str, str | None]:
    reading = read_reply(msg, ballot_subject=SUBJECT, motion_title=TITLE)
    if reading.kind is Kind.VOTE:
        assert reading.evidence
    return str(reading.kind), (str(reading.vote) if reading.vote else None)


def vote_of(body: str, **kw: str) -> str:
    kind, vote = read(message(body, **kw))
    return vote if vote else kind


# --- What counts as a vote, and what does not ----------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("FOR", "for"),
        ("Yes.", "for"),
        ("Aye", "for"),
        ("+1", "for"),
        ("-1", "against"),
        ("I support the motion.", "for"),
        ("Count me as for.", "for"),
        ("No.", "against"),
        ("Nay", "against"),
        ("I oppose this.", "against"),
        ("Abstain", "abstain"),
        ("I abstain.", "abstain"),
        # Other languages.
        ("Dafür.", "for"),
        ("Ja, ich stimme zu.", "for"),
        ("Ich stimme dem Antrag zu.", "for"),
        ("Dagegen", "against"),
        ("Ich enthalte mich.", "abstain"),
        ("Pour.", "for"),
        ("Oui", "for"),
        ("Je vote contre.", "against"),
        ("Je m’abstiens.", "abstain"),
        ("A favor.", "for"),
        ("Sí", "for"),
        ("En contra", "against"),
        ("Me abstengo.", "abstain"),
        ("Voor", "for"),
        ("Ik stem tegen.", "against"),
        ("Onthouding", "abstain"),
        ("Favorevole.", "for"),
        ("Sono contrario.", "against"),
        ("Mi astengo.", "abstain"),
        ("Sim, a favor.", "for"),
        ("Contra.", "against"),
        ("Abstenho-me.", "abstain"),
        # Rich-markup lookalikes are only text: escaping is the renderer's job.
        ("[bold red]FOR[/]", "for"),
        ("FOR 👍", "for"),
    ],
)
def test_clear_votes(body: str, expected: str) -> None:
    assert vote_of(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "I do not support this motion.",
        "I can't support this.",
        "Not in favour.",
        "I don't agree.",
        "I'm not against it.",
        "Yes if the budget is balanced.",
        "Yes, provided the reserve is kept.",
        "Yes, subject to the audit.",
        "For, as long as the office stays.",
        "Leaning towards yes.",
        "Probably yes.",
        "I think yes but let me check.",
        "Yes?",
        "Can you clarify clause 4 before I decide?",
        "Is this the final version?",
        "Yes to the amended version, not the one attached.",
        "My deputy will vote for me.",
        "Received, thanks - will vote after the meeting.",
        "👍",
        "🙄 yes",
        "Oh great, another budget. Yes.",
        "Yes, because what this group really needs is more spending.",
        "Against - or abstain, your call.",
        "For. Against.",
        "+1 to Anita",
        "I agree with Owen.",
        "Thanks Helen, great work.",
        "For urgent matters call 020 7946 0321.",
        "Call me on +1 555 0100.",
        "I withdraw my vote.",
        "",
        # "Yes" and "No" answer other questions too: alone in a longer sentence they wait.
        "No, I can't make the meeting on Thursday.",
        "Yes, I got the papers, thanks.",
        "No, I haven't got the attachment.",
        "Not sure. For now, yes.",
        "In principle yes.",
        "We agreed four at the meeting.",
        "I vote for Anita's amendment.",
        "For the motion, against the amendment.",
        "I was going to vote against but I'm now for it.",
        "Count me in.",
        "OK",
    ],
)
def test_replies_a_secretary_must_read(body: str) -> None:
    assert vote_of(body) == "needs_review"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Against - for the reasons I gave.", "against"),
        ("No problem, count me as for.", "for"),
        ("No objection - please count me as FOR.", "for"),
        ("I'd say no, but put me down as an abstention.", "abstain"),
        ("Please change my vote to AGAINST. I can't support it.", "against"),
        ("For. Actually, please change my vote to against.", "against"),
        ("Yes\n\nJo Bloggs\nNo. 4 Harbour St\nReg. No. 04567123. VAT No. GB 123 4567 89.", "for"),
        ("No.\n\nJo Bloggs\nNo. 4 Harbour Street", "against"),
        ("I'll abstain on this one, as I missed the meeting.", "abstain"),
        ("No, I'm afraid.", "against"),
        ("No, I don't support it.", "against"),
        ("Yes, definitely.", "for"),
        ("Thanks, Helen. FOR.", "for"),
        ("FOR - obviously\n\nJo", "for"),
        ("My vote: against", "against"),
    ],
)
def test_final_and_explicit_intent(body: str, expected: str) -> None:
    assert vote_of(body) == expected


# --- Own text: quotes, attributions, header blocks, signatures -----------------------------


@pytest.mark.parametrize(
    "attribution",
    [
        "On Wed, Jan 4, 2017 at 10:15 AM, Helen Marsh <chair@example.org> wrote:",
        "On Wed, Jan 4, 2017 at 10:15 AM, Helen Marsh <chair@example.org>\nwrote:",
        "On Wed, Jan 04, 2017 at 10:15:30AM +0000, Helen Marsh wrote:",
        "Am 04.01.2017 um 10:15 schrieb Helen Marsh:",
        "Le 04/01/2017 à 10:15, Helen Marsh a écrit :",
        "El mié., 4 de ene. de 2017 10:15, Helen Marsh <chair@example.org>\nescribió:",
        "Op 4 jan. 2017 om 10:15 heeft Helen Marsh <chair@example.org> het volgende geschreven:",
        "Op wo 4 jan. 2017 om 10:15 schreef Helen Marsh <chair@example.org>:",
        "Il giorno mer 4 gen 2017 alle ore 10:15 Helen Marsh <chair@example.org> ha scritto:",
        "Em qua., 4 de jan. de 2017 às 10:15, Helen Marsh <chair@example.org> escreveu:",
        "Helen Marsh <chair@example.org> wrote on 04/01/2017 10:15:02:",
    ],
)
def test_attributions_in_many_languages(attribution: str) -> None:
    for quoted in (BALLOT_GT, BALLOT_PLAIN):
        msg = message(f"Abstain.\n\n{attribution}\n\n{quoted}\n")
        assert own_text(msg) == "Abstain."
        assert read(msg) == ("vote", "abstain")


@pytest.mark.parametrize(
    "block",
    [
        "From: Helen Marsh [mailto:chair@example.org]\nSent: 04 January 2017 10:15\nTo: All\n"
        f"Subject: {SUBJECT}",
        "Von: Helen Marsh\nGesendet: Mittwoch, 4. Januar 2017 10:15\nAn: Alle\nBetreff: Haushalt",
        "De : Helen Marsh\nEnvoyé : mercredi 4 janvier 2017 10:15\nÀ : Tous\nObjet : Budget",
        "De: Helen Marsh\nEnviado: miércoles, 4 de enero de 2017 10:15\nPara: Todos\nAsunto: X",
        "Van: Helen Marsh\nVerzonden: woensdag 4 januari 2017 10:15\nAan: Allen\nOnderwerp: X",
        "Da: Helen Marsh\nInviato: mercoledì 4 gennaio 2017 10:15\nA: Tutti\nOggetto: X",
        "*From:* Helen Marsh\n*Date:* Wed, Jan 4, 2017\n*To:* All\n*Subject:* X",
        "________________________________\nFrom: Helen Marsh",
        "-----Original Message-----\nFrom: Helen Marsh",
        "-----Ursprüngliche Nachricht-----",
        "---------- Forwarded message ----------\nFrom: Helen Marsh",
        "Begin forwarded message:",
    ],
)
def test_unprefixed_quotes_below_header_blocks(block: str) -> None:
    msg = message(f"Against.\n\n{block}\n\n{BALLOT_PLAIN}\nFOR\n")
    assert own_text(msg) == "Against."
    assert read(msg) == ("vote", "against")


def test_bottom_posted_and_inline_replies_are_read() -> None:
    assert vote_of(f"On 4 Jan 2017, Helen wrote:\n{BALLOT_GT}\n\nAbstain.\n") == "abstain"
    inline = "> Do you support the budget?\nYes.\n> Any other comments?\nNone.\n"
    assert vote_of(inline) == "for"


def test_signatures_footers_and_disclaimers_are_not_the_members_words() -> None:
    body = (
        "Against.\n\nSent from my iPhone\n\n-- \nJo Bloggs\nCampaign for Yes\n\n"
        f"> quoted\n{BALLOT_GT}\n"
    )
    assert vote_of(body) == "against"
    body = (
        "For.\n\nKind regards,\nJo\nNo. 4 High St\n\n"
        "This email is confidential. If you are not the intended recipient, you must not "
        "act on it; no liability is accepted against viruses.\n"
    )
    assert vote_of(body) == "for"
    assert vote_of("Voor.\n\nVerstuurd vanaf mijn iPhone\n") == "for"
    assert vote_of("Dagegen.\n\nVon meinem iPhone gesendet\n") == "against"


def test_an_empty_reply_with_only_a_colleagues_vote_quoted_is_not_a_vote() -> None:
    body = f"\n\nFrom: Anita\nSent: today\nTo: All\nSubject: RE: x\n\nFOR\n\n{BALLOT_PLAIN}\n"
    assert vote_of(body) == "needs_review"


# --- The Subject -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        (f"Re: {SUBJECT} - YES", "", "for"),
        (f"AW: {SUBJECT} - Ja", BALLOT_GT, "for"),
        (f"RE: {SUBJECT} (abstain)", "", "abstain"),
        (f"Fwd: {SUBJECT} - AGAINST", "", "against"),
        (f"Re: {SUBJECT}", "", "needs_review"),  # the title "Approve ..." is not a vote
        (f"Re: {SUBJECT} - YES", "Against.", "needs_review"),  # subject and body disagree
        (f"Re: {SUBJECT} - FOR", "For.", "for"),
        (f"Re: {SUBJECT} - yes if amended", "", "needs_review"),
    ],
)
def test_subject_votes(subject: str, body: str, expected: str) -> None:
    assert vote_of(body, subject=subject) == expected


def test_a_title_that_reads_like_a_vote_never_counts_even_without_the_ballot_subject() -> None:
    msg = message("", subject="Re: Approve the budget")
    assert read_reply(msg).kind is Kind.NEEDS_REVIEW
    assert read_reply(message("", subject="Re: Approve the budget - yes")).vote == "for"


def test_encoded_and_broken_subjects_decode_without_raising() -> None:
    assert decoded_subject(message("", subject="=?utf-8?q?Re=3A_F=C3=BCr?=")) == "Re: Für"
    assert decoded_subject(message("", subject="=?x-unknown?q?abc?= tail")) == "abc tail"
    raw = b"Subject: Re: caf\xe9 =?utf-8?b?!!!?=\n\nFOR\n"
    assert "caf" in decoded_subject(email.message_from_bytes(raw))


# --- Machine-generated mail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "subject", "reason"),
    [
        ("Auto-Submitted: auto-replied\n", f"Re: {SUBJECT}", "Auto-Submitted=auto-replied"),
        ("X-Autoreply: yes\n", f"Re: {SUBJECT}", "X-Autoreply"),
        ("X-Autorespond: yes\n", f"Re: {SUBJECT}", "X-Autorespond"),
        ("Precedence: junk\n", f"Re: {SUBJECT}", "Precedence=junk"),
        ("X-Mailman-Version: 2.1.23\n", "Your message awaits approval", "X-Mailman-Version"),
        ("X-Auto-Response-Suppress: All\n", f"Automatic reply: {SUBJECT}", "Automatic reply"),
        ("", f"Abwesenheitsnotiz: {SUBJECT}", "Abwesenheitsnotiz"),
        ("", f"Réponse automatique : {SUBJECT}", "Réponse automatique"),
        ("", f"Respuesta automática: {SUBJECT}", "Respuesta automática"),
        ("", f"Out of Office: {SUBJECT}", "Out of Office"),
        ("", f"Undeliverable: {SUBJECT}", "Undeliverable"),
        ("", f"Read: {SUBJECT}", "Read:"),
    ],
)
def test_auto_replies_are_not_votes(headers: str, subject: str, reason: str) -> None:
    msg = message("For urgent matters: yes, I am away.", subject=subject, headers=headers)
    found = auto_reply_reason(msg)
    assert found is not None and reason in found
    assert read_reply(msg, ballot_subject=SUBJECT).kind is Kind.NOT_A_VOTE
    # A vote written into an auto-reply is never silently ignored: a person reads it. List
    # mail (a Mailman notice, a digest) carries other people's words, never the member's vote.
    voted = message("For urgent matters: yes, I am away. FOR.", subject=subject, headers=headers)
    listed = "Mailman" in headers
    expected = Kind.NOT_A_VOTE if listed else Kind.NEEDS_REVIEW
    assert read_reply(voted, ballot_subject=SUBJECT).kind is expected


def test_auto_submitted_no_is_a_human() -> None:
    assert auto_reply_reason(message("FOR", headers="Auto-Submitted: no\n")) is None
    assert vote_of("FOR", headers="Auto-Submitted: no\n") == "for"


def test_machine_senders_reports_and_calendar_responses() -> None:
    bounce = email.message_from_bytes(b"From: MAILER-DAEMON@example.org\nSubject: x\n\nFOR\n")
    assert "machine sender" in (auto_reply_reason(bounce) or "")
    report = message(
        "--b\nContent-Type: text/plain\n\nFOR\n--b--\n",
        content_type='multipart/report; report-type=disposition-notification; boundary="b"',
    )
    assert "multipart/report" in (auto_reply_reason(report) or "")
    calendar = message(
        "--b\nContent-Type: text/plain\n\n\n--b\nContent-Type: text/calendar; method=REPLY\n\n"
        "BEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR\n--b--\n",
        subject=f"Accepted: {SUBJECT}",
        content_type='multipart/alternative; boundary="b"',
    )
    assert "calendar" in (auto_reply_reason(calendar) or "")


# --- MIME: charsets, HTML, structure, hostile input -------------------------------------------


def test_html_only_replies_cut_at_their_quote_containers() -> None:
    html = (
        "<html><body><div>Against.</div><div class='gmail_quote'>On Wed Helen wrote:"
        "<blockquote>FOR AGAINST ABSTAIN</blockquote></div></body></html>"
    )
    assert vote_of(html, content_type="text/html; charset=utf-8") == "against"
    bottom = "<blockquote type='cite'>Reply FOR or AGAINST</blockquote><p>Abstain&nbsp;</p>"
    assert vote_of(bottom, content_type="text/html") == "abstain"
    outlook = "<p>For.</p><hr><div id='divRplyFwdMsg'><b>From:</b> Helen</div><div>AGAINST</div>"
    assert vote_of(outlook, content_type="text/html") == "for"
    hidden = "<div style='display: none'>against</div><style>p{}</style><p>Yes</p>"
    assert vote_of(hidden, content_type="text/html") == "for"


def test_charsets_unknown_mislabelled_and_flowed() -> None:
    assert vote_of("FOR", content_type="text/plain; charset=x-unknown") == "for"
    latin1 = "Ich stimme dafür.".encode("latin-1")
    assert read(message(latin1, content_type="text/plain; charset=utf-8")) == ("vote", "for")
    flowed = "I vote for \nthe motion.\n\n> quoted AGAINST\n"
    assert vote_of(flowed, content_type="text/plain; charset=utf-8; format=flowed") == "for"
    delsp = "I absta \nin.\n"
    ctype = "text/plain; charset=utf-8; format=flowed; delsp=yes"
    assert vote_of(delsp, content_type=ctype) == "abstain"
    quoted_printable = b"Dagegen =E2=80=93 leider."
    assert read(message(quoted_printable, encoding="quoted-printable")) == ("vote", "against")
    b64 = base64.b64encode("Abstention.".encode("utf-16")).decode()
    utf16 = "text/plain; charset=utf-16"
    assert vote_of(b64, content_type=utf16, encoding="base64") == "abstain"


def test_multipart_mixed_signed_and_attachments() -> None:
    mixed = (
        "--b\nContent-Type: text/plain\n\nFOR.\n--b\nContent-Type: application/pdf\n"
        "Content-Disposition: attachment; filename=x.pdf\nContent-Transfer-Encoding: base64\n\n"
        "QUdBSU5TVA==\n--b\nContent-Type: text/plain\nContent-Disposition: attachment; "
        "filename=notes.txt\n\nAGAINST\n--b\nContent-Type: text/plain\n\nJo\n\n> AGAINST\n--b--\n"
    )
    assert vote_of(mixed, content_type='multipart/mixed; boundary="b"') == "for"
    signed = (
        "--s\nContent-Type: text/plain\n\nAgainst.\n--s\n"
        "Content-Type: application/pkcs7-signature\n\nFOR\n--s--\n"
    )
    ctype = 'multipart/signed; protocol="application/pkcs7-signature"; boundary="s"'
    assert vote_of(signed, content_type=ctype) == "against"


def test_a_forwarded_message_attached_is_not_the_members_words() -> None:
    nested = (
        "--b\nContent-Type: text/plain\n\nAgainst.\n--b\nContent-Type: message/rfc822\n\n"
        "From: chair@example.org\nSubject: ballot\n\nReply FOR.\n--b--\n"
    )
    assert vote_of(nested, content_type='multipart/mixed; boundary="b"') == "against"
    only = "From: chair@example.org\nSubject: ballot\n\nFOR\n"
    assert vote_of(only, content_type="message/rfc822") == "needs_review"


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        ("FOR", "multipart/mixed", "8bit"),  # no boundary
        ("--b\nFOR\n", 'multipart/alternative; boundary="b"', "8bit"),  # never closed
        ("!!!!not base64 at all\x00\x01", "text/plain", "base64"),
        ("FOR", "multipart/encrypted; boundary=x", "8bit"),
        ("FOR", "application/octet-stream", "8bit"),
        ("FOR", "text", "x-uuencode-broken"),
    ],
)
def test_malformed_mime_is_a_review_or_a_reading_never_an_exception(
    body: str, content_type: str, encoding: str
) -> None:
    reading = read_reply(message(body, content_type=content_type, encoding=encoding))
    assert reading.kind in (Kind.VOTE, Kind.NEEDS_REVIEW)
    assert reading.reason
    if content_type.startswith(("multipart/mixed", "multipart/encrypted", "application")):
        assert reading.kind is Kind.NEEDS_REVIEW


def test_a_five_megabyte_body_is_bounded_and_fast() -> None:
    body = "FOR\n\n" + ("lorem ipsum dolor " * 60 + "\n") * 4800
    assert len(body) > 5_000_000
    # CPU time with loose bounds: they catch quadratic work on hostile input, not a busy CI.
    start = time.process_time()
    reading = read_reply(message(body))
    assert time.process_time() - start < 10
    assert reading.kind is Kind.NEEDS_REVIEW  # too large to read whole: never guessed
    assert len(reading.own_text) <= 2000
    start = time.process_time()
    read_reply(message("<p>" + "<div>x" * 200_000, content_type="text/html"))
    read_reply(message("a" * 3_000_000 + "\nOn x wrote:\n"))
    assert time.process_time() - start < 20


# --- Properties ------------------------------------------------------------------------------

VOTE_WORDS = {
    "FOR": "for",
    "For.": "for",
    "Yes": "for",
    "yes": "for",
    "AGAINST": "against",
    "Against.": "against",
    "No": "against",
    "Nay": "against",
    "ABSTAIN": "abstain",
    "Abstain.": "abstain",
    "Abstention": "abstain",
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_read_reply_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    msg = email.message_from_bytes(data)
    reading = read_reply(msg, ballot_subject=SUBJECT, motion_title=TITLE)
    assert reading.reason
    auto_reply_reason(msg)
    decoded_subject(msg)
    own_text(msg)


_HEADERISH = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: multipart/alternative; boundary=b\n",
        b"Content-Type: text/html; charset=x-bad\n",
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"Subject: =?utf-8?b?QUdBSU5TVA==?= =?bad?q?x?=\n",
        b"--b\n",
        b"--b--\n",
        b"\n",
        b"<blockquote>",
        b"> quoted\n",
        b"On Mon, X wrote:\n",
        b"From: a\nSent: b\nTo: c\n",
        b"FOR\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HEADERISH, st.binary(max_size=40)), max_size=30))
def test_read_reply_never_raises_on_mime_shaped_noise(pieces: list[bytes]) -> None:
    reading = read_reply(email.message_from_bytes(b"".join(pieces)), ballot_subject=SUBJECT)
    assert reading.kind in (Kind.VOTE, Kind.NEEDS_REVIEW, Kind.NOT_A_VOTE)


# Any quoted text but a question: a bare vote word above a quoted question may answer that
# question rather than the ballot, and goes to review (test_reading_kinds).
_QUOTED_LINE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n?？؟"), max_size=80
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VOTE_WORDS)), st.lists(_QUOTED_LINE, max_size=25))
def test_a_clear_vote_above_any_quoted_text_is_that_vote(word: str, quoted: list[str]) -> None:
    body = word + "\n\n" + "\n".join("> " + line for line in quoted) + "\n"
    reading = read_reply(message(body), ballot_subject=SUBJECT, motion_title=TITLE)
    assert (reading.kind, reading.vote) == (Kind.VOTE, VOTE_WORDS[word]), reading.reason
