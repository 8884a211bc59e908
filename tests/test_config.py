"""Settings from steervote.toml, $STEERVOTE_CONFIG, $STEERVOTE_DATABASE_URL, or defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from steervote.config import load_settings
from steervote.errors import ConfigInvalid


def test_no_config_is_valid_defaults(tmp_path: Path) -> None:
    s = load_settings(None, env={}, cwd=tmp_path)
    assert s.source is None and s.smtp is None and s.imap is None
    assert s.database_url == f"sqlite:///{tmp_path.resolve()}/steervote.db"
    assert s.outbox == tmp_path.resolve() / "mail" / "outbox"
    assert s.inbox == tmp_path.resolve() / "mail" / "inbox"


def test_config_file_paths_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "steervote.toml"
    path.write_text(
        '[ballot]\nfrom = "Sec <sec@x.example>"\nreply_to = "votes@x.example"\n'
        'plus_tokens = true\n[smtp]\nhost = "smtp.x.example"\nsecurity = "ssl"\n'
        'password_env = "SMTP_PW"\n[imap]\nhost = "imap.x.example"\nusername = "v"\n'
    )
    s = load_settings(None, env={"STEERVOTE_CONFIG": str(path)}, cwd=tmp_path)
    assert s.base_dir == path.parent.resolve()
    assert s.smtp is not None and s.smtp.port == 465 and s.smtp.password_env == "SMTP_PW"
    assert s.imap is not None and s.imap.port == 993 and s.imap.security == "ssl"  # RFC 8314
    assert s.ballot.plus_tokens and s.ballot.reply_to == "votes@x.example"
    assert "SMTP_PW" not in repr(s.smtp)


def test_database_url_from_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "steervote.toml").write_text('[database]\nurl = "sqlite:///a.db"\n')
    s = load_settings(None, env={"STEERVOTE_DATABASE_URL": "sqlite:///b.db"}, cwd=tmp_path)
    assert s.database_url == "sqlite:///b.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[smtp\n", "not valid TOML"),
        ("[mail]\n", "unknown section [mail]"),
        ('[smtp]\nhost = "h"\nsecurity = "tls"\n', "security"),
        ('[imap]\nhost = "h"\nport = 0\n', "port"),
        ('[imap]\nhost = "h"\npassword = "hunter2"\n', "password"),
        ('[imap]\nhost = "h"\npassword_env = "A"\npassword_command = "b"\n', "not both"),
        ('[ballot]\nfrom = "nobody"\n', "not an email address"),
        ("[tally]\nmax_message_bytes = 5\n", "max_message_bytes"),
    ],
)
def test_invalid_config_names_file_and_setting(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "steervote.toml").write_text(text)
    with pytest.raises(ConfigInvalid) as e:
        load_settings(None, env={}, cwd=tmp_path)
    assert message in str(e.value) and "steervote.toml" in str(e.value)
    assert "hunter2" not in str(e.value)


def test_a_problem_only_sending_has_is_kept_for_sending(tmp_path: Path) -> None:
    """[smtp] without [ballot] from and reply_to (the built-in ones reach no one through a
    real server): the settings load (a command that sends nothing runs), but sending, or
    checking that it would work, is refused with the problems."""
    (tmp_path / "steervote.toml").write_text('[smtp]\nhost = "h"\n')
    s = load_settings(None, env={}, cwd=tmp_path)
    said = "\n".join(
        f"{tmp_path / 'steervote.toml'}: [ballot] {key}: required when [smtp] is configured"
        for key in ("from", "reply_to")
    )
    with pytest.raises(ConfigInvalid) as e:
        s.check_sending()
    assert str(e.value) == said
    with pytest.raises(ConfigInvalid) as e:
        _ = s.ballot.sender
    assert str(e.value) == said


def test_missing_config_file_given_explicitly(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match="not found"):
        load_settings(tmp_path / "nope.toml", env={}, cwd=tmp_path)


# --- Issue 14: provider presets, OAuth2 sign-in, sending limits ------------------------------

BALLOT = '[ballot]\nfrom = "Sec <sec@x.example>"\n'


def _settings(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "steervote.toml").write_text(BALLOT + text)
    return load_settings(None, env={}, cwd=tmp_path)


def test_a_provider_preset_fills_servers_sign_in_and_limits(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        '[imap]\nprovider = "microsoft365"\nusername = "sec@x.example"\n'
        '[smtp]\nprovider = "microsoft365"\nusername = "sec@x.example"\nmax_per_day = 9000\n'
        '[oauth2]\nclient_id = "app-id"\ntenant = "organizations"\n',
    )
    assert s.imap is not None and s.smtp is not None and s.oauth2 is not None
    assert (s.imap.host, s.imap.port, s.imap.security) == ("outlook.office365.com", 993, "ssl")
    assert (s.smtp.host, s.smtp.port, s.smtp.security) == ("smtp.office365.com", 587, "starttls")
    assert s.imap.auth == s.smtp.auth == "oauth2"
    assert (s.smtp.max_per_minute, s.smtp.max_per_day) == (30, 9000)  # explicit wins
    assert s.oauth2.provider == "microsoft" and s.oauth2.flow == "device"
    assert s.oauth2.token_url == (
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
    )
    assert "offline_access" in s.oauth2.scopes


def test_explicit_settings_win_over_the_preset(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        '[imap]\nprovider = "gmail"\nhost = "127.0.0.1"\nport = 143\nusername = "u"\n'
        'password_env = "APP_PASSWORD"\n',
    )
    assert s.imap is not None
    assert (s.imap.host, s.imap.port, s.imap.security) == ("127.0.0.1", 143, "starttls")
    assert s.imap.auth == "password"  # an app password: the preset's oauth2 gives way


@pytest.mark.parametrize(
    ("lines", "port", "security"),
    [
        ("", 465, "ssl"),  # RFC 8314: implicit TLS by default
        ("port = 587\n", 587, "starttls"),
        ("port = 465\n", 465, "ssl"),
        ('security = "starttls"\n', 587, "starttls"),
        ('security = "none"\nport = 25\n', 25, "none"),
    ],
)
def test_default_security_is_implicit_tls(
    tmp_path: Path, lines: str, port: int, security: str
) -> None:
    s = _settings(tmp_path, f'[smtp]\nhost = "smtp.x.example"\n{lines}')
    assert s.smtp is not None and (s.smtp.port, s.smtp.security) == (port, security)


def test_oauth2_token_command_needs_no_oauth2_section(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        '[imap]\nhost = "imap.x.example"\nusername = "u@x.example"\n'
        'oauth2_token_command = "oama access u@x.example"\noauth2_mechanism = "OAUTHBEARER"\n',
    )
    assert s.imap is not None and s.imap.auth == "oauth2" and s.oauth2 is None
    assert s.imap.oauth2_mechanism == "oauthbearer"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[imap]\nhost = "h"\nprovider = "aol"\n', 'provider: "aol" is not one steervote knows'),
        ('[imap]\nhost = "h"\nauth = "oauth2"\nusername = "u"\n', "needs oauth2_token_command"),
        ('[imap]\nhost = "h"\nauth = "oauth2"\n', "username: required"),
        (
            '[imap]\nhost = "h"\nauth = "oauth2"\nusername = "u"\npassword_env = "P"\n',
            "signs in with a token, not a password",
        ),
        (
            '[imap]\nhost = "h"\nauth = "token"\n',
            'auth: expected "password" or "oauth2", got "token"',
        ),
        ('[imap]\nhost = "h"\noauth2_mechanism = "plain"\n', "oauth2_mechanism"),
        (
            '[smtp]\nhost = "h"\nmax_per_day = 0\n',
            "max_per_day: expected a whole number of messages (1 or more), got 0",
        ),
        ('[imap]\nhost = "h"\nmax_per_day = 10\n', "[imap] max_per_day: unknown setting"),
        ('[oauth2]\nprovider = "google"\n', "client_id: required"),
        (
            '[oauth2]\nprovider = "yahoo"\nclient_id = "c"\n',
            'provider: expected one of google, microsoft, custom, got "yahoo"',
        ),
        (
            '[oauth2]\nprovider = "custom"\nclient_id = "c"\ntoken_url = "http://t.example"\n',
            'token_url: expected an https:// address, got "http://t.example"',
        ),
        (
            '[oauth2]\nprovider = "custom"\nclient_id = "c"\ntoken_url = "https://t.example"\n'
            'scopes = ["mail"]\n',
            'authorize_url: required with flow = "loopback"',
        ),
        ('[oauth2]\nprovider = "google"\nclient_id = "c"\ntenant = "x"\n', "tenant: only"),
    ],
)
def test_invalid_sign_in_settings(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigInvalid) as e:
        _settings(tmp_path, text)
    assert message in str(e.value) and "steervote.toml" in str(e.value)


def test_a_preset_keeps_its_security_on_a_port_of_no_standard_meaning(tmp_path: Path) -> None:
    """Found by a blind tester: a Gmail preset with only a local relay's port turned into
    STARTTLS, against the preset's implicit TLS."""
    s = _settings(
        tmp_path,
        '[imap]\nprovider = "gmail"\nhost = "127.0.0.1"\nport = 1993\nusername = "u"\n'
        'password_env = "APP_PASSWORD"\n',
    )
    assert s.imap is not None and (s.imap.port, s.imap.security) == (1993, "ssl")


@pytest.mark.parametrize("printed", ["tök€n", "x" * 20_000, "two words"])
def test_a_token_command_printing_no_token_is_one_clear_error(printed: str) -> None:
    from steervote.adapters.oauth import CommandTokens
    from steervote.errors import ConfigInvalid

    tokens = CommandTokens(f"printf %s '{printed}'", {"PATH": "/usr/bin:/bin"})
    with pytest.raises(ConfigInvalid) as refused:
        tokens.access_token()
    assert printed[:10] not in str(refused.value)  # never the token itself
