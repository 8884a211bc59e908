"""demo: the whole flow with no mail server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steervote.cli import app, consoles, now
from steervote.terminal import this_program


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

    run_demo(consoles.out, directory, now=now(), command=this_program())
