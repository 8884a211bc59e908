"""Text from files and mail made safe for a terminal: the one escaping rule, without rich.

Anything a user did not type at the keyboard (motion, committee and CSV files, mail) may
hold escape sequences that move the cursor or rewrite the screen, and bidi controls that
show text in another order than it is read (CVE-2021-42574, "Trojan Source"). `untrusted`
replaces them for text shown as text; `json_for_terminal` escapes them in JSON.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

# C0 and C1 controls (tab and newline are whitespace: untrusted() keeps them unless the text
# must be one line), DEL, and every Unicode Bidi_Control character: ARABIC LETTER MARK
# U+061C, LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK U+200E-F, the embeddings and overrides
# U+202A-E and the isolates U+2066-9 (Unicode PropList.txt, Bidi_Control).
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# What json.dumps(ensure_ascii=False) leaves raw inside strings and a terminal acts on:
# DEL, C1 controls, bidi controls, and the line and paragraph separators.
_JSON_RAW = re.compile(f"[\\x7f-\\x9f{_BIDI}\\u2028\\u2029]")


def untrusted(value: str | None, limit: int = 300, *, oneline: bool = True) -> str:
    """Text made safe to show: controls and bidi controls replaced by U+FFFD, bounded length.

    With `oneline`, every run of whitespace (newlines included) becomes one space.
    """
    if not value:
        return ""
    text = _CONTROL.sub("\ufffd", value)
    if oneline:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_for_terminal(text: str) -> str:
    """JSON text (from json.dumps, ensure_ascii=False) with every character a terminal acts
    on written as a \\uXXXX escape: the same JSON value, safe to print.

    json.dumps already escapes C0 controls; these characters can only be inside strings.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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


@functools.cache
def this_program() -> str:
    """`steervote_command` for the running program: what hints print, so that a command
    they suggest works when pasted, however steervote was started."""
    return steervote_command(sys.argv[0], sys.executable)
