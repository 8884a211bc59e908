"""What the benchmarks share: the project's paths, timed child processes with their peak
memory, a generated electorate, and a description of the machine.

Not a benchmark itself (only bench_*.py are run by hand); never collected by pytest.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
STEERVOTE = str(VENV_BIN / "steervote") if (VENV_BIN / "steervote").exists() else "steervote"
# The test servers (private Dovecot, aiosmtpd, PostgreSQL) are reused from the test suite.
sys.path.insert(0, str(REPO / "tests"))

CHAIR = "Helen Marsh <chair@steering-group.example.org>"
VOTES_ADDRESS = "votes@steering-group.example.org"
MOTION_ID = "consent-ballot"
MB = 1024 * 1024


# --- timed child processes ---------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One child process: wall time, exit code and peak memory."""

    seconds: float
    returncode: int
    maxrss: int  # Bytes: peak RSS of the largest single process (the child or a descendant).
    tree_pss: int  # Bytes: the largest sampled PSS sum over the child and its descendants.


def _memory_of_tree(pid: int) -> int:
    """Bytes in use by a process and its descendants: the sum of their PSS.

    PSS (proportional set size) splits each shared page among the processes sharing it,
    so forked workers do not count their parent's pages again, as a sum of RSS would.
    """
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # The process ended between two reads.
    return total


