"""Benchmark `steervote tally` on a mailbox of N realistic replies in a private Dovecot.

    .venv/bin/python benchmarks/bench_tally.py [-n 20000] [--database-url postgresql] [--keep]

Setup (not timed): start Dovecot on loopback; write an electorate of N members and a
motion; `steervote propose` it to a local outbox (the real ballots and tokens); build N
replies from them (about 90% votes from distinct members in the styles of Gmail, Outlook,
Apple Mail and Thunderbird in five languages, the rest out-of-office replies and
non-member mail) and MULTIAPPEND them in batches. Then, in one run, it times:

    (a) the floor: imapclient fetching every BODY.PEEK[] in UID batches of 1,000
    (n) the naive peer: one FETCH per message + email policy.default parse + get_body()
    (b) `steervote tally MOTION --json` on an empty store (the real CLI, a subprocess)
    (c) the same again with no new mail
    (d) the same after 100 more replies
    and the import floor, `python -c "import sqlmodel, imapclient"`.

The tally's counts must equal the generated votes; any difference exits with status 1.
"""

from __future__ import annotations

import argparse
import email
import imaplib
import json
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any

import benchkit
from benchkit import MOTION_ID, PYTHON, STEERVOTE, Measured, mb, run_measured
from imapclient import IMAPClient
from replies import VOTES, Ballot, auto_reply, non_member_mail, pick, read_ballot, vote_reply

PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
UIDS_PER_FETCH = 1000
APPEND_BATCH = 500
EXTRA_REPLIES = 100
TARGETS = (
    "targets (issue 5): b/a <= 4, n/b >= 10, c-import <= 0.3 s, d-import <= 0.6 s, RSS <= 250 MB"
)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    benchkit.print_machine()
    from servers import start_dovecot, start_postgres

    work = Path(tempfile.mkdtemp(prefix="steervote-bench-tally-"))
    dovecot = start_dovecot()
    postgres = None
    try:
        url = args.database_url
        if url == "postgresql":
            postgres = start_postgres()
            url = postgres.new_database()
        elif url == "sqlite":
            url = None  # steervote's default: steervote.db beside the config
        user = dovecot.new_user("votes")
        return _run(args, work, dovecot, user, url)
    finally:
        dovecot.stop()
        if postgres is not None:
            postgres.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20_000, help="members and messages (20000)")
    parser.add_argument(
        "--database-url",
        default="sqlite",
        help="sqlite (default), postgresql (a private cluster, as the tests start), or a URL",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--seed", type=int, default=5, help="random seed for the replies")
    parser.add_argument("--no-naive", action="store_true", help="skip (n), the slowest step")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="afterwards, cProfile a first tally (on a copy of the store) into FILE and "
        "print its top functions; not timed",
    )
    parser.add_argument("--results", type=Path, help="also write the figures as JSON here")
    return parser.parse_args(argv)


