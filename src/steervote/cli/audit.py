"""audit and verify: write a folder a third party can check; check one."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from steervote.cli import app, check_recorded, consoles, now, open_store, settings_of
from steervote.errors import ExitCode, InvalidInput
from steervote.terminal import this_program

if TYPE_CHECKING:
    from steervote.adapters.store import Store
    from steervote.services.review import Report


def _result_json(r: Report, store: Store) -> Any:
    from steervote import export
    from steervote.core.delivery import count_ballots

    return export.tally_json(r.result, r.ignored, count_ballots(store.ballots(r.result.motion.id)))


def _result_text(r: Report) -> str:
    from steervote import render

    return render.result_line(r.result)


def plural(n: int, one: str) -> str:
    from steervote import render

    return render.plural(n, one)


def _say(text: str) -> None:
    """A line as it is (escaped before), never wrapped: one finding, one line to grep."""
    consoles.out.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def audit(
    ctx: typer.Context,
    motion_id: Annotated[str, typer.Argument(help="Motion id.", metavar="MOTION")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="DIR", help="The folder to write: new, or empty.", show_default=False
        ),
    ],
) -> None:
    """Write an audit folder anyone can check without the database.

    It holds the motion as recorded, the electorate, every ballot (tokens only as
    SHA-256), every message tied to the motion as an .eml file, the other messages read
    (hash, sender, reason), every ruling, the result, a README in plain words and a
    MANIFEST of SHA-256 sums. Reads no mail: run `tally` first.

    Examples:

    \b
      steervote audit new-constitution --out audit-new-constitution
    """
    from steervote.evidence.audit import AuditSettings, write_audit
    from steervote.services.review import report

    settings = settings_of(ctx)
    store = open_store(settings, create=False)
    check_recorded(store, motion_id)
    at = now()
    r = report(store, motion_id, now=at)
    written = write_audit(
        store,
        motion_id,
        out,
        now=at,
        settings=AuditSettings(
            tuple(settings.trusted_authserv_ids), tuple(settings.trusted_received_by)
        ),
        result_json=_result_json(r, store),
        result_text=_result_text(r),
    )
    manifest_line = (out / "MANIFEST.sha256").read_text(encoding="utf-8").strip()
    _say(
        f"Wrote {out}: {plural(written.files, 'file')}; "
        f"{plural(written.messages, 'message')} on {motion_id} ({written.kept} as .eml), "
        f"{plural(written.others, 'other message')} as hashes.\n"
        f"{written.result_text}\n"
        f"Keep this line where it cannot be changed: {manifest_line}\n"
        f"Check the folder with: {this_program()} verify {shlex.quote(str(out))}"
    )


@app.command()
def verify(
    folder: Annotated[
        Path, typer.Argument(help="An audit folder written by `steervote audit`.", metavar="DIR")
    ],
) -> None:
    """Re-read an audit folder and confirm its result, or list every difference.

    Checks the MANIFEST (no file changed, missing or added), re-reads every message with
    this steervote (matching it to its ballot, reading the vote), applies the rulings and
    the motion's rule, and compares each message, each member and the result. Needs no
    database and no mail server. Exit 0: verified; 1: differences (each printed); 2: not
    an audit folder.

    Examples:

    \b
      steervote verify audit-new-constitution
    """
    from steervote.evidence import folder as audit_folder
    from steervote.evidence.folder import FolderUnreadable
    from steervote.evidence.verify import verify_folder
    from steervote.terminal import untrusted

    if not folder.is_dir():
        raise InvalidInput(f"{untrusted(str(folder))}: not a folder")
    names = (audit_folder.MANIFEST, audit_folder.AUDIT, audit_folder.MOTION, audit_folder.RESULT)
    if not any((folder / name).exists() for name in names):
        # Not a damaged audit folder (that is "not verified", exit 1) but the wrong one.
        raise InvalidInput(
            f"{untrusted(str(folder))}: not an audit folder (it has none of "
            f"{', '.join(names)}): give the folder `steervote audit --out` wrote"
        )
    try:
        found = verify_folder(folder, result_json=_result_json, result_text=_result_text)
    except FolderUnreadable as e:
        _say(f"not verified: {untrusted(str(e), 500)}")
        raise typer.Exit(ExitCode.FAILED) from None
    for note in found.notes:
        _say(f"note: {note}")
    if not found.differences:
        _say(
            "verified: the result in this folder follows from its messages and rulings "
            f"({plural(found.messages, 'message')}, {plural(found.members, 'member')})."
        )
        return
    for d in found.differences:
        _say(f"difference: {untrusted(d, 1000)}")
    _say(f"not verified: {plural(len(found.differences), 'difference')}")
    raise typer.Exit(ExitCode.FAILED)
