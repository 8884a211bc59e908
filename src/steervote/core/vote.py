"""The values a reply can be read as."""

from __future__ import annotations

from enum import StrEnum


class Vote(StrEnum):
    """A counted vote."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
