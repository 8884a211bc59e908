"""SmtpTransport against a real aiosmtpd server: one connection, refusals, drops, login, TLS."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import pytest

from servers import PASSWORD, Certificate, SmtpServer, free_port, start_smtp
from steervote.adapters.smtp import SendResult, SmtpTransport
from steervote.errors import MailServerError

SENDER = "chair@example.org"


def ballot(n: int, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = to
    msg["Subject"] = f"[m1] ballot {n}"
    msg["Message-ID"] = f"<ballot.{n}@example.org>"
    msg.set_content(f"Ballot number {n}.\n")
    return msg


def transport(server: SmtpServer, **kw) -> SmtpTransport:
    kw.setdefault("security", "none")
    return SmtpTransport(server.host, server.port, timeout=5, **kw)


def test_many_messages_over_one_connection(smtp_server: SmtpServer) -> None:
    addresses = [f"member{n}@example.org" for n in range(20)]
    with transport(smtp_server) as smtp:
        results = [
            smtp.send(ballot(n, a), sender=SENDER, recipients=[a]) for n, a in enumerate(addresses)
        ]
    assert all(r == SendResult(ok=True, code=250, reason="accepted") for r in results)
    assert [m.recipients for m in smtp_server.messages] == [(a,) for a in addresses]
    assert all(m.sender == SENDER for m in smtp_server.messages)
    assert len({m.peer for m in smtp_server.messages}) == 1  # One connection for all 20.


def test_refused_recipient_is_recorded_and_the_others_sent(smtp_server: SmtpServer) -> None:
    smtp_server.refuse["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    addresses = ["a@example.org", "gone@example.org", "b@example.org"]
    with transport(smtp_server) as smtp:
        results = [
            smtp.send(ballot(n, a), sender=SENDER, recipients=[a]) for n, a in enumerate(addresses)
        ]
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].code == 550
    assert "no such user" in results[1].reason
    assert results[1].refused == ("gone@example.org",)
    assert [m.recipients for m in smtp_server.messages] == [("a@example.org",), ("b@example.org",)]


def test_temporary_refusal_is_returned_not_raised(smtp_server: SmtpServer) -> None:
    smtp_server.refuse["busy@example.org"] = "450 4.2.1 mailbox busy, try later"
    with transport(smtp_server) as smtp:
        result = smtp.send(
            ballot(1, "busy@example.org"), sender=SENDER, recipients=["busy@example.org"]
        )
    assert (result.ok, result.code) == (False, 450)


def test_some_recipients_refused(smtp_server: SmtpServer) -> None:
    smtp_server.refuse["gone@example.org"] = "550 5.1.1 no such user"
    with transport(smtp_server) as smtp:
        result = smtp.send(
            ballot(1, "a@example.org"),
            sender=SENDER,
            recipients=["a@example.org", "gone@example.org"],
        )
    assert (result.ok, result.code, result.refused) == (False, 550, ("gone@example.org",))
    assert [m.recipients for m in smtp_server.messages] == [("a@example.org",)]


def test_dropped_connection_is_retried_once_on_a_new_one(smtp_server: SmtpServer) -> None:
    with transport(smtp_server) as smtp:
        assert smtp.send(ballot(1, "a@example.org"), sender=SENDER, recipients=["a@example.org"]).ok
        smtp_server.drop_at_mail = 1  # The next MAIL FROM cuts the connection.
        result = smtp.send(ballot(2, "b@example.org"), sender=SENDER, recipients=["b@example.org"])
    assert result.ok
    assert [m.recipients for m in smtp_server.messages] == [("a@example.org",), ("b@example.org",)]


def test_dropped_twice_raises(smtp_server: SmtpServer) -> None:
    with transport(smtp_server) as smtp:
        smtp_server.drop_at_mail = 2
        with pytest.raises(MailServerError, match=f"127.0.0.1:{smtp_server.port}"):
            smtp.send(ballot(1, "a@example.org"), sender=SENDER, recipients=["a@example.org"])
    assert smtp_server.messages == []


def test_drop_after_data_is_never_resent(smtp_server: SmtpServer) -> None:
    smtp_server.drop_after_data.add("b@example.org")
    with transport(smtp_server) as smtp:
        unknown = smtp.send(ballot(1, "b@example.org"), sender=SENDER, recipients=["b@example.org"])
        after = smtp.send(ballot(2, "c@example.org"), sender=SENDER, recipients=["c@example.org"])
    assert (unknown.ok, unknown.code, unknown.delivery_unknown) == (False, None, True)
    assert "may have been delivered" in unknown.reason
    assert after.ok  # The transport reconnected for the next message.
    assert len({m.peer for m in smtp_server.messages}) == 2
    # The server got the ballot exactly once.
    assert [m.recipients for m in smtp_server.messages] == [("b@example.org",), ("c@example.org",)]


def test_server_stopped_mid_run_raises() -> None:
    server = start_smtp()
    try:
        with transport(server) as smtp:
            assert smtp.send(
                ballot(1, "a@example.org"), sender=SENDER, recipients=["a@example.org"]
            ).ok
            server.stop()
            with pytest.raises(MailServerError) as caught:
                smtp.send(ballot(2, "b@example.org"), sender=SENDER, recipients=["b@example.org"])
        assert f"127.0.0.1:{server.port}" in str(caught.value)
        assert len(server.messages) == 1
    finally:
        server.close()


def test_unreachable_server_raises() -> None:
    with pytest.raises(MailServerError, match="cannot connect"):
        SmtpTransport("127.0.0.1", free_port(), "none", timeout=2).__enter__()


def test_login_with_password(smtp_server: SmtpServer) -> None:
    with transport(smtp_server, username="chair", password=PASSWORD) as smtp:
        assert smtp.send(ballot(1, "a@example.org"), sender=SENDER, recipients=["a@example.org"]).ok
    assert smtp_server.logins == ["chair"]


def test_wrong_password_is_reported_without_it(smtp_server: SmtpServer) -> None:
    wrong = "hunter2-wrong"
    smtp = transport(smtp_server, username="chair", password=wrong)
    with pytest.raises(MailServerError, match="login refused") as caught:
        smtp.__enter__()
    assert wrong not in str(caught.value) and wrong not in repr(smtp)


def test_starttls_with_certificate_verification(
    smtp_server: SmtpServer, test_certificate: Certificate
) -> None:
    context = test_certificate.client_context()
    with transport(
        smtp_server, security="starttls", ssl_context=context, username="chair", password=PASSWORD
    ) as smtp:
        assert smtp.send(ballot(1, "a@example.org"), sender=SENDER, recipients=["a@example.org"]).ok
    assert len(smtp_server.messages) == 1


def test_starttls_refuses_an_unknown_certificate(smtp_server: SmtpServer) -> None:
    smtp = transport(smtp_server, security="starttls", ssl_context=ssl.create_default_context())
    with pytest.raises(MailServerError, match="certificate verification failed"):
        smtp.__enter__()


def test_implicit_tls_with_certificate_verification(test_certificate: Certificate) -> None:
    server = start_smtp(auth=True, certificate=test_certificate, implicit_tls=True)
    try:
        context = test_certificate.client_context()
        with transport(
            server, security="ssl", ssl_context=context, username="chair", password=PASSWORD
        ) as smtp:
            assert smtp.send(
                ballot(1, "a@example.org"), sender=SENDER, recipients=["a@example.org"]
            ).ok
        assert len(server.messages) == 1
    finally:
        server.close()
