"""Benchmark `steervote propose` through a real SMTP server on loopback.

    .venv/bin/python benchmarks/bench_propose.py [-n 2000]

Starts the test suite's aiosmtpd server (it stores every message, as a mail server
would), writes an electorate of N members and a motion, and times `steervote propose
motion.yaml --yes` (the real CLI in a subprocess: start-up, validation, bookkeeping in
the store and sending, all included). The floor is smtplib sending the very messages
steervote sent (same envelopes, same bytes) over one connection, from a separate
process as steervote is. Target (issue 5): propose >= 0.5 x the floor's rate.

The aiosmtpd server runs in this process, in Python: at a few hundred messages a second
it may well be the bottleneck of both runs; the floor says how fast it can go.
"""

from __future__ import annotations

import argparse
import json
import shutil
import smtplib
import sys
import tempfile
import time
from pathlib import Path

import benchkit
from benchkit import PYTHON, STEERVOTE, mb, run_measured

TARGET = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="members (default 2000)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--send-floor", type=Path, help=argparse.SUPPRESS)  # the floor's child
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.send_floor:
        return _send_floor(args.send_floor, args.port)
    benchkit.print_machine()
    from servers import start_smtp

    work = Path(tempfile.mkdtemp(prefix="steervote-bench-propose-"))
    smtp = start_smtp()
    try:
        return _run(args.n, work, smtp)
    finally:
        smtp.close()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(n: int, work: Path, smtp: object) -> int:
    from servers import SmtpServer

    assert isinstance(smtp, SmtpServer)
    benchkit.make_electorate(work, n)
    server = f'\n[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\nsecurity = "none"\n'
    benchkit.write_config(work, database_url=None, extra=server)
    print(f"# N = {n}; SQLite store; aiosmtpd on {smtp.host}:{smtp.port}; work dir {work}")

    m = run_measured(
        [STEERVOTE, "propose", "motion.yaml", "--yes"], cwd=work, env=benchkit.child_env()
    )
    sent = list(smtp.messages)
    if len(sent) != n:
        print(f"the server received {len(sent)} messages, not {n}")
        return 1
    rate = n / m.seconds
    print(
        f"propose: {n} ballots in {m.seconds:.2f} s = {rate:.0f} ballots/s, peak RSS {mb(m.maxrss)}"
    )

    # The floor: the same envelopes and bytes, sent by smtplib from another process.
    floor_dir = work / "floor"
    floor_dir.mkdir()
    envelopes = []
    for i, message in enumerate(sent):
        (floor_dir / f"{i}.eml").write_bytes(message.content)
        envelopes.append([message.sender, list(message.recipients)])
    (floor_dir / "envelopes.json").write_text(json.dumps(envelopes))
    smtp.reset()
    start = time.perf_counter()
    child = run_measured(
        [PYTHON, __file__, "--send-floor", str(floor_dir), "--port", str(smtp.port)],
        stdout=floor_dir / "result.json",
    )
    wall = time.perf_counter() - start
    seconds = json.loads((floor_dir / "result.json").read_text())["seconds"]
    if len(smtp.messages) != n:
        print(f"the floor delivered {len(smtp.messages)} messages, not {n}")
        return 1
    floor_rate = n / seconds
    print(
        f"floor: smtplib, one connection: {seconds:.2f} s = {floor_rate:.0f} msg/s "
        f"({child.seconds:.2f} s with its start-up and reading the messages)"
    )
    ratio = rate / floor_rate
    met = "met" if ratio >= TARGET else "NOT MET"
    print(f"ratio propose/floor {ratio:.2f} (target >= {TARGET}: {met}); wall {wall:.1f} s")
    return 0


def _send_floor(folder: Path, port: int) -> int:
    """The floor's child process: load the messages, then time sending them all."""
    envelopes = json.loads((folder / "envelopes.json").read_text())
    messages = [(folder / f"{i}.eml").read_bytes() for i in range(len(envelopes))]
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for (sender, recipients), content in zip(envelopes, messages, strict=True):
            client.sendmail(sender, recipients, content)
    print(json.dumps({"seconds": time.perf_counter() - start}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
