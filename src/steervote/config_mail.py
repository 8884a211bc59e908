"""The sign-in and sending parts of steervote.toml: provider presets (providers.toml), how
[imap] and [smtp] sign in (a password or an OAuth2 access token), the [oauth2] section
that `steervote login` uses, and the [smtp] sending limits.

Everything here is read once, when the config is loaded, into frozen values; no secret is
read (client secrets and tokens are resolved only when connecting).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from steervote.config_problems import SettingProblems as SettingProblems
from steervote.config_problems import shown as shown
from steervote.config_problems import text as text
from steervote.core.fields import did_you_mean
from steervote.errors import ConfigInvalid

Auth = Literal["password", "oauth2"]
Flow = Literal["device", "loopback"]
MECHANISMS = ("xoauth2", "oauthbearer")
OAUTH2_PROVIDERS = ("google", "microsoft", "custom")

# The keys these parts add to [imap] and [smtp], and the [oauth2] section.
SERVER_KEYS = {"provider", "auth", "oauth2_token_command", "oauth2_mechanism"}
SMTP_KEYS = {"max_per_minute", "max_per_day"}
OAUTH2_KEYS = {
    "provider",
    "client_id",
    "client_secret_env",
    "client_secret_command",
    "tenant",
    "authorize_url",
    "token_url",
    "device_url",
    "revoke_url",
    "scopes",
    "flow",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    security: str


@dataclass(frozen=True, slots=True)
class MailPreset:
    """A mail provider from providers.toml: its servers, sign-in and sending limits."""

    name: str
    label: str
    imap: Endpoint
    smtp: Endpoint
    auth: Auth
    oauth2: str | None
    max_per_minute: int | None
    max_per_day: int | None


@dataclass(frozen=True, slots=True)
class OAuth2Settings:
    """The built-in sign-in (`steervote login`): the OAuth2 client registered with the
    provider and its endpoints. The client secret is named, never held."""

    provider: str
    label: str
    client_id: str
    token_url: str
    scopes: tuple[str, ...]
    flow: Flow
    authorize_url: str | None = None
    device_url: str | None = None
    revoke_url: str | None = None
    client_secret_env: str | None = None
    client_secret_command: str | None = None
    # Extra authorization request parameters the provider needs (Google: access_type).
    authorize_params: tuple[tuple[str, str], ...] = ()


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("steervote").joinpath("providers.toml").read_text("utf-8")
    return tomllib.loads(text)


def mail_presets() -> dict[str, MailPreset]:
    """Every mail provider steervote knows, by the name used in `provider = "..."`."""
    out = {}
    for name, p in _data()["mail"].items():
        out[name] = MailPreset(
            name=name,
            label=p["label"],
            imap=Endpoint(**p["imap"]),
            smtp=Endpoint(**p["smtp"]),
            auth=p["auth"],
            oauth2=p.get("oauth2"),
            max_per_minute=p.get("max_per_minute"),
            max_per_day=p.get("max_per_day"),
        )
    return out


def preset_of(body: dict[str, Any], section: str, where: str) -> MailPreset | None:
    """The preset `provider` names in [imap] or [smtp]; ConfigInvalid for an unknown one."""
    name = body.get("provider")
    if name is None:
        return None
    presets = mail_presets()
    if not isinstance(name, str) or name not in presets:
        raise ConfigInvalid(
            f"{where}: [{section}] provider: {shown(name)} is not one steervote knows"
            f"{did_you_mean(name, presets) if isinstance(name, str) else ''} "
            f"(known: {', '.join(sorted(presets))}; or leave it out and give host, port "
            "and security)"
        )
    return presets[name]


_TLS_PORTS = (993, 465)  # implicit TLS (RFC 8314)
_STARTTLS_PORTS = (143, 587)  # STARTTLS (RFC 3501, RFC 6409)


def endpoint(
    body: dict[str, Any], section: str, where: str, preset: MailPreset | None
) -> tuple[str | None, Any, str]:
    """(host, port, security) as written, else from the preset, else the defaults: with no
    port and no security, implicit TLS (RFC 8314) on 993 or 465; without a preset, a port
    of 993 or 465 alone means TLS too, any other port alone STARTTLS; with one, its
    security stands unless security is written. Explicit settings always win."""
    base = getattr(preset, section) if preset is not None else None
    host = body.get("host", base.host if base else None)
    port = body.get("port")
    security = body.get("security")
    if security is None:
        if base is not None and port not in _STARTTLS_PORTS + _TLS_PORTS:
            # The preset's security stands unless security itself is written: a port of no
            # standard meaning given alone (a local relay of the same service) keeps it.
            security = base.security
        elif port in _STARTTLS_PORTS:
            security = "starttls"
        else:
            security = "ssl" if port is None or port in (993, 465) else "starttls"
    if port is None and base is not None and security == base.security:
        port = base.port
    return host, port, security


def server_auth(
    body: dict[str, Any], section: str, where: str, preset: MailPreset | None
) -> dict[str, Any]:
    """The sign-in fields of ServerSettings: auth, oauth2_token_command, oauth2_mechanism.

    A preset's auth applies unless a password is configured (Gmail with an app password).
    """
    has_password = bool(body.get("password_env") or body.get("password_command"))
    auth = body.get("auth")
    if auth is None:
        auth = preset.auth if preset is not None and not has_password else "password"
        if body.get("oauth2_token_command"):
            auth = "oauth2"
    found = SettingProblems()
    command = found.check(text, body, "oauth2_token_command", section, where)
    mechanism = found.check(text, body, "oauth2_mechanism", section, where)
    if mechanism is not None and mechanism.lower() not in MECHANISMS:
        found.add(
            f'{where}: [{section}] oauth2_mechanism: expected "xoauth2" or "oauthbearer", '
            f"got {shown(mechanism)}"
        )
    if auth not in ("password", "oauth2"):
        found.add(f'{where}: [{section}] auth: expected "password" or "oauth2", got {shown(auth)}')
    elif auth == "oauth2":
        if has_password:
            found.add(
                f'{where}: [{section}]: auth = "oauth2" signs in with a token, not a password: '
                'remove password_env/password_command, or set auth = "password"'
            )
        if not body.get("username"):
            found.add(
                f'{where}: [{section}] username: required with auth = "oauth2" (the mailbox\'s '
                "address, e.g. secretary@example.org)"
            )
    elif command is not None:
        found.add(f'{where}: [{section}] oauth2_token_command: only with auth = "oauth2"')
    found.raise_lines()
    return {
        "auth": cast(Auth, auth),
        "oauth2_token_command": command,
        "oauth2_mechanism": mechanism.lower() if mechanism else None,
        "provider": preset.name if preset is not None else None,
    }


def limits(body: dict[str, Any], where: str, preset: MailPreset | None) -> dict[str, Any]:
    """[smtp] max_per_minute and max_per_day: as written, else the preset's, else none."""
    out = {}
    found = SettingProblems()
    for key in ("max_per_minute", "max_per_day"):
        value = body.get(key, getattr(preset, key) if preset is not None else None)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            found.add(
                f"{where}: [smtp] {key}: expected a whole number of messages (1 or more), "
                f"got {shown(value)}"
            )
        out[key] = value
    found.raise_lines()
    return out


