"""Realistic replies to real ballots, as the mail clients of ../shared/corpus write them.

Each vote is a multipart/alternative text + HTML message quoting the ballot, in the
structure of Gmail, Outlook, Apple Mail or Thunderbird, with the attribution lines and
sign-offs of English, German, French, Spanish or Dutch locales, the personal reply
address in To and the ballot's Message-ID in In-Reply-To/References, plus the Received,
DKIM and Authentication-Results headers a receiving server adds: 2-4 KB each. The noise
is machine mail (out-of-office replies of three kinds, a bounce) and non-member mail.

Messages are built as bytes with binascii's C quoted-printable encoder: generating 20,000
takes a couple of seconds, so the setup is dominated by the APPENDs, not by this.
"""

from __future__ import annotations

import base64
import binascii
import html
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

CHAIR_NAME, CHAIR_ADDRESS = "Helen Marsh", "chair@steering-group.example.org"
MX = "mx.steering-group.example.org"
# Big providers sign with DKIM; a university or a small provider may not.
DKIM_SIGNERS = frozenset({"mail.example", "outlook.example", "icloud.example"})

# The member's own words, per language and vote; each is read as a vote by a careful
# secretary (most are the wording of a corpus case labelled with that vote).
WORDS = {
    "en": {
        "for": [
            "Yes",
            "For.",
            "FOR",
            "I vote for the motion.",
            "I approve.",
            "Yes - I support adoption of the new constitution.",
            "Strongly in favour \u2013 long overdue.",
            "+1",
        ],
        "against": [
            "Against.",
            "No.",
            "AGAINST",
            "I vote against the motion.",
            "Against - for the reasons I gave at the December meeting.",
            "Nay, I'm afraid.",
        ],
        "abstain": [
            "Abstain.",
            "I abstain.",
            "ABSTAIN",
            "Please put me down as an abstention.",
            "I'll abstain on this one as I missed the meeting.",
        ],
    },
    "de": {
        "for": ["Dafür.", "Ich stimme dafür."],
        "against": ["Dagegen."],
        "abstain": ["Enthaltung."],
    },
    "fr": {"for": ["Pour."], "against": ["Contre."], "abstain": ["Je m'abstiens."]},
    "es": {"for": ["A favor."], "against": ["En contra."], "abstain": ["Me abstengo."]},
    "nl": {"for": ["Voor."], "against": ["Tegen."], "abstain": ["Onthouding."]},
}
SIGN_OFF = {
    "en": ["Best wishes,", "Thanks,", "Regards,", "Cheers,", "Kind regards,"],
    "de": ["Viele Grüße", "Beste Grüße"],
    "fr": ["Cordialement,", "Bien à vous,"],
    "es": ["Saludos,", "Un abrazo,"],
    "nl": ["Met vriendelijke groet,", "Groeten,"],
}
MOBILE = {
    "en": "Sent from my iPhone",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "es": "Enviado desde mi iPhone",
    "nl": "Verstuurd vanaf mijn iPhone",
}
DAYS = {
    "en": "Mon Tue Wed Thu Fri Sat Sun",
    "de": "Mo. Di. Mi. Do. Fr. Sa. So.",
    "fr": "lun. mar. mer. jeu. ven. sam. dim.",
    "es": "lun mar mié jue vie sáb dom",
    "nl": "ma di wo do vr za zo",
}
MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "de": "Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez.",
    "fr": "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.",
    "es": "ene feb mar abr may jun jul ago sept oct nov dic",
    "nl": "jan. feb. mrt. apr. mei jun. jul. aug. sep. okt. nov. dec.",
}
OUTLOOK_LABELS = {
    "en": ("RE", "From", "Sent", "To", "Subject"),
    "de": ("AW", "Von", "Gesendet", "An", "Betreff"),
    "fr": ("RE", "De", "Envoyé", "À", "Objet"),
    "es": ("RE", "De", "Enviado", "Para", "Asunto"),
    "nl": ("RE", "Van", "Verzonden", "Aan", "Onderwerp"),
}
CLIENTS = (("gmail", 40), ("outlook", 30), ("apple", 20), ("thunderbird", 10))
LANGUAGES = (("en", 70), ("de", 8), ("fr", 8), ("es", 7), ("nl", 7))
VOTES = (("for", 55), ("against", 30), ("abstain", 15))


@dataclass(frozen=True)
class Ballot:
    """What a reply needs from one member's ballot."""

    name: str
    address: str  # The member's own address: the reply comes from here.
    reply_to: str  # votes+TOKEN@...: the reply goes here.
    message_id: str  # <ballot.MOTION.TOKEN@...>
    subject: str
    sent: datetime
    text: str  # The ballot's text/plain part, decoded.
    html_body: str  # The inside of the ballot's HTML <body>.