def _run(args: argparse.Namespace, work: Path, dovecot: Any, user: str, url: str | None) -> int:
    n = args.n
    print(f"# N = {n}; store: {url or 'SQLite (steervote.db)'}; work dir {work}")
    benchkit.make_electorate(work, n)
    imap = (
        f'\n[imap]\nhost = "{dovecot.host}"\nport = {dovecot.port}\nsecurity = "none"\n'
        f'username = "{user}"\npassword_env = "{PASSWORD_ENV}"\n'
    )
    benchkit.write_config(work, database_url=url, extra=imap)
    env = benchkit.child_env(**{PASSWORD_ENV: dovecot.password})

    # --- setup, not timed against any target ---
    proposed = run_measured([STEERVOTE, "propose", "motion.yaml", "--yes"], cwd=work, env=env)
    print(f"setup: propose {n} ballots to the local outbox: {proposed.seconds:.1f} s")
    ballots = _ballots(work / "mail" / "outbox")
    rng = random.Random(args.seed)
    messages, expected, reserve = _replies(ballots, n, rng)
    sizes = sorted(len(m) for m in messages)
    print(
        f"setup: {len(messages)} messages, {sum(sizes) / 1e6:.1f} MB, sizes "
        f"{sizes[0]}-{sizes[-1]} B (median {statistics.median(sizes):.0f}); "
        f"expected votes {_fmt(expected)}"
    )
    start = time.perf_counter()
    _append(dovecot, user, messages)
    seconds = time.perf_counter() - start
    print(f"setup: MULTIAPPEND {len(messages)}: {seconds:.1f} s ({len(messages) / seconds:.0f}/s)")
    del messages
    profile_url = _snapshot_store(work, url) if args.profile else ""

    # --- timed ---
    results: dict[str, Any] = {"n": n, "messages": len(sizes), "store": url or "sqlite"}
    results["import_floor"] = benchkit.import_floor()
    print(
        f"import floor (python -c 'import sqlmodel, imapclient'): {results['import_floor']:.3f} s"
    )
    # Two passes (the first also warms Dovecot's caches); the faster is the floor, so the
    # ratio (b)/(a) is never flattered by a slow pass.
    passes = [_floor(dovecot, user), _floor(dovecot, user)]
    results["floor"] = min(passes)
    print(
        f"(a) floor, imapclient BODY.PEEK[] x {UIDS_PER_FETCH}: {_rate(min(passes), len(sizes))} "
        f"(passes {passes[0]:.2f} s, {passes[1]:.2f} s)"
    )
    results["floor_imaplib"] = _floor_imaplib(dovecot, user)
    print(f"    for reference, bare imaplib: {_rate(results['floor_imaplib'], len(sizes))}")
    if not args.no_naive:
        results["naive"] = _naive(dovecot, user)
        print(
            f"(n) naive peer, 1 FETCH + policy.default per message: "
            f"{_rate(results['naive'], len(sizes))}"
        )

    tally = [STEERVOTE, "tally", MOTION_ID, "--json"]
    ok = True
    for step, label in (("b", "first tally, empty store"), ("c", "again, no new mail")):
        m = run_measured(tally, cwd=work, env=env, stdout=work / f"tally-{step}.json")
        results[step] = _measured(m)
        print(f"({step}) {label}: {m.seconds:.2f} s, {_memory(m)}")
        ok &= _check(work / f"tally-{step}.json", expected, n)
    extra, expected = _extra_replies(reserve, expected, rng)
    _append(dovecot, user, extra)
    m = run_measured(tally, cwd=work, env=env, stdout=work / "tally-d.json")
    results["d"] = _measured(m)
    print(f"(d) after {len(extra)} more replies: {m.seconds:.2f} s, {_memory(m)}")
    ok &= _check(work / "tally-d.json", expected, n)

    _summary(results)
    if args.profile:
        _profile(work, env, profile_url, args.profile)
    if args.results:
        results["machine"] = benchkit.machine()
        results["correct"] = ok
        args.results.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


# --- setup ------------------------------------------------------------------------------


def _ballots(outbox: Path) -> list[Ballot]:
    files = sorted(p for sub in ("new", "cur") for p in (outbox / sub).iterdir())
    first = email.message_from_bytes(files[0].read_bytes())  # compat32: fast, enough here
    text = html = ""
    for part in first.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and part.get_content_type() == "text/plain":
            text = payload.decode(part.get_content_charset() or "utf-8")
        elif isinstance(payload, bytes) and part.get_content_type() == "text/html":
            page = payload.decode(part.get_content_charset() or "utf-8")
            html = page.split("<body>", 1)[-1].split("</body>", 1)[0].strip()
    # In member order, so that the same seed gives the same replies from run to run.
    return sorted((read_ballot(p.read_bytes(), text, html) for p in files), key=_by_address)


def _by_address(ballot: Ballot) -> str:
    return ballot.address


def _replies(
    ballots: list[Ballot], n: int, rng: random.Random
) -> tuple[list[bytes], Counter[str], list[Ballot]]:
    """N messages: ~90% votes from distinct members, ~6% auto-replies, ~4% non-member mail.

    The members who sent only an auto-reply are the reserve for step (d)'s new votes.
    """
    order = ballots[:]
    rng.shuffle(order)
    auto, others = round(n * 0.06), round(n * 0.04)
    votes = n - auto - others
    expected: Counter[str] = Counter()
    messages = []
    for ballot in order[:votes]:
        vote = pick(rng, VOTES)
        expected[vote] += 1
        messages.append(vote_reply(ballot, vote, rng))
    reserve = order[votes : votes + auto]
    messages += [auto_reply(b, rng) for b in reserve]
    messages += [non_member_mail(order[0], i, rng) for i in range(others)]
    rng.shuffle(messages)
    return messages, expected, reserve


