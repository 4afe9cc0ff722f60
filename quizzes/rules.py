"""The rules a learner meets when taking a quiz, each in one function that returns a decision with its
reason: the quiz page that explains a rule and the service that enforces it both call it, so the two
can never disagree."""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.utils import timezone


def submit_grace() -> datetime.timedelta:
    """Answers sent as a timer hits zero still travel over the network: a few seconds are accepted."""
    return datetime.timedelta(seconds=settings.QUIZ_SUBMIT_GRACE_SECONDS)


def is_past_deadline(attempt, now: datetime.datetime) -> bool:
    """A timed attempt whose time limit and grace are over: it is closed, and late answers are refused."""
    return attempt.deadline is not None and now > attempt.deadline + submit_grace()


def passes(percent: float, *, pass_percent: float) -> bool:
    """The pass mark: a score at or above the quiz's pass percentage."""
    return percent >= pass_percent


@dataclasses.dataclass(frozen=True)
class WindowCheck:
    """How many attempts the learner has left in the quiz's rolling window, and when the next opens."""

    allowed: bool
    used: int
    remaining: int
    next_at: datetime.datetime | None
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def check_attempt_window(*, quiz, started: list[datetime.datetime], now: datetime.datetime) -> WindowCheck:
    """`started`: when the learner's attempts started (any order); those inside the window count.
    At most `quiz.max_attempts` attempts start within any `quiz.attempt_window_hours`."""
    window = datetime.timedelta(hours=quiz.attempt_window_hours)
    recent = sorted(at for at in started if at > now - window)
    remaining = max(0, quiz.max_attempts - len(recent))
    if remaining:
        return WindowCheck(allowed=True, used=len(recent), remaining=remaining, next_at=None)
    next_at = recent[len(recent) - quiz.max_attempts] + window
    message = (
        f"You have used your {quiz.max_attempts} attempts of the last {quiz.attempt_window_hours} hours. "
        f"Your next attempt opens at {timezone.localtime(next_at):%H:%M on %d %B} (UTC)."
    )
    return WindowCheck(allowed=False, used=len(recent), remaining=0, next_at=next_at, message=message)