def read_ballot(raw: bytes, text: str, html_body: str) -> Ballot:
    """The addressing of one ballot file from the outbox (the body is shared by all)."""
    head = raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n").replace(b"\n\t", b" ")
    headers = {}
    for line in head.decode("utf-8", "replace").replace("\n ", " ").split("\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    name, _, address = headers["to"].rpartition("<")
    return Ballot(
        name=name.strip().strip('"'),
        address=address.rstrip(">").lower(),
        reply_to=headers["reply-to"],
        message_id=headers["message-id"],
        subject=headers["subject"],
        sent=parsedate_to_datetime(headers["date"]),
        text=text,
        html_body=html_body,
    )


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    """One of the names, by weight."""
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


def _b64(n: int, rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(n)).decode()


def _numeric_date(sent: datetime, lang: str) -> str:
    """Thunderbird's numeric date and time, per locale."""
    hm = f"{sent:%H:%M}"
    return {
        "en": f"{sent:%d/%m/%Y} {hm}",
        "de": f"{sent:%d.%m.%Y} um {hm}",
        "fr": f"{sent:%d/%m/%Y} à {hm}",
        "es": f"{sent:%d/%m/%y} a las {hm}",
        "nl": f"{sent:%d-%m-%y} om {hm}",
    }[lang]


def _long_date(sent: datetime, lang: str) -> tuple[str, str]:
    """("Wed, 4 Jan 2017", "10:15") in the locale's day and month names."""
    day = DAYS[lang].split()[sent.weekday()]
    month = MONTHS[lang].split()[sent.month - 1]
    return f"{day}, {sent.day} {month} {sent.year}", f"{sent:%H:%M}"


def _attribution(client: str, lang: str, sent: datetime) -> str:
    who = f"{CHAIR_NAME} <{CHAIR_ADDRESS}>"
    if client == "thunderbird":
        when = _numeric_date(sent, lang)
        return {
            "en": f"On {when}, {CHAIR_NAME} wrote:",
            "de": f"Am {when} schrieb {CHAIR_NAME}:",
            "fr": f"Le {when}, {CHAIR_NAME} a écrit :",
            "es": f"El {when}, {CHAIR_NAME} escribió:",
            "nl": f"Op {when} schreef {CHAIR_NAME}:",
        }[lang]
    date, hm = _long_date(sent, lang)
    short = date.split(", ", 1)[1]
    if client == "apple":
        return {
            "en": f"On {short}, at {hm}, {who} wrote:",
            "de": f"Am {short} um {hm} schrieb {who}:",
            "fr": f"Le {short} à {hm}, {who} a écrit :",
            "es": f"El {short}, a las {hm}, {who} escribió:",
            "nl": f"Op {short} om {hm} heeft {who} het volgende geschreven:",
        }[lang]
    return {  # Gmail
        "en": f"On {date} at {hm}, {who} wrote:",
        "de": f"Am {date} um {hm} Uhr schrieb {who}:",
        "fr": f"Le {date} à {hm}, {who} a écrit :",
        "es": f"El {date} a las {hm}, {CHAIR_NAME} (<{CHAIR_ADDRESS}>) escribió:",
        "nl": f"Op {date} om {hm} schreef {who}:",
    }[lang]


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def _part(content_type: str, body: str, extra: str = "") -> bytes:
    head = f"Content-Type: {content_type}; charset=UTF-8{extra}\nContent-Transfer-Encoding: "
    return (head + "quoted-printable\n\n").encode() + _qp(body) + b"\n"


def _multipart(headers: list[str], boundary: str, parts: list[bytes]) -> bytes:
    head = "\n".join([*headers, "MIME-Version: 1.0"])
    head += f'\nContent-Type: multipart/alternative; boundary="{boundary}"\n\n'
    out = head.encode()
    for p in parts:
        out += f"--{boundary}\n".encode() + p
    out += f"--{boundary}--\n".encode()
    return out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _transport_headers(to: str, sender: str, date: datetime, rng: random.Random) -> list[str]:
    """What the receiving server and the sender's provider add: Received, DKIM, auth results."""
    domain = sender.rpartition("@")[2]
    signature = _b64(128, rng)  # RSA-1024, as many providers still sign
    folded = "\n\t ".join(signature[i : i + 70] for i in range(0, len(signature), 70))
    stamp = format_datetime(date + timedelta(seconds=rng.randint(1, 9)))
    headers = [
        f"Delivered-To: {to}",
        f"Received: from smtp-out.{domain} (smtp-out.{domain} [198.51.100.{rng.randint(1, 254)}])"
        f"\n\tby {MX} (Postfix) with ESMTPS for <{to}>; {stamp}",
        f"Authentication-Results: {MX}; dkim=pass header.d={domain};\n\t"
        f"spf=pass smtp.mailfrom={sender}; dmarc=pass header.from={domain}",
    ]
    if domain in DKIM_SIGNERS:
        headers.append(
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1;\n\t"
            f"h=from:date:message-id:subject:to; bh={_b64(32, rng)};\n\tb={folded}"
        )
    return headers


def vote_reply(ballot: Ballot, vote: str, rng: random.Random) -> bytes:
    """A member's reply to their ballot with this vote, in a random client and locale."""
    client, lang = pick(rng, CLIENTS), pick(rng, LANGUAGES)
    words = rng.choice(WORDS[lang][vote])
    first = ballot.name.split()[0]
    sign = f"{rng.choice(SIGN_OFF[lang])}\n{first}"
    date = ballot.sent + timedelta(minutes=rng.randint(5, 5000))
    sender = f"{ballot.name} <{ballot.address}>"
    mid = f"<{rng.randbytes(12).hex()}@{ballot.address.rpartition('@')[2]}>"
    prefix = OUTLOOK_LABELS[lang][0] if client == "outlook" else "Re"
    headers = [
        *_transport_headers(ballot.reply_to, ballot.address, date, rng),
        f"From: {sender}",
        f"To: {ballot.reply_to}",
        f"Subject: {prefix}: {ballot.subject}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {mid}",
        f"In-Reply-To: {ballot.message_id}",
        f"References: {ballot.message_id}",
    ]
    ballot_html = ballot.html_body
    attribution = _attribution(client, lang, ballot.sent)
    esc_words, esc_attr = html.escape(words), html.escape(attribution)
    boundary = rng.randbytes(14).hex()
    if client == "gmail":
        text = f"{words}\n\n{attribution}\n\n{_quote(ballot.text)}\n"
        body = (
            f'<div dir="ltr">{esc_words}</div><br><div class="gmail_quote"><div dir="ltr" '
            f'class="gmail_attr">{esc_attr}<br></div><blockquote class="gmail_quote" '
            'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
            f'padding-left:1ex">{ballot_html}</blockquote></div>\n'
        )
        headers.append("X-Gm-Message-State: " + _b64(30, rng))
    elif client == "outlook":
        _, frm, sent_l, to_l, subj_l = OUTLOOK_LABELS[lang]
        block = (
            f"{frm}: {CHAIR_NAME} <{CHAIR_ADDRESS}>\n{sent_l}: {ballot.sent:%d %B %Y %H:%M}\n"
            f"{to_l}: {ballot.name}\n{subj_l}: {ballot.subject}"
        )
        text = f"{words}\n\n{sign}\n\n{'_' * 32}\n{block}\n\n{ballot.text}\n"
        html_block = html.escape(block).replace("\n", "<br>\n")
        body = (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} '
            '</style></head><body dir="ltr"><div style="font-family: Calibri, Arial, '
            'Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">'
            f"{esc_words}<br><br>{html.escape(sign).replace(chr(10), '<br>')}</div>"
            '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" '
            'tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
            f'style="font-size:11pt" color="#000000">{html_block}</font><div>&nbsp;</div>'
            f"</div><div>{ballot_html}</div></body></html>\n"
        )
        headers += [
            f"Thread-Topic: {ballot.subject}",
            f"Thread-Index: {_b64(22, rng)}",
            "X-MS-Has-Attach:",
            "X-MS-TNEF-Correlator:",
            f"Accept-Language: {lang}, en-US",
        ]
    elif client == "apple":
        mobile = MOBILE[lang]
        text = f"{words}\n\n{mobile}\n\n> {attribution}\n>\n{_quote(ballot.text)}\n"
        body = (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
            f'</head><body dir="auto"><div dir="ltr">{esc_words}<br><br>'
            f'<div dir="ltr">{html.escape(mobile)}</div><div dir="ltr"><br><blockquote '
            f'type="cite">{esc_attr}<br><br></blockquote></div><blockquote type="cite">'
            f'<div dir="ltr">{ballot_html}</div></blockquote></div></body></html>\n'
        )
        headers.append("X-Mailer: iPhone Mail (20B101)")
    else:  # Thunderbird, bottom-posting now and then
        quoted = f"{attribution}\n{_quote(ballot.text)}\n"
        bottom = rng.random() < 0.3
        mine = f"{words}\n\n{sign}\n"
        text = f"{quoted}\n{mine}" if bottom else f"{mine}\n{quoted}"
        cite = (
            f'<div class="moz-cite-prefix">{esc_attr}<br></div><blockquote type="cite" '
            f'cite="mid:{ballot.message_id.strip("<>")}">{ballot_html}</blockquote>'
        )
        own = f"<p>{esc_words}</p><p>{html.escape(sign).replace(chr(10), '<br>')}</p>"
        body = (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
            f"</head><body>{cite + own if bottom else own + cite}</body></html>\n"
        )
        headers += [
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101\n"
            " Thunderbird/102.6.0",
            f"Content-Language: {lang}",
        ]
    parts = [_part("text/plain", text), _part("text/html", body)]
    return _multipart(headers, f"=_{boundary}", parts)


