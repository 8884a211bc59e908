"""check: the mail set-up, step by step, before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from steervote.cli import app, consoles, settings_of
from steervote.errors import ConfigInvalid, ExitCode
from steervote.terminal import untrusted

if TYPE_CHECKING:
    from email.message import EmailMessage

    from steervote.config import Settings
    from steervote.services.check_steps import Step


def print_steps(steps: Sequence[Step]) -> None:
    """One line per step, ✓ or ✗, and under a ✗ the fix."""
    for step in steps:
        mark = "✓" if step.ok else "✗"
        consoles.out.print(
            f"{mark} {untrusted(step.what, 200)}: {untrusted(step.said, 2000)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        if not step.ok and step.fix:
            consoles.out.print(
                f"  fix: {untrusted(step.fix, 2000)}", markup=False, highlight=False, soft_wrap=True
            )


@app.command()
def check(
    ctx: typer.Context,
    send_test: Annotated[
        str | None,
        typer.Option(
            "--send-test", metavar="ADDRESS", help="Also send a short test message there."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            min=0.5,
            max=600,
            help="Wait this long for a server (0.5 to 600 seconds).",
        ),
    ] = 15,
) -> None:
    """Check the mail set-up before anything is sent: read the config, resolve every
    password and token (never shown), connect and sign in to IMAP (EXAMINE the folder:
    messages, UIDVALIDITY) and to SMTP (its size limit, SMTPUTF8, AUTH); send nothing
    unless --send-test. One line per step, ✓ or ✗ with the fix. Exit 0 when all pass, 1
    otherwise.

    Examples:

    \b
      steervote check
      steervote check --send-test secretary@example.org
    """
    from steervote.services.check import check
    from steervote.services.check_steps import Step

    try:
        settings = settings_of(ctx)
        settings.check_sending()
    except ConfigInvalid as e:
        print_steps([Step(False, "config", str(e), "correct that setting in the config file")])
        consoles.out.print("1 of 1 checks failed.", markup=False)
        raise typer.Exit(ExitCode.FAILED) from None
    where = str(settings.source) if settings.source else "none: built-in defaults"
    steps = [Step(True, "config", where)]
    result = check(settings, os.environ, timeout=timeout, test_message=_test(settings, send_test))
    steps += result.steps
    print_steps(steps)
    failed = sum(not s.ok for s in steps)
    if failed:
        consoles.out.print(f"{failed} of {len(steps)} checks failed.", markup=False)
        raise typer.Exit(ExitCode.FAILED)
    consoles.out.print(f"All {len(steps)} checks passed.", markup=False)


def _test(settings: Settings, address: str | None) -> EmailMessage | None:
    if address is None:
        return None
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from steervote.errors import InvalidInput

    if address.count("@") != 1 or any(c.isspace() for c in address):
        raise InvalidInput(f"--send-test {address!r}: not an email address")
    message = EmailMessage()
    message["From"] = settings.ballot.sender
    message["To"] = address
    message["Subject"] = "steervote check: test message"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.ballot.sender.rpartition("@")[2].strip(">"))
    message.set_content(
        "This message was sent by `steervote check --send-test` to show that ballots sent\n"
        "through this server arrive. Nothing needs to be done with it.\n"
    )
    return message
