"""What the policy answers: a decision with its reason, never a bare boolean.

A page that explains a lock and the service that enforces it read the same `Decision`, so the
sentence a learner sees and the rule that refused them cannot disagree.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum


class Reason(enum.StrEnum):
    ALLOWED = "allowed"
    SIGN_IN = "sign_in"  # a visitor: log in or sign up
    NOT_RELEASED = "not_released"  # the course (or a week, or an item) opens on a date: Decision.opens_on
    RELEASED_AFTER_START = "released_after_start"  # opens N days after the learner's start: after_days, opens_on
    NEEDS_SUBSCRIPTION = "needs_subscription"  # signed in, never subscribed (or the trial never started)
    ACCESS_ENDED = "access_ended"  # the subscription ended; completed courses stay open
    COMPLETED_READ_ONLY = "completed_read_only"  # a completed course after access ended: read, not submit
    NOT_YOURS = "not_yours"  # someone else's work
    STAFF_ONLY = "staff_only"
    ROLE_REQUIRED = "role_required"  # staff, mentors or peer reviewers only
    NOT_COMPLETED = "not_completed"  # something kept for completed courses (the course download)
    COMPLIMENTARY = "complimentary"  # allowed by a complimentary grant (financial aid, staff, partner)


@dataclasses.dataclass(frozen=True)
class Decision:
    """Truthy when allowed. `message` is one sentence for the person refused (empty when allowed)."""

    allowed: bool
    reason: Reason
    message: str = ""
    opens_on: datetime.date | None = None  # NOT_RELEASED, RELEASED_AFTER_START: the first day it is open
    after_days: int | None = None  # RELEASED_AFTER_START: days after the learner's schedule start

    def __bool__(self) -> bool:
        return self.allowed

    def require(self) -> None:
        """Raise AccessDenied with the decision's message unless it allows."""
        if not self.allowed:
            raise AccessDenied(self)


ALLOW = Decision(allowed=True, reason=Reason.ALLOWED)


def granted(until: datetime.date) -> Decision:
    """Allowed through complimentary access; the message says until when (pages may show it)."""
    return Decision(allowed=True, reason=Reason.COMPLIMENTARY, message=f"Free access until {until.day} {until:%B %Y}.")


def deny(
    reason: Reason, message: str, *, opens_on: datetime.date | None = None, after_days: int | None = None
) -> Decision:
    return Decision(allowed=False, reason=reason, message=message, opens_on=opens_on, after_days=after_days)


class AccessDenied(Exception):
    """A user tried something the policy forbids. str() is the sentence written for them."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(decision.message)
