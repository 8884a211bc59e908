"""normalize's ASCII fast path gives exactly what the general Unicode path gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from steervote.core.reading.languages import lexicon


def slow(text: str) -> str:
    result = lexicon._normalize_once(text)
    for _ in range(3):
        again = lexicon._normalize_once(result)
        if again == result:
            break
        result = again
    return result


@given(st.text(st.characters(max_codepoint=127), max_size=40))
def test_ascii_fast_path_equals_the_unicode_path(text: str) -> None:
    assert lexicon.normalize(text) == slow(text)