def auto_reply(ballot: Ballot, rng: random.Random) -> bytes:
    """An out-of-office reply from a member: Gmail vacation, Exchange OOF or vacation(1)."""
    date = ballot.sent + timedelta(minutes=rng.randint(1, 30))
    sender = f"{ballot.name} <{ballot.address}>"
    common = [
        *_transport_headers(ballot.reply_to, ballot.address, date, rng),
        f"From: {sender}",
        f"To: {ballot.reply_to}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{rng.randbytes(12).hex()}@{ballot.address.rpartition('@')[2]}>",
    ]
    notice = (
        "Thank you for your email. I am out of the office until Monday 9 January with "
        "limited access to email.\n\nFor urgent matters please contact my colleague on "
        "020 7946 0321. Votes and committee papers will be dealt with on my return.\n"
    )
    kind = rng.choice(("gmail", "exchange", "vacation"))
    if kind == "gmail":
        headers = [
            *common,
            f"Subject: Re: {ballot.subject}",
            f"In-Reply-To: {ballot.message_id}",
            f"References: {ballot.message_id}",
            "Auto-Submitted: auto-replied",
        ]
        body = f'<div dir="ltr">{html.escape(notice).replace(chr(10), "<br>")}</div>\n'
        parts = [_part("text/plain", notice), _part("text/html", body)]
        return _multipart(headers, f"={rng.randbytes(12).hex()}", parts)
    if kind == "exchange":
        extra = [
            f"Subject: Automatic reply: {ballot.subject}",
            f"Thread-Topic: {ballot.subject}",
            "X-Auto-Response-Suppress: All",
            f"X-MS-Exchange-Inbox-Rules-Loop: {ballot.address}",
        ]
    else:
        extra = [
            f"Subject: Re: {ballot.subject}",
            f"In-Reply-To: {ballot.message_id}",
            f"References: {ballot.message_id}",
            "Precedence: bulk",
            "X-Autoreply: yes",
        ]
    head = "\n".join([*common, *extra, "MIME-Version: 1.0"])
    head += "\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
    return (head + notice).replace("\n", "\r\n").encode()


