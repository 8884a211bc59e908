"""Exit codes and the error classes that carry them; only cli.py catches them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (README, "Exit codes")."""

    OK = 0
    FAILED = 1  # some work failed: a ballot refused, a mail server unreachable
    USAGE = 2  # invalid input: motion, committee, config, command line


class SteervoteError(Exception):
    """Base of every error the CLI turns into a one-line message and an exit code."""

    exit_code: ExitCode = ExitCode.FAILED


class InvalidInput(SteervoteError):
    """A file or argument the user wrote is wrong; nothing was written."""

    exit_code = ExitCode.USAGE


class MotionInvalid(InvalidInput):
    """A motion, committee or member CSV file does not validate."""


class ConfigInvalid(InvalidInput):
    """steervote.toml or the environment holds an invalid setting."""


class MotionChanged(InvalidInput):
    """The motion differs from the one whose ballots already went out."""


class UnknownMotion(InvalidInput):
    """No motion with this id is recorded in the store."""

    @classmethod
    def among(cls, motion_id: str, known: list[str]) -> UnknownMotion:
        """The error for `motion_id`, with "did you mean" for a near miss and the recorded
        ids (the first 20 of `known`) named."""
        from steervote.core.fields import did_you_mean
        from steervote.terminal import untrusted

        shown = ", ".join(untrusted(k) for k in known[:20])
        more = f" and {len(known) - 20} more" if len(known) > 20 else ""
        return cls(
            f"no motion {untrusted(motion_id)!r} in the store"
            f"{did_you_mean(motion_id, known)}; recorded: {shown + more or 'none yet'}"
        )


class MailServerError(SteervoteError):
    """The mail server could not be reached or refused us."""

    exit_code = ExitCode.FAILED


class ProposeRunning(SteervoteError):
    """Another run is proposing the same motion; this one did nothing."""

    exit_code = ExitCode.FAILED


class SignInNeeded(SteervoteError):
    """An OAuth2 access token could not be had or was refused: sign in again."""

    exit_code = ExitCode.FAILED


class SendingPaused(MailServerError):
    """A sending limit was reached (ours, or the server's quota reply): nothing more is sent
    in this run, and the message that met it was not taken; a later run sends the rest.

    `detail`, when given, is recorded on that message (what the server said)."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail
