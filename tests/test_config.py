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
    assert s.imap is not None and s.imap.port == 143 and s.imap.security == "starttls"
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
        ('[smtp]\nhost = "h"\n', "[ballot] from: required"),
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


def test_missing_config_file_given_explicitly(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match="not found"):
        load_settings(tmp_path / "nope.toml", env={}, cwd=tmp_path)
