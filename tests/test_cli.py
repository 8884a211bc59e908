"""The command line as a user meets it: help, version, validate, config errors, demo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from steervote.errors import MotionInvalid

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [
    *("validate", "propose", "tally", "status", "review", "rule", "members", "withdraw"),
    *("show", "acknowledge", "ask", "remind", "announce", "audit", "verify", "check"),
    *("login", "logout", "demo"),
]


def steervote(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "steervote", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_version_and_help_list_every_command() -> None:
    run = steervote("--version")
    assert run.returncode == 0 and run.stdout.startswith("steervote ")
    run = steervote("--help")
    assert run.returncode == 0
    for command in COMMANDS:
        assert command in run.stdout
        assert command in (REPO / "README.md").read_text()
        sub = steervote(command, "--help")
        assert sub.returncode == 0 and "Usage" in sub.stdout


def test_validate_prints_summary(tmp_path: Path) -> None:
    shutil.copytree(REPO / "motions", tmp_path / "motions")
    run = steervote("validate", "motions/new-constitution.yaml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for text in ("12 voting members", "majority-of-members", "Quorum", "7", "UTC", "Europe/London"):
        assert text in run.stdout
    assert not list(tmp_path.glob("*.db"))  # validate writes nothing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("threshold: majority-of-members", "threshold: majority"), "unknown threshold"),
        (("quorum: 7", "quorum: 70"), "quorum"),
        (("proposer: jon-lansman", "proposer: nobody"), "proposer"),
        (("closes: 7d", "closes: 2001-01-01T00:00:00Z"), "past"),
        (("closes: 7d", "closes: next tuesday"), "closes"),
        (("id: new-constitution", "id: New Constitution"), "id"),
    ],
)
def test_validate_bad_input_is_one_line_exit_2(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    shutil.copytree(REPO / "motions", tmp_path / "motions")
    path = tmp_path / "motions" / "new-constitution.yaml"
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1]))
    run = steervote("validate", "motions/new-constitution.yaml", cwd=tmp_path)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "new-constitution.yaml" in lines[0] and message in lines[0]
    assert MotionInvalid.exit_code == 2


def test_bad_config_is_exit_2_and_never_prints_secrets(tmp_path: Path) -> None:
    (tmp_path / "steervote.toml").write_text('[smtp]\nhost = "x"\npassword = "hunter2"\n')
    run = steervote("status", cwd=tmp_path)
    assert run.returncode == 2 and "password" in run.stderr and "hunter2" not in run.stderr
    (tmp_path / "steervote.toml").write_text("[imap]\nhost = 1\n")
    run = steervote("status", cwd=tmp_path)
    assert run.returncode == 2 and "[imap] host" in run.stderr


def test_status_with_no_config_and_no_store_creates_nothing(tmp_path: Path) -> None:
    run = steervote("status", cwd=tmp_path)
    assert run.returncode == 2 and "no store here (looked for ./steervote.db" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_motion_is_exit_2(tmp_path: Path) -> None:
    from steervote.adapters.store import Store

    Store(f"sqlite:///{tmp_path}/steervote.db").close()
    run = steervote("tally", "nope", "--offline", cwd=tmp_path)
    assert run.returncode == 2 and "no motion 'nope'" in run.stderr


def test_demo_runs_the_whole_flow_with_no_server(tmp_path: Path) -> None:
    run = steervote("demo", "--dir", str(tmp_path / "demo"))
    assert run.returncode == 0, run.stderr
    assert "SIMULATED" in run.stdout
    assert (
        "CARRIED — 7 for, 1 against, 1 abstention of 12 members; "
        "majority of members needs 7 of 12 for"
    ) in run.stdout
    assert "1 awaiting review" in run.stdout


def test_unreachable_imap_server_is_one_line_and_exit_1(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "steervote.toml").write_text(
        f'[imap]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nusername = "v"\n'
        'password_command = "echo secret-pw"\n'
    )
    from steervote.adapters.store import Store

    Store(f"sqlite:///{tmp_path}/steervote.db").close()  # tally reads mail only into a store
    run = steervote("tally", cwd=tmp_path)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0]
    assert "secret-pw" not in run.stderr + run.stdout
