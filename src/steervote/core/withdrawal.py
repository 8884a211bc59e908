"""A motion withdrawn by its mover or the chair (Robert's Rules: a motion may be
withdrawn before it is decided): kept in the record, never deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """Who withdrew a motion, why, and when (aware UTC)."""

    by: str
    reason: str
    at: datetime