def _extra_replies(
    reserve: list[Ballot], expected: Counter[str], rng: random.Random
) -> tuple[list[bytes], Counter[str]]:
    expected = expected.copy()
    extra = []
    for ballot in reserve[:EXTRA_REPLIES]:
        vote = pick(rng, VOTES)
        expected[vote] += 1
        extra.append(vote_reply(ballot, vote, rng))
    return extra, expected


def _append(dovecot: Any, user: str, messages: list[bytes]) -> None:
    # Not dovecot.client(): a batch of 500 can take longer than its 10 s timeout.
    client = IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=300)
    client.login(user, dovecot.password)
    try:
        for i in range(0, len(messages), APPEND_BATCH):
            client.multiappend("INBOX", messages[i : i + APPEND_BATCH])
    finally:
        client.logout()


def _snapshot_store(work: Path, url: str | None) -> str:
    """A copy of the store as it is now (the motion proposed, no reply read), for --profile."""
    if url is None:
        source = sqlite3.connect(work / "steervote.db")
        target = sqlite3.connect(work / "profile.db")
        source.backup(target)
        source.close()
        target.close()
        return f"sqlite:///{work / 'profile.db'}"
    import psycopg
    from sqlalchemy.engine import make_url

    original = make_url(url)
    copy = f"{original.database}_profile"
    conninfo = f"host={original.host} port={original.port} user={original.username} dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{original.database}"')
    return original.set(database=copy).render_as_string(hide_password=False)


# --- the floors --------------------------------------------------------------------------


def _uids(client: Any) -> list[int]:
    client.select_folder("INBOX", readonly=True)
    return sorted(client.search(["ALL"]))


def _floor(dovecot: Any, user: str) -> float:
    """(a): log in, EXAMINE, SEARCH, and FETCH every BODY.PEEK[] in batches of 1,000 UIDs."""
    start = time.perf_counter()
    client = dovecot.client(user)
    uids = _uids(client)
    total = 0
    for i in range(0, len(uids), UIDS_PER_FETCH):
        # Explicit UID lists: imapclient 4.1 mishandles range strings such as "1:1000".
        fetched = client.fetch(uids[i : i + UIDS_PER_FETCH], ["BODY.PEEK[]"])
        total += sum(len(v[b"BODY[]"]) for v in fetched.values())
    client.logout()
    assert total > 0
    return time.perf_counter() - start


def _floor_imaplib(dovecot: Any, user: str) -> float:
    """For reference: the same with bare imaplib and UID ranges."""
    start = time.perf_counter()
    client = imaplib.IMAP4(dovecot.host, dovecot.port)
    client.login(user, dovecot.password)
    client.select("INBOX", readonly=True)
    _, data = client.uid("SEARCH", "ALL")
    uids = [int(u) for u in data[0].split()]
    for i in range(0, len(uids), UIDS_PER_FETCH):
        batch = uids[i : i + UIDS_PER_FETCH]
        client.uid("FETCH", f"{batch[0]}:{batch[-1]}", "(BODY.PEEK[])")
    client.logout()
    return time.perf_counter() - start


def _naive(dovecot: Any, user: str) -> float:
    """(n): what a straightforward tally does: one FETCH and a full policy.default parse each."""
    start = time.perf_counter()
    client = dovecot.client(user)
    for uid in _uids(client):
        raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
        msg = email.message_from_bytes(raw, policy=policy.default)
        body = msg.get_body(preferencelist=("plain", "html"))
        if body is not None:
            body.get_content()
    client.logout()
    return time.perf_counter() - start


# --- checking and reporting --------------------------------------------------------------


def _check(path: Path, expected: Counter[str], n: int) -> bool:
    counts = json.loads(path.read_text())["counts"]
    got = {k: counts[k] for k in ("for", "against", "abstain", "needs_review")}
    want = {**{k: expected[k] for k in ("for", "against", "abstain")}, "needs_review": 0}
    ok = got == want
    print(
        f"    counts {_fmt(got)} {'==' if ok else '!='} generated {_fmt(want)}"
        + ("" if ok else "   <-- MISCOUNT")
    )
    return ok


def _fmt(counts: Any) -> str:
    return "/".join(str(counts[k]) for k in ("for", "against", "abstain")) + (
        f" (review {counts['needs_review']})" if "needs_review" in counts else ""
    )


def _rate(seconds: float, count: int) -> str:
    return f"{seconds:.2f} s ({count / seconds:,.0f} msg/s)"