def run_measured(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: Path | None = None,
) -> Measured:
    """Run a command to completion; its time and peak RSS (stdout to a file or /dev/null).

    os.wait4 gives this child's own rusage, so each run is measured separately (unlike
    RUSAGE_CHILDREN, which keeps the maximum over every child so far). A sampling thread
    also adds up the memory of the child and its descendants, as it may start workers.
    """
    out = stdout.open("wb") if stdout else open(os.devnull, "wb")  # noqa: SIM115
    peak = 0
    done = threading.Event()
    try:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE
        )

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.02):
                peak = max(peak, _memory_of_tree(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert process.stderr is not None
        errors = process.stderr.read()  # Until the child closes it, i.e. exits.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    finally:
        out.close()
    if process.returncode != 0:
        tail = errors.decode(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}:\n{tail}")
    maxrss = usage.ru_maxrss * 1024  # Linux reports kilobytes.
    return Measured(seconds, process.returncode, maxrss, peak)


def median_seconds(command: Sequence[str], runs: int, *, warmup: int = 1) -> list[float]:
    """Wall times of `runs` runs of a command (after `warmup` untimed ones), sorted."""
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(list(command), stdout=subprocess.DEVNULL, check=True)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)


def import_floor(runs: int = 5) -> float:
    """Median time of `python -c "import sqlmodel, imapclient"`: what any tally pays."""
    return statistics.median(median_seconds([PYTHON, "-c", "import sqlmodel, imapclient"], runs))


# --- an electorate ------------------------------------------------------------------------

_FIRST = [
    "Aisha",
    "Amelia",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Fatima",
    "George",
    "Hannah",
    "Ibrahim",
    "Jasmine",
    "Kwame",
    "Laura",
    "Marek",
    "Nadia",
    "Oliver",
    "Priya",
    "Rhys",
    "Sofia",
    "Tomasz",
    "Uma",
    "Victor",
    "Wendy",
    "Yusuf",
    "Zara",
    "Ciaran",
    "Maeve",
    "Lukas",
    "Ingrid",
    "Pedro",
    "Lucia",
    "Anneke",
    "Joost",
    "Chiara",
    "Rosa",
    "Mehmet",
    "Grace",
    "Callum",
    "Bethan",
    "Dmitri",
]
_LAST = [
    "Khan",
    "Smith",
    "Okafor",
    "Jones",
    "Nowak",
    "Garcia",
    "Brown",
    "Evans",
    "Patel",
    "Murphy",
    "Kowalski",
    "Hughes",
    "Ahmed",
    "Rossi",
    "Muller",
    "Dubois",
    "Jansen",
    "Silva",
    "Taylor",
    "Wilson",
    "Davies",
    "Walsh",
    "Campbell",
    "Lewis",
    "Roberts",
    "Wright",
    "Clarke",
    "Hall",
    "Green",
    "Baker",
    "Adeyemi",
    "Novak",
    "Fischer",
    "Moreau",
    "Bakker",
    "Costa",
    "Begum",
    "Reid",
    "Lloyd",
]
_DOMAINS = (
    "mail.example",
    "outlook.example",
    "icloud.example",
    "posteo.example",
    "uni.example.ac.uk",
)


@dataclass(frozen=True)
class Member:
    """One row of the generated members.csv."""

    id: str
    name: str
    email: str


def make_electorate(folder: Path, n: int, seed: int = 20_000) -> list[Member]:
    """Write members.csv (name,email,id) and the motion file; return the members."""
    rng = random.Random(seed)
    members = []
    for i in range(1, n + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first}.{last}.{i}@{rng.choice(_DOMAINS)}".lower()
        members.append(Member(f"m{i:05d}", f"{first} {last}", email))
    with (folder / "members.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "email", "id"])
        writer.writerows((m.name, m.email, m.id) for m in members)
    (folder / "motion.yaml").write_text(
        f"""\
id: {MOTION_ID}
title: Consent to the new constitution
name: Momentum members
timezone: Europe/London
members_csv: members.csv
text: |
  That the members consent to the constitution adopted by the National Steering
  Group on 10 January 2017, which binds the relationship between Momentum and them.
proposer: {members[0].id}
threshold: majority-of-votes-cast
closes: 7d
""",
        encoding="utf-8",
    )
    return members


def write_config(folder: Path, *, database_url: str | None, extra: str = "") -> None:
    """steervote.toml: ballots from the chair, personal reply addresses, and `extra`."""
    database = f'[database]\nurl = "{database_url}"\n\n' if database_url else ""
    (folder / "steervote.toml").write_text(
        f"""{database}[ballot]
from = "{CHAIR}"
reply_to = "{VOTES_ADDRESS}"
plus_tokens = true
{extra}""",
        encoding="utf-8",
    )


def child_env(**extra: str) -> dict[str, str]:
    """The environment for steervote runs: no STEERVOTE_* leaking in from the shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEERVOTE_")}
    env.update(extra)
    return env


# --- the machine ------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Date, cores, CPU model, Python and Dovecot versions, for the README table."""
    cpu = "unknown"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    python = subprocess.run(
        [PYTHON, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": python or platform.python_version(),
        "dovecot": _version(["dovecot", "--version"], "/usr/sbin/dovecot"),
        # Other work on the machine skews every figure: say how busy it was.
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "postgres": _version(["postgres", "--version"], "/usr/lib/postgresql/*/bin/postgres"),
    }


def _version(command: list[str], fallback_glob: str) -> str:
    program = shutil.which(command[0])
    if program is None:
        found = sorted(Path("/").glob(fallback_glob.lstrip("/")), reverse=True)
        program = str(found[0]) if found else None
    if program is None:
        return "not installed"
    result = subprocess.run([program, *command[1:]], capture_output=True, text=True, check=False)
    # "2.3.19.1 (9b53102964)" from Dovecot, "postgres (PostgreSQL) 15.14" from PostgreSQL.
    text = re.sub(r"^\S+ \([^)]*\) ", "", result.stdout.strip())
    return text.split(" (")[0] or "unknown"


def print_machine() -> None:
    """One line saying where the figures come from."""
    m = machine()
    print(
        f"# {m['date']} | {m['nproc']} cores | {m['cpu']} | Python {m['python']} | "
        f"Dovecot {m['dovecot']} | load average {m['load']}"
    )


def mb(n: int) -> str:
    """Bytes as MB with one decimal."""
    return f"{n / MB:.1f} MB"