def non_member_mail(ballot: Ballot, i: int, rng: random.Random) -> bytes:
    """Mail to the votes address that is not a member's vote: a newsletter, a bounce, or
    a non-member "voting" on the motion by its subject tag."""
    date = ballot.sent + timedelta(minutes=rng.randint(1, 3000))
    kind = rng.choice(("newsletter", "bounce", "stranger"))
    to = ballot.reply_to.split("+")[0] + "@" + ballot.reply_to.rpartition("@")[2]
    if kind == "newsletter":
        sender, subject = "Civic Digest <news@digest.example>", f"Your weekly digest #{i}"
        text = "This week: consultations, budgets and a reading list.\n\n" * 12
    elif kind == "bounce":
        sender, subject = f"Mail Delivery System <MAILER-DAEMON@{MX}>", "Undelivered Mail"
        text = (
            f"This is the mail system at host {MX}.\n\nI'm sorry to have to inform you that "
            "your message could not be delivered to one or more recipients.\n\n"
            f"<former.member.{i}@gone.example>: host mx.gone.example said: 550 5.1.1 "
            "User unknown\n"
        )
    else:
        sender, subject = f"Casey Visitor {i} <visitor.{i}@elsewhere.example>", ballot.subject
        text = f"For.\n\nI am not on the list but wanted to say I support this.\n{ballot.text}"
    headers = [
        *_transport_headers(to, re.sub(r".*<|>", "", sender), date, rng),
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{rng.randbytes(12).hex()}@nonmember.example>",
    ]
    if kind == "bounce":
        headers.append("Auto-Submitted: auto-replied")
    if kind == "newsletter":
        headers += ["Precedence: bulk", "List-Unsubscribe: <mailto:leave@digest.example>"]
    body = f"<html><body><p>{html.escape(text).replace(chr(10), '<br>')}</p></body></html>\n"
    parts = [_part("text/plain", text), _part("text/html", body)]
    return _multipart(headers, f"={rng.randbytes(12).hex()}", parts)
