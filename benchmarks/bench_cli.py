"""Benchmark the start-up of the CLI: `steervote --help` against `python -c "import typer"`.

    .venv/bin/python benchmarks/bench_cli.py [--runs 20]

Like hyperfine: one warm-up run each, then the runs alternate between the two commands
(so a burst of load on the machine hits both alike); prints the median and the range.
Target (issue 5): `steervote --help` <= 1.5 x `import typer`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import benchkit
from benchkit import PYTHON, STEERVOTE

TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each (>= 10)")
    args = parser.parse_args(argv)
    benchkit.print_machine()
    commands = {
        "steervote --help": [STEERVOTE, "--help"],
        'python -c "import typer"': [PYTHON, "-c", "import typer"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(1 + max(args.runs, 10)):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            if i > 0:  # The first round warms the page cache and .pyc files.
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(
            f"{name:<28} median {medians[name] * 1000:6.0f} ms   "
            f"min {min(t) * 1000:4.0f}   max {max(t) * 1000:4.0f}   ({len(t)} runs)"
        )
    ratio = medians["steervote --help"] / medians['python -c "import typer"']
    met = "met" if ratio <= TARGET else "NOT MET"
    print(f"ratio {ratio:.2f} (target <= {TARGET}: {met})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
