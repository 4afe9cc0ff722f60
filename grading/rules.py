"""The submission rules a learner can see, each decided in one place with one wording: the page that
explains a rule and the service that enforces it call the same function.

- `check_attempts` — the attempt limit;
- `check_cooldown` — the time between two submissions (the page counts down to `ready_at`);
- `passes` — the pass mark.
The upload size limit is `notebooks.too_large_message` / `notebooks.upload_limit_bytes`."""

from __future__ import annotations

import dataclasses
import datetime


@dataclasses.dataclass(frozen=True)
class Check:
    """Truthy when allowed; otherwise `message` is one sentence for the learner."""

    allowed: bool
    message: str = ""
    ready_at: datetime.datetime | None = None  # a cooldown: when the next submission is allowed

    def __bool__(self) -> bool:
        return self.allowed


OK = Check(True)


def check_attempts(*, max_attempts: int | None, used: int) -> Check:
    if max_attempts is not None and used >= max_attempts:
        if max_attempts == 1:
            return Check(False, "You have used your one attempt for this assignment.")
        return Check(False, f"You have used all {max_attempts} attempts for this assignment.")
    return OK


def attempts_left(*, max_attempts: int | None, used: int) -> int | None:
    return None if max_attempts is None else max(0, max_attempts - used)


def check_cooldown(*, cooldown_minutes: int, last_submitted_at: datetime.datetime | None, now) -> Check:
    """Refused until `cooldown_minutes` after the learner's latest submission, saying until when."""
    if not cooldown_minutes or last_submitted_at is None:
        return OK
    ready = last_submitted_at + datetime.timedelta(minutes=cooldown_minutes)
    if now >= ready:
        return OK
    message = f"You can submit again in {wait_text(ready, now)} (a {cooldown_minutes}-minute pause after each one)."
    return Check(False, message, ready)


def wait_text(ready_at: datetime.datetime, now: datetime.datetime) -> str:
    """The time left before the next submission, as the page's countdown shows it ("4:05")."""
    seconds = max(0, int((ready_at - now).total_seconds() + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


def passes(*, percent: float | None, pass_percent: int) -> bool:
    return percent is not None and percent >= pass_percent
