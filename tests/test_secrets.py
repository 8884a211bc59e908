"""Passwords from the environment or a command, with errors that never show the secret."""

from __future__ import annotations

import sys

import pytest

from steervote.adapters.secrets import resolve_password
from steervote.errors import ConfigInvalid


def test_from_environment() -> None:
    assert resolve_password("MAIL_PW", None, {"MAIL_PW": "s3cret"}) == "s3cret"


def test_missing_environment_variable_is_named() -> None:
    with pytest.raises(ConfigInvalid, match="MAIL_PW"):
        resolve_password("MAIL_PW", None, {})


def test_nothing_configured() -> None:
    assert resolve_password(None, None, {}) is None


def test_both_configured_is_refused() -> None:
    with pytest.raises(ConfigInvalid, match="choose one"):
        resolve_password("A", "echo x", {"A": "x"})


def test_first_line_of_a_command_without_a_shell() -> None:
    command = f'{sys.executable} -c \'print("  s3cret  "); print("second line")\''
    assert resolve_password(None, command, {}) == "s3cret"
    # No shell: a ";" is just an argument to echo.
    assert resolve_password(None, "echo 'a; rm -rf /'", {"PATH": "/usr/bin:/bin"}) == "a; rm -rf /"


def test_command_sees_the_given_environment() -> None:
    command = f"{sys.executable} -c 'import os; print(os.environ[\"VAULT\"])'"
    assert resolve_password(None, command, {"VAULT": "from-env"}) == "from-env"


def test_failing_command_never_shows_the_secret() -> None:
    script = "import sys; print('s3cret'); print('oops s3cret', file=sys.stderr); sys.exit(3)"
    with pytest.raises(ConfigInvalid) as caught:
        resolve_password(None, f'{sys.executable} -c "{script}"', {})
    assert "exit code 3" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_missing_program_and_empty_output() -> None:
    with pytest.raises(ConfigInvalid, match="program not found"):
        resolve_password(None, "no-such-password-helper-xyz", {})
    with pytest.raises(ConfigInvalid, match="printed no password"):
        resolve_password(None, f"{sys.executable} -c pass", {})
