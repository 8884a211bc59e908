"""Mail passwords and tokens come from an environment variable or a command, never from a
file we read."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping

from steervote.errors import ConfigInvalid

COMMAND_TIMEOUT = 60  # seconds; a password manager may ask for a passphrase first.


def resolve_password(
    password_env: str | None,
    password_command: str | None,
    env: Mapping[str, str],
    *,
    timeout: float = COMMAND_TIMEOUT,
) -> str | None:
    """The password named by password_env, or the first line a password_command prints.

    No shell is involved: the command is split like a shell would (shlex) and run
    directly, in a process group of its own, all of which is killed after `timeout`
    seconds. Errors name the setting and the exit code, never the secret and never what
    the command wrote on stderr (a failing password manager may print the secret there).
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
        return run_secret_command(password_command, env, timeout=timeout)
    return None


def run_secret_command(
    command: str,
    env: Mapping[str, str],
    *,
    setting: str = "password_command",
    what: str = "password",
    timeout: float = COMMAND_TIMEOUT,
) -> str:
    """The first line `command` prints: a password, an access token (oauth2_token_command)
    or a client secret. The rules of resolve_password hold; errors name `setting`."""
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise ConfigInvalid(f"{setting} cannot be parsed: {error}") from None
    if not argv:
        raise ConfigInvalid(f"{setting} is empty")
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            start_new_session=True,  # its own process group: a timeout ends all of it
        )
    except FileNotFoundError:
        raise ConfigInvalid(f"{setting}: program not found: {argv[0]}") from None
    except PermissionError:
        raise ConfigInvalid(f"{setting}: not allowed to run {argv[0]}") from None
    except OSError as error:
        raise ConfigInvalid(f"{setting}: cannot run {argv[0]}: {error.strerror}") from None
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ConfigInvalid(
            f"{setting}: {argv[0]} did not finish within {timeout:g}s and was stopped "
            "(does it wait for a passphrase? steervote gives it no terminal)"
        ) from None
    lines = stdout.decode("utf-8", "replace").splitlines()
    password = lines[0].strip() if lines else ""
    if process.returncode != 0:
        raise ConfigInvalid(
            f"{setting}: {argv[0]} failed with exit code {process.returncode} "
            f"(what it printed is not shown, as it may hold the secret; run it yourself to see)"
        )
    if not password:
        raise ConfigInvalid(f"{setting}: {argv[0]} printed no {what}")
    return password


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command's whole process group and reap the command."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)
