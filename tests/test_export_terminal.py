"""JSON printed to a terminal carries no character the terminal would act on; piped, it is
exactly json.dumps (a program reads the same value either way)."""

from __future__ import annotations

import io
import json

from steervote.export import print_json

HOSTILE = {"evidence": "For\u202e\u2067\u061c\x85\x9b[2J\u2028end", "name": "Zoë"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_to_a_terminal_escapes_bidi_and_c1_controls() -> None:
    out = Terminal()
    print_json(HOSTILE, out)
    text = out.getvalue()
    assert json.loads(text) == HOSTILE
    for ch in "\u202e\u2067\u061c\x85\x9b\u2028":
        assert ch not in text
    assert "Zoë" in text  # ordinary letters stay readable


def test_json_to_a_pipe_is_plain_json() -> None:
    out = io.StringIO()
    print_json(HOSTILE, out)
    assert out.getvalue() == json.dumps(HOSTILE, ensure_ascii=False) + "\n"