def oauth2_settings(
    body: dict[str, Any] | None, where: str, presets: list[MailPreset]
) -> OAuth2Settings | None:
    """The [oauth2] section, filled in from the provider's sign-in preset; None if absent.

    `provider` may be left out when [imap]/[smtp] name a mail provider that has one
    (gmail: google; microsoft365: microsoft).
    """
    if body is None:
        return None
    implied = next((p.oauth2 for p in presets if p.oauth2), None)
    provider = body.get("provider", implied)
    if provider not in OAUTH2_PROVIDERS:
        raise ConfigInvalid(
            f"{where}: [oauth2] provider: expected one of {', '.join(OAUTH2_PROVIDERS)}, "
            f"got {shown(provider) if provider is not None else 'none'}"
        )
    base: dict[str, Any] = dict(_data()["oauth2"].get(provider, {"label": "custom"}))
    tenant = body.get("tenant", base.get("tenant"))
    found = SettingProblems()
    if "tenant" in body and provider != "microsoft":
        found.add(f'{where}: [oauth2] tenant: only for provider = "microsoft"')
    client_id = found.check(text, body, "client_id", "oauth2", where)
    if client_id == "" or (client_id is None and "client_id" not in body):
        found.add(
            f"{where}: [oauth2] client_id: required (the id of the app you registered with "
            "the provider; see the README's sign-in recipes)"
        )
    if body.get("client_secret_env") and body.get("client_secret_command"):
        found.add(f"{where}: [oauth2]: set client_secret_env or client_secret_command, not both")
    secret_env = found.check(text, body, "client_secret_env", "oauth2", where)
    secret_command = found.check(text, body, "client_secret_command", "oauth2", where)
    urls = {key: found.check(_url, body, key, base, tenant, where) for key in _URL_KEYS}
    if urls["token_url"] is None and "token_url" not in body:
        found.add(f'{where}: [oauth2] token_url: required with provider = "custom"')
    scopes = body.get("scopes", base.get("scopes"))
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        found.add(f"{where}: [oauth2] scopes: expected a list of scope names, got {shown(scopes)}")
    flow = body.get("flow", base.get("flow") or ("device" if urls["device_url"] else "loopback"))
    if flow not in ("device", "loopback"):
        found.add(f'{where}: [oauth2] flow: expected "device" or "loopback", got {shown(flow)}')
    elif urls["device_url" if flow == "device" else "authorize_url"] is None:
        need = "device_url" if flow == "device" else "authorize_url"
        found.add(f'{where}: [oauth2] {need}: required with flow = "{flow}"')
    found.raise_lines()
    assert client_id and urls["token_url"] is not None and isinstance(scopes, list)
    label = base["label"] if provider != "custom" else urlsplit(urls["token_url"]).netloc
    return OAuth2Settings(
        provider=provider,
        label=label,
        client_id=client_id,
        token_url=urls["token_url"],
        scopes=tuple(scopes),
        flow=cast(Flow, flow),
        authorize_url=urls["authorize_url"],
        device_url=urls["device_url"],
        revoke_url=urls["revoke_url"],
        client_secret_env=secret_env,
        client_secret_command=secret_command,
        authorize_params=tuple(sorted(base.get("authorize_params", {}).items())),
    )


_URL_KEYS = ("authorize_url", "token_url", "device_url", "revoke_url")


def _url(
    body: dict[str, Any], key: str, base: dict[str, Any], tenant: object, where: str
) -> str | None:
    """An [oauth2] endpoint as written, else the provider's; ConfigInvalid unless https."""
    url = text(body, key, "oauth2", where) or base.get(key)
    if url is None:
        return None
    url = url.replace("{tenant}", str(tenant))
    if not url.startswith("https://"):
        raise ConfigInvalid(
            f"{where}: [oauth2] {key}: expected an https:// address, got {shown(url)}"
        )
    return url
