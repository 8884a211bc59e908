"""demo: the whole flow with no mail server."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from steervote.cli import app, consoles, now


def steervote_command(argv0: str, executable: str) -> str:
    """How to run this steervote again from any folder, quoted for a shell: `steervote`
    when that name on PATH is this program (a pipx install, an activated venv), else
    the program's full path (`.venv/bin/steervote`), else `PYTHON -m steervote`."""
    if Path(argv0).stem == "steervote":
        found = shutil.which(argv0) if os.sep not in argv0 else argv0
        if found is not None and Path(found).is_file():
            on_path = shutil.which("steervote")
            if on_path is not None and Path(on_path).resolve() == Path(found).resolve():
                return "steervote"
            return shlex.quote(str(Path(found).absolute()))
    return f"{shlex.quote(executable)} -m steervote"


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="Where to run it: a new or empty folder (default: a new temporary one). "
            "A folder that is not empty is refused, with nothing written.",
        ),
    ] = None,
) -> None:
    """The whole flow with no mail server: propose to a local outbox, simulated replies,
    tally; then the commands to try next, as they can be pasted.

    Examples:

    \b
      steervote demo
      steervote demo --dir steervote-demo
    """
    from steervote.demo import run_demo

    command = steervote_command(sys.argv[0], sys.executable)
    run_demo(consoles.out, directory, now=now(), command=command)
