"""OAuth2 access tokens for IMAP and SMTP sign-in: from a command, or from the refresh
token the built-in sign-in (`steervote login`, adapters.oauth_login) kept in token_store.

The refresh grant (RFC 6749 §6) is authlib's. Access tokens live in memory only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from steervote.adapters.secrets import resolve_password, run_secret_command
from steervote.adapters.token_store import RefreshTokens
from steervote.config_mail import OAuth2Settings
from steervote.errors import ConfigInvalid, SignInNeeded

HTTP_TIMEOUT = 30  # seconds for one request to the provider
LEEWAY = 60  # an access token this close to its expiry is refreshed first


class AccessTokens(Protocol):
    """Where IMAP and SMTP get an access token each time they sign in."""

    @property
    def source(self) -> str:
        """Where tokens come from, in words ("oauth2_token_command", "steervote login")."""
        ...

    @property
    def remedy(self) -> str:
        """What to do when the server refuses a token, in words."""
        ...

    def access_token(self) -> str:
        """A current access token; SignInNeeded or ConfigInvalid when there is none."""
        ...


MAX_TOKEN = 16_384  # characters: real access tokens are a few hundred to a few thousand
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True, slots=True)
class CommandTokens:
    """Tokens printed by `oauth2_token_command` (like mbsync's PassCmd with oama or
    mutt_oauth2.py): run each time a token is needed, under resolve_password's rules."""

    command: str
    env: Mapping[str, str]
    source: str = "oauth2_token_command"
    remedy: str = "check what oauth2_token_command prints (run it yourself; sign in again there)"

    def access_token(self) -> str:
        token = run_secret_command(
            self.command, self.env, setting="oauth2_token_command", what="access token"
        )
        # An access token is a short run of ASCII (RFC 6750 b64token): anything else (a
        # page of output, another encoding) would hang or break a sign-in, never work.
        if len(token) > MAX_TOKEN or not _B64TOKEN.fullmatch(token):
            raise ConfigInvalid(
                f"oauth2_token_command printed {len(token):,} characters that are not an "
                f"access token (at most {MAX_TOKEN:,} ASCII letters, digits and -._~+/=)"
            )
        return token

    def __repr__(self) -> str:
        return "CommandTokens(oauth2_token_command)"


def token_key(oauth: OAuth2Settings, account: str) -> str:
    """The name a refresh token is kept under: one per token endpoint, client and account."""
    return f"{oauth.token_url} {oauth.client_id} {account.lower()}"


def session_for(oauth: OAuth2Settings, env: Mapping[str, str], **kwargs: Any) -> Any:
    """An authlib OAuth2Session for the client, its secret resolved (never held in config);
    `kwargs` go to OAuth2Session (redirect_uri, code_challenge_method)."""
    from authlib.integrations.requests_client import OAuth2Session

    secret = resolve_password(oauth.client_secret_env, None, env)
    if secret is None and oauth.client_secret_command:
        secret = run_secret_command(
            oauth.client_secret_command, env, setting="client_secret_command", what="secret"
        )
    return OAuth2Session(
        client_id=oauth.client_id,
        client_secret=secret,
        # A public client (no secret) names itself in the body (RFC 6749 §2.3, 3.2.1);
        # Google's desktop clients send their secret in the body too.
        token_endpoint_auth_method="client_secret_post" if secret else "none",
        scope=" ".join(oauth.scopes),
        default_timeout=HTTP_TIMEOUT,
        **kwargs,
    )


class SignedInTokens:
    """Access tokens from the refresh token `steervote login` kept: refreshed (RFC 6749 §6)
    when none is held in memory or it expires within LEEWAY seconds; a refresh token the
    provider rotates is kept in its place."""

    def __init__(
        self,
        oauth: OAuth2Settings,
        account: str,
        env: Mapping[str, str],
        store: RefreshTokens | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.oauth = oauth
        self.account = account
        self._env = env
        self._store = store or RefreshTokens()
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.source = f"steervote login ({oauth.label})"
        self.remedy = "run `steervote login` to sign in again"

    def __repr__(self) -> str:
        return f"SignedInTokens({self.oauth.label}, {self.account!r})"

    def access_token(self) -> str:
        if self._token is not None and self._clock() < self._expires_at - LEEWAY:
            return self._token
        key = token_key(self.oauth, self.account)
        refresh = self._store.load(key)
        if refresh is None:
            raise SignInNeeded(
                f"{self.account} is not signed in to {self.oauth.label}: run `steervote login`"
            )
        from authlib.common.errors import AuthlibBaseError as OAuthError
        from requests import RequestException

        session = session_for(self.oauth, self._env)
        try:
            token = session.refresh_token(self.oauth.token_url, refresh_token=refresh)
        except OAuthError as e:
            raise SignInNeeded(
                f"{self.oauth.label} refused the sign-in of {self.account} ({e.error}): "
                "it expired or was revoked; run `steervote login`"
            ) from None
        except RequestException as e:
            raise SignInNeeded(
                f"cannot reach {self.oauth.label}'s token endpoint {self.oauth.token_url}: "
                f"{type(e).__name__}"
            ) from None
        finally:
            session.close()
        if token.get("refresh_token") and token["refresh_token"] != refresh:
            self._store.save(key, token["refresh_token"])
        self._token = str(token["access_token"])
        self._expires_at = float(token.get("expires_at") or self._clock() + 3600)
        return self._token


def tokens_for(
    auth: str,
    token_command: str | None,
    oauth: OAuth2Settings | None,
    account: str | None,
    env: Mapping[str, str],
) -> AccessTokens | None:
    """Where a server signed in with OAuth2 gets its access tokens: `token_command`, else
    the built-in sign-in (`oauth`, for `account`); None for a password."""
    if auth != "oauth2":
        return None
    if token_command:
        return CommandTokens(token_command, env)
    if oauth is None or not account:
        raise SignInNeeded('auth = "oauth2" needs oauth2_token_command or an [oauth2] section')
    return SignedInTokens(oauth, account, env)
