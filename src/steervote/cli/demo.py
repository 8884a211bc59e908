"""demo: the whole flow with no mail server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steervote.cli import app, consoles, now


@app.command()
def demo(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to run it (default: a new temp dir).")
    ] = None,
) -> None:
    """The whole flow with no mail server: propose to a local outbox, simulated replies, tally."""
    from steervote.demo import run_demo

    run_demo(consoles.out, directory, now=now())
