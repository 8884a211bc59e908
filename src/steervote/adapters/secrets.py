"""Mail passwords come from an environment variable or a command, never from a file we read."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping

from steervote.errors import ConfigInvalid

COMMAND_TIMEOUT = 60  # seconds; a password manager may ask for a passphrase first.


def resolve_password(
    password_env: str | None, password_command: str | None, env: Mapping[str, str]
) -> str | None:
    """The password named by password_env, or the first line a password_command prints.

    No shell is involved: the command is split like a shell would (shlex) and run
    directly. Errors name the setting, never the secret.
    """
    if password_env and password_command:
        raise ConfigInvalid("password_env and password_command are both set: choose one")
    if password_env:
        value = env.get(password_env)
        if not value:
            raise ConfigInvalid(
                f"password_env: the environment variable {password_env} is not set or empty"
            )
        return value
    if password_command:
        return _run(password_command, env)
    return None


def _run(command: str, env: Mapping[str, str]) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise ConfigInvalid(f"password_command cannot be parsed: {error}") from None
    if not argv:
        raise ConfigInvalid("password_command is empty")
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigInvalid(f"password_command: program not found: {argv[0]}") from None
    except PermissionError:
        raise ConfigInvalid(f"password_command: not allowed to run {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise ConfigInvalid(
            f"password_command: {argv[0]} did not finish within {COMMAND_TIMEOUT}s"
        ) from None
    stdout = result.stdout.decode("utf-8", "replace")
    lines = stdout.splitlines()
    password = lines[0].strip() if lines else ""
    if result.returncode != 0:
        # Say what went wrong from stderr, but never echo anything the command printed
        # on stdout: that is where a secret would be.
        detail = _first_line(result.stderr.decode("utf-8", "replace"))
        for secret in {line.strip() for line in lines if line.strip()}:
            detail = detail.replace(secret, "***")
        suffix = f": {detail}" if detail else ""
        raise ConfigInvalid(
            f"password_command: {argv[0]} failed with exit code {result.returncode}{suffix}"
        )
    if not password:
        raise ConfigInvalid(f"password_command: {argv[0]} printed no password")
    return password


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""
