"""Where `steervote login` keeps a refresh token: the operating system's keyring, or where
there is none (a headless server), a file only its owner can read in the user's config
directory. Access tokens are never written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path

from steervote.errors import InvalidInput

SERVICE = "steervote"
FILE_NAME = "oauth2-refresh-tokens.json"


class RefreshTokens:
    """Refresh tokens by key (token endpoint, client id, account), in the keyring or a file.

    The keyring is the `keyring` package's choice for this user (macOS Keychain, Windows
    Credential Locker, the Secret Service on a Linux desktop); where it has none (its
    "fail" or "null" backend), the file `FILE_NAME` in platformdirs' user config directory,
    created with mode 0600 in a 0700 folder, is used instead.
    """

    def __init__(self, directory: Path | None = None) -> None:
        if directory is None:
            import platformdirs

            directory = Path(platformdirs.user_config_dir("steervote"))
        self.path = directory / FILE_NAME

    def _keyring(self) -> object | None:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
        return None if isinstance(backend, fail.Keyring | null.Keyring) else backend

    def where(self) -> str:
        """Where a token saved now would go, in words."""
        backend = self._keyring()
        if backend is not None:
            return f"the system keyring ({type(backend).__module__.rsplit('.', 1)[-1]})"
        return f"{self.path} (readable only by you; no system keyring here)"

    def load(self, key: str) -> str | None:
        """The refresh token saved under key, or None."""
        backend = self._keyring()
        if backend is not None:
            import keyring

            token = keyring.get_password(SERVICE, key)
            if token:
                return token
        return self._read().get(key)

    def save(self, key: str, token: str) -> str:
        """Save the refresh token; return where it went, in words."""
        backend = self._keyring()
        if backend is not None:
            import keyring

            keyring.set_password(SERVICE, key, token)
            return self.where()
        tokens = self._read()
        tokens[key] = token
        self._write(tokens)
        return self.where()

    def forget(self, key: str) -> list[str]:
        """Remove the token under key from the keyring and the file; where it was."""
        removed = []
        backend = self._keyring()
        if backend is not None:
            import keyring
            from keyring.errors import PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError):
                keyring.delete_password(SERVICE, key)
                removed.append(self.where())
        tokens = self._read()
        if key in tokens:
            del tokens[key]
            self._write(tokens)
            removed.append(str(self.path))
        return removed

    def _read(self) -> dict[str, str]:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise InvalidInput(f"{self.path}: cannot be read: {e.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
                # As ssh does with a private key: a token others can read is not used.
                raise InvalidInput(
                    f"{self.path}: readable by others (mode {stat.S_IMODE(info.st_mode):o}): "
                    f"run `chmod 600 {self.path}`, or `steervote logout` and sign in again"
                )
            try:
                data = json.loads(f.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise InvalidInput(
                    f"{self.path}: not a steervote token file; remove it and sign in again"
                ) from None
        if not isinstance(data, dict):
            raise InvalidInput(f"{self.path}: not a steervote token file; remove it")
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, tokens: dict[str, str]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(tokens, f, indent=1, sort_keys=True)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
