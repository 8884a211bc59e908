"""A small OAuth2 authorization server for tests, on 127.0.0.1 (test infrastructure only).

It plays Google's and Microsoft's part: the authorization endpoint (a user who signs in at
once and is sent back to the client's loopback redirect, with PKCE S256 checked, RFC 7636),
the device authorization endpoint and its approval page (RFC 8628), the token endpoint
(authorization_code, refresh_token with rotation, device_code), token introspection
(RFC 7662, for Dovecot's oauth2 passdb and the test SMTP server) and revocation (RFC 7009).

The client-facing endpoints are served over HTTPS with the test CA (as providers are); the
same endpoints are also on a plain-HTTP port for Dovecot's introspection, so Dovecot needs
no CA set-up. Tests steer it directly: issue a token, expire or revoke tokens, approve a
device code as the user would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from servers import HOST, Certificate

CLIENT_ID = "steervote-test-client"
SCOPE = "mail"


@dataclass
class _Access:
    username: str
    expires: float
    scope: str
    refresh: str | None = None


@dataclass
class _Device:
    client_id: str
    scope: str
    user_code: str
    expires: float
    approved_as: str | None = None
    polls: int = 0


@dataclass
class OAuthState:
    """Everything the server knows; tests read and change it under `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    access: dict[str, _Access] = field(default_factory=dict)
    refresh: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (user, scope)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    devices: dict[str, _Device] = field(default_factory=dict)
    refreshes: int = 0  # refresh grants answered
    introspections: int = 0


class OAuthServer:
    """The server: `url` (HTTPS) for steervote, `http_url` for Dovecot's introspection."""

    def __init__(self, certificate: Certificate) -> None:
        self.state = OAuthState()
        self.access_lifetime = 3600  # seconds, as expires_in
        self.rotate_refresh_tokens = True  # as Microsoft does
        self.device_interval = 1  # seconds a client waits between polls
        self.user = "secretary"  # who signs in at the authorization endpoint
        self.deny = False  # the user says no
        self._certificate = certificate
        handler = _handler(self)
        self._https = ThreadingHTTPServer((HOST, 0), handler)
        self._https.daemon_threads = True
        self._https.socket = certificate.server_context().wrap_socket(
            self._https.socket, server_side=True
        )
        self._http = ThreadingHTTPServer((HOST, 0), handler)
        self._http.daemon_threads = True
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self._https, self._http)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self._https.server_address[1]}"

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self._http.server_address[1]}"

    def stop(self) -> None:
        for server in (self._https, self._http):
            server.shutdown()
            server.server_close()

    # --- what tests do ------------------------------------------------------------------

    def issue(self, username: str, lifetime: float | None = None) -> str:
        """A fresh access token for `username` (as a token command's program would get)."""
        token = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.access[token] = _Access(
                username, time.time() + (lifetime or self.access_lifetime), SCOPE
            )
        return token

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired (introspection: inactive)."""
        with self.state.lock:
            for access in self.state.access.values():
                access.expires = 0

    def revoke_everything(self) -> None:
        with self.state.lock:
            self.state.access.clear()
            self.state.refresh.clear()

    def active(self, token: str) -> str | None:
        """The user an access token belongs to while it is active, else None."""
        with self.state.lock:
            self.state.introspections += 1
            access = self.state.access.get(token)
            if access is None or access.expires <= time.time():
                return None
            return access.username

    def approve(self, user_code: str, username: str) -> None:
        """Play the user at the verification page: enter the code, sign in, approve."""
        body = urlencode({"user_code": user_code, "username": username}).encode()
        request = urllib.request.Request(f"{self.url}/device/approve", data=body)  # noqa: S310
        context = self._certificate.client_context()
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
            assert response.status == 200

    def follow(self, authorize_url: str) -> str:
        """Play the user's browser: open the authorization address (the user signs in at
        once), then follow the redirect to the client's loopback address. Returns the page
        the client shows."""
        context = self._certificate.client_context()
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect()
        )
        with opener.open(authorize_url, timeout=10) as response:
            location = response.headers["Location"]
        assert location.startswith("http://127.0.0.1:"), location
        with urllib.request.urlopen(location, timeout=10) as page:  # noqa: S310 (loopback)
            return str(page.read().decode())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        return fp


def _handler(server: OAuthServer) -> type[BaseHTTPRequestHandler]:
    state = server.state

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", client)
                form.setdefault("client_secret", secret)
            return form

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _error(self, error: str, status: int = 400) -> None:
            self._json(status, {"error": error, "error_description": f"test server: {error}"})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path != "/authorize":
                self.send_error(404)
                return
            if (
                q.get("response_type") != "code"
                or q.get("client_id") != CLIENT_ID
                or q.get("code_challenge_method") != "S256"
                or not q.get("code_challenge")
                or not q.get("redirect_uri", "").startswith("http://127.0.0.1:")
            ):
                self.send_error(400, "bad authorization request")
                return
            if server.deny:
                target = {"error": "access_denied", "state": q.get("state", "")}
            else:
                code = secrets.token_urlsafe(16)
                with state.lock:
                    state.codes[code] = {
                        "challenge": q["code_challenge"],
                        "redirect_uri": q["redirect_uri"],
                        "user": q.get("login_hint") or server.user,
                        "scope": q.get("scope", SCOPE),
                    }
                target = {"code": code, "state": q.get("state", "")}
            self.send_response(302)
            self.send_header("Location", f"{q['redirect_uri']}?{urlencode(target)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            form = self._form()
            if path == "/introspect":
                user = server.active(form.get("token", ""))
                body: dict[str, Any] = {"active": False}
                if user is not None:
                    body = {"active": True, "username": user, "scope": SCOPE}
                self._json(200, body)
            elif path == "/revoke":
                with state.lock:
                    state.refresh.pop(form.get("token", ""), None)
                    state.access.pop(form.get("token", ""), None)
                self._json(200, {})
            elif path == "/device":
                if form.get("client_id") != CLIENT_ID:
                    self._error("invalid_client", 401)
                    return
                device_code = secrets.token_urlsafe(24)
                user_code = f"{secrets.randbelow(10_000):04d}-{secrets.randbelow(10_000):04d}"
                with state.lock:
                    state.devices[device_code] = _Device(
                        CLIENT_ID, form.get("scope", SCOPE), user_code, time.time() + 600
                    )
                self._json(
                    200,
                    {
                        "device_code": device_code,
                        "user_code": user_code,
                        "verification_uri": f"{server.url}/device",
                        "expires_in": 600,
                        "interval": server.device_interval,
                    },
                )
            elif path == "/device/approve":
                with state.lock:
                    found = [
                        d for d in state.devices.values() if d.user_code == form.get("user_code")
                    ]
                    for d in found:
                        d.approved_as = form["username"]
                self._json(200 if found else 404, {})
            elif path == "/token":
                self._token(form)
            else:
                self.send_error(404)

        def _token(self, form: dict[str, str]) -> None:
            if form.get("client_id") != CLIENT_ID:
                self._error("invalid_client", 401)
                return
            grant = form.get("grant_type")
            with state.lock:
                if grant == "authorization_code":
                    found = state.codes.pop(form.get("code", ""), None)
                    verifier = form.get("code_verifier", "")
                    challenge = (
                        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                        .rstrip(b"=")
                        .decode()
                    )
                    if (
                        found is None
                        or found["redirect_uri"] != form.get("redirect_uri")
                        or found["challenge"] != challenge
                    ):
                        self._error("invalid_grant")
                        return
                    user, scope = found["user"], found["scope"]
                elif grant == "refresh_token":
                    old = form.get("refresh_token", "")
                    if old not in state.refresh:
                        self._error("invalid_grant")
                        return
                    user, scope = state.refresh[old]
                    state.refreshes += 1
                    if server.rotate_refresh_tokens:
                        del state.refresh[old]
                    else:
                        self._json(200, self._grant(user, scope, refresh=old))
                        return
                elif grant == "urn:ietf:params:oauth:grant-type:device_code":
                    device = state.devices.get(form.get("device_code", ""))
                    if device is None:
                        self._error("invalid_grant")
                        return
                    device.polls += 1
                    if device.approved_as is None:
                        self._error("authorization_pending")
                        return
                    del state.devices[form["device_code"]]
                    user, scope = device.approved_as, device.scope
                else:
                    self._error("unsupported_grant_type")
                    return
                self._json(200, self._grant(user, scope))

        def _grant(self, user: str, scope: str, refresh: str | None = None) -> dict[str, Any]:
            # Called under state.lock.
            access = secrets.token_urlsafe(24)
            refresh = refresh or secrets.token_urlsafe(32)
            state.access[access] = _Access(user, time.time() + server.access_lifetime, scope)
            state.refresh[refresh] = (user, scope)
            return {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": server.access_lifetime,
                "refresh_token": refresh,
                "scope": scope,
            }

    return Handler


def start_oauth(certificate: Certificate) -> OAuthServer:
    """Start the server on two free loopback ports (HTTPS and HTTP)."""
    return OAuthServer(certificate)
