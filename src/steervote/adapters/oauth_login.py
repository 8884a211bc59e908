"""Signing the mailbox account in once (`steervote login`) and out (`logout`).

The protocol work is authlib's (OAuth2Session: the authorization-code grant with PKCE,
RFC 6749 and 7636; the device-code grant, RFC 8628, as a token request; revocation,
RFC 7009). What is ours is the glue: the device authorization request and its polling loop
(RFC 8628 §3.1, §3.5: authlib has no client side for them), the loopback listener that
receives the redirect (RFC 8252 §7.3), and keeping the refresh token (token_store).
"""

from __future__ import annotations

import http.server
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from steervote.adapters.oauth import session_for, token_key
from steervote.adapters.token_store import RefreshTokens
from steervote.config_mail import OAuth2Settings
from steervote.errors import SignInNeeded


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What `login` did: who signed in, where the refresh token went."""

    account: str
    provider: str
    stored_in: str


def login(
    oauth: OAuth2Settings,
    account: str,
    env: Mapping[str, str],
    say: Callable[[str], None],
    *,
    store: RefreshTokens | None = None,
    open_browser: bool = True,
    timeout: float = 600,
) -> SignedIn:
    """Sign `account` in with the settings' flow and keep the refresh token.

    `say` shows the user what to do (a code and an address, or an address to open).
    SignInNeeded when the provider refuses, the user does not finish within `timeout`
    seconds, or no refresh token is issued.
    """
    from authlib.common.errors import AuthlibBaseError as OAuthError
    from requests import RequestException

    store = store or RefreshTokens()
    try:
        if oauth.flow == "device":
            token = _device(oauth, env, say, timeout)
        else:
            token = _loopback(oauth, account, env, say, open_browser, timeout)
    except OAuthError as e:
        detail = f": {e.description}" if getattr(e, "description", None) else ""
        raise SignInNeeded(f"{oauth.label} refused the sign-in ({e.error}{detail})") from None
    except RequestException as e:
        raise SignInNeeded(f"cannot reach {oauth.label}: {type(e).__name__}: {e}") from None
    refresh = token.get("refresh_token")
    if not refresh:
        raise SignInNeeded(
            f"{oauth.label} signed you in but issued no refresh token, so steervote could not "
            "sign in again later: check the scopes (Microsoft needs offline_access)"
        )
    where = store.save(token_key(oauth, account), str(refresh))
    return SignedIn(account, oauth.label, where)


def logout(
    oauth: OAuth2Settings,
    account: str,
    env: Mapping[str, str],
    *,
    store: RefreshTokens | None = None,
) -> tuple[list[str], bool]:
    """Forget the account's refresh token; revoke it too where the provider has a revocation
    endpoint (RFC 7009). Returns (where it was removed from, whether it was revoked)."""
    from authlib.common.errors import AuthlibBaseError as OAuthError
    from requests import RequestException

    store = store or RefreshTokens()
    key = token_key(oauth, account)
    refresh = store.load(key)
    revoked = False
    if refresh is not None and oauth.revoke_url:
        session = session_for(oauth, env)
        try:
            response = session.revoke_token(
                oauth.revoke_url,
                token=refresh,
                token_type_hint="refresh_token",  # noqa: S106
            )
            revoked = response.status_code == 200
        except (OAuthError, RequestException):
            revoked = False  # Forgotten here all the same; the provider's page can revoke it.
        finally:
            session.close()
    return store.forget(key), revoked


def _device(
    oauth: OAuth2Settings, env: Mapping[str, str], say: Callable[[str], None], timeout: float
) -> dict[str, Any]:
    """RFC 8628: ask for a device and user code, show them, poll the token endpoint."""
    from authlib.integrations.base_client import OAuthError
    from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE

    assert oauth.device_url is not None
    session = session_for(oauth, env)
    try:
        response = session.post(
            oauth.device_url,
            data={"scope": " ".join(oauth.scopes)},
            auth=session.client_auth(session.token_endpoint_auth_method),
            withhold_token=True,
        )
        grant = response.json()
        if "error" in grant:
            raise OAuthError(error=grant["error"], description=grant.get("error_description"))
        uri = grant.get("verification_uri") or grant.get("verification_url")
        say(
            f"To sign in, open {uri} on any device and enter the code {grant['user_code']}"
            f" (within {int(grant.get('expires_in', 900)) // 60} minutes)."
        )
        interval = float(grant.get("interval", 5))
        deadline = time.monotonic() + min(float(grant.get("expires_in", 900)), timeout)
        while time.monotonic() < deadline:
            time.sleep(interval)
            try:
                return dict(
                    session.fetch_token(
                        oauth.token_url,
                        grant_type=DEVICE_CODE_GRANT_TYPE,
                        device_code=grant["device_code"],
                    )
                )
            except OAuthError as e:
                if e.error == "authorization_pending":
                    continue
                if e.error == "slow_down":
                    interval += 5  # RFC 8628 §3.5
                    continue
                raise
        raise SignInNeeded("the code was not entered in time: run `steervote login` again")
    finally:
        session.close()


class _Redirect(http.server.BaseHTTPRequestHandler):
    """Receives the one redirect the browser brings back to 127.0.0.1."""

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if "code" not in query and "error" not in query:
            self.send_error(404)
            return
        self.server.callback = self.path  # type: ignore[attr-defined]
        body = (
            b"steervote: signed in. You can close this window."
            if "code" in query
            else b"steervote: the sign-in was refused. You can close this window."
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # The query holds the authorization code: never logged.


def _loopback(
    oauth: OAuth2Settings,
    account: str,
    env: Mapping[str, str],
    say: Callable[[str], None],
    open_browser: bool,
    timeout: float,
) -> dict[str, Any]:
    """RFC 8252: the authorization code comes back to a port on 127.0.0.1, with PKCE."""
    from authlib.common.security import generate_token

    assert oauth.authorize_url is not None
    listener = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    listener.timeout = 1
    listener.callback = None  # type: ignore[attr-defined]
    redirect_uri = f"http://127.0.0.1:{listener.server_address[1]}/"
    session = session_for(oauth, env, redirect_uri=redirect_uri, code_challenge_method="S256")
    try:
        verifier = generate_token(64)
        url, state = session.create_authorization_url(
            oauth.authorize_url,
            code_verifier=verifier,
            login_hint=account,
            **dict(oauth.authorize_params),
        )
        say(f"To sign in as {account}, open this address in a browser on this computer:\n{url}")
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while listener.callback is None and time.monotonic() < deadline:  # type: ignore[attr-defined]
            listener.handle_request()
        callback = listener.callback  # type: ignore[attr-defined]
        if callback is None:
            raise SignInNeeded("the sign-in was not finished in time: run `steervote login` again")
        refused = parse_qs(urlsplit(callback).query).get("error")
        if refused:
            raise SignInNeeded(f"{oauth.label} refused the sign-in ({refused[0]})")
        return dict(
            session.fetch_token(
                oauth.token_url,
                authorization_response=redirect_uri.rstrip("/") + callback,
                code_verifier=verifier,
                state=state,
            )
        )
    finally:
        listener.server_close()
        session.close()
