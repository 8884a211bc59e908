"""The members of a motion and where each stands: `steervote members`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from steervote.adapters.store import Store
from steervote.core.tally import TallyResult
from steervote.services.review import report


def roll(store: Store, motion_id: str, *, now: datetime) -> TallyResult:
    """The motion counted now: one line per voting member, in the committee's order.

    Raises UnknownMotion for a motion not recorded.
    """
    return report(store, motion_id, now=now).result


def roll_data(r: TallyResult) -> dict[str, Any]:
    """The `members --json` object (its keys are pinned by tests/test_first_week_review.py).

    status: counted | needs_review | late | not_voted (as `tally --json`); ruled: whether a
    ruling decides it; standing: the same in words ("counted FOR", "ruled no vote").
    """
    return {
        "schema": 1,
        "motion": {"id": r.motion.id, "title": r.motion.title},
        "members": [
            {
                "id": x.member.id,
                "name": x.member.name,
                "email": x.member.email,
                "aliases": list(x.member.aliases),
                "role": x.member.role,
                "status": x.status.value,
                "vote": x.vote.value if x.vote else None,
                "ruled": x.how == "ruling",
                "standing": x.standing,
            }
            for x in r.lines
        ],
    }
