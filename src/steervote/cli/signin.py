"""login and logout: the built-in OAuth2 sign-in of the mailbox account ([oauth2])."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from steervote.cli import app, consoles, settings_of
from steervote.errors import InvalidInput

if TYPE_CHECKING:
    from steervote.config import Settings
    from steervote.config_mail import OAuth2Settings


def _say(text: str) -> None:
    consoles.out.print(text, markup=False, highlight=False, soft_wrap=True)


def _account(settings: Settings) -> tuple[OAuth2Settings, str]:
    """The [oauth2] client and the one mailbox account signed in with it."""
    if settings.oauth2 is None:
        raise InvalidInput(
            "no [oauth2] section in the config: login signs in with the OAuth2 app you "
            "registered (see the README's sign-in recipes); with oauth2_token_command "
            "another program signs in"
        )
    accounts = {
        s.username.lower()
        for s in (settings.imap, settings.smtp)
        if s is not None and s.auth == "oauth2" and not s.oauth2_token_command and s.username
    }
    if not accounts:
        raise InvalidInput(
            'no [imap] or [smtp] signs in with auth = "oauth2" and the [oauth2] section: '
            "nothing to log in"
        )
    if len(accounts) > 1:
        raise InvalidInput(
            f"[imap] and [smtp] name different accounts ({', '.join(sorted(accounts))}); "
            "one [oauth2] sign-in serves one account"
        )
    return settings.oauth2, accounts.pop()


@app.command()
def login(
    ctx: typer.Context,
    no_browser: Annotated[
        bool,
        typer.Option("--no-browser", help="Only print the address to open (loopback flow)."),
    ] = False,
) -> None:
    """Sign the mailbox account in once (OAuth2) and keep the refresh token in the system
    keyring, or where there is none, in a file only you can read in your config folder.

    Microsoft: a code and an address are printed; sign in on any device (RFC 8628).
    Google: a browser opens Google's sign-in, which comes back to this computer (PKCE,
    RFC 8252). Access tokens are fetched when needed and never written to disk.

    Examples:

    \b
      steervote login
      steervote login --no-browser
    """
    from steervote.adapters import oauth_login as oauth

    settings = settings_of(ctx)
    client, account = _account(settings)
    signed = oauth.login(client, account, os.environ, _say, open_browser=not no_browser)
    _say(
        f"Signed in as {signed.account} with {signed.provider}. The refresh token is kept in "
        f"{signed.stored_in}; `steervote logout` forgets it."
    )


@app.command()
def logout(ctx: typer.Context) -> None:
    """Forget the refresh token `login` kept (and revoke it where the provider allows).

    Examples:

    \b
      steervote logout
    """
    from steervote.adapters import oauth_login as oauth

    settings = settings_of(ctx)
    client, account = _account(settings)
    removed, revoked = oauth.logout(client, account, os.environ)
    if not removed:
        _say(f"{account} was not signed in to {client.label} here: nothing to forget.")
        return
    _say(
        f"Signed out {account}: the refresh token was removed from {' and '.join(removed)}"
        + (f" and revoked at {client.label}." if revoked else ".")
    )