def _memory(m: Measured) -> str:
    return f"peak RSS {mb(m.maxrss)} (largest process), {mb(m.tree_pss)} PSS (process tree)"


def _measured(m: Measured) -> dict[str, float]:
    return {
        "seconds": m.seconds,
        "rss_mb": m.maxrss / benchkit.MB,
        "tree_mb": m.tree_pss / benchkit.MB,
    }


def _summary(r: dict[str, Any]) -> None:
    b, c, d, imp = r["b"]["seconds"], r["c"]["seconds"], r["d"]["seconds"], r["import_floor"]
    rss = max(max(r[s]["rss_mb"], r[s]["tree_mb"]) for s in "bcd")
    rows = [("(b)/(a)  first tally / fetch floor", b / r["floor"], "<= 4", b / r["floor"] <= 4)]
    if "naive" in r:
        rows.append(
            ("(n)/(b)  naive peer / first tally", r["naive"] / b, ">= 10", r["naive"] / b >= 10)
        )
    rows += [
        ("(c)-imp  no new mail, above import floor", c - imp, "<= 0.3 s", c - imp <= 0.3),
        ("(d)-imp  100 new replies, above import floor", d - imp, "<= 0.6 s", d - imp <= 0.6),
        ("peak memory of tally (RSS or tree PSS), MB", rss, "<= 250", rss <= 250),
    ]
    print(f"\nN = {r['n']}: {TARGETS}")
    for label, value, target, met in rows:
        print(f"  {label:<46} {value:8.2f}   target {target:<9} {'met' if met else 'NOT MET'}")


def _profile(work: Path, env: dict[str, str], url: str, prof: Path) -> None:
    """cProfile a first tally of the whole mailbox on a copy of the store taken before (b),
    then a second one with no new mail (into FILE.again).

    steervote parses in a pool of one worker per core, where cProfile does not see; so
    these runs say there is one core (os.cpu_count), and all the work shows in one profile.
    """
    env = {**env, "STEERVOTE_DATABASE_URL": url}
    again = prof.with_name(prof.name + ".again")
    for path, what in ((prof, "a first tally"), (again, "a tally with no new mail")):
        driver = (
            "import cProfile, os, sys; os.cpu_count = lambda: 1; "
            f"sys.argv = ['steervote', 'tally', {MOTION_ID!r}, '--json']; "
            "from steervote.cli import main; "
            f"cProfile.run('main()', {str(path.resolve())!r})"
        )
        start = time.perf_counter()
        # main() ends in SystemExit(0), which cProfile.run passes on after writing the file.
        subprocess.run(
            [PYTHON, "-c", driver], cwd=work, env=env, stdout=subprocess.DEVNULL, check=True
        )
        seconds = time.perf_counter() - start
        print(f"\nprofile of {what}, one process ({seconds:.1f} s under cProfile; {path}):")
        print_profile(path)


def print_profile(path: Path) -> None:
    """The top 15 functions by cumulative time (below the CLI), and the top 10 by own time."""
    stats = pstats.Stats(str(path)).stats
    rows = sorted(stats.items(), key=lambda item: item[1][3], reverse=True)
    print("   calls   own s   cum s  function (top 15 by cumulative time, below the CLI)")
    shown = 0
    for (file, line, name), (_, calls, own, cumulative, _) in rows:
        if any(s in file for s in _WRAPPERS) or (
            file == "~" and ("exec" in name or "import" in name)
        ):
            continue
        print(f"{calls:8d} {own:7.2f} {cumulative:7.2f}  {_short(file)}:{line}({name})")
        shown += 1
        if shown == 15:
            break
    print("   calls   own s   cum s  function (top 10 by own time)")
    for (file, line, name), (_, calls, own, cumulative, _) in sorted(
        stats.items(), key=lambda item: item[1][2], reverse=True
    )[:10]:
        print(f"{calls:8d} {own:7.2f} {cumulative:7.2f}  {_short(file)}:{line}({name})")


def _short(file: str) -> str:
    return re.sub(r".*/(site-packages|lib/python3\.\d+|src)/", "", file)


# The command line's own frames (each has the whole run as cumulative time), and imports
# (the import floor is measured on its own).
_WRAPPERS = ("typer/", "click/", "runpy", "<string>", "__main__.py", "cProfile", "importlib")


if __name__ == "__main__":
    sys.exit(main())
