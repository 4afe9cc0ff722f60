"""When parts of a course open for a learner, and when they are suggested to be done: pure rules, no
queries, so the access policy, the pages, the notifications and the calendar feed compute the same dates.

A course opens on its `release_date`. A week or an item may open later: on an absolute date, or a number
of days after the learner's schedule start (drip). The schedule start is the later of the day the learner
enrolled and the day the course opened; resetting one's deadlines moves deadlines, never re-locks.
"""

from __future__ import annotations

import dataclasses
import datetime

WEEK = datetime.timedelta(weeks=1)


@dataclasses.dataclass(frozen=True)
class Release:
    """A week's or an item's own release rule: a date, days after the learner's start, or nothing."""

    date: datetime.date | None = None
    after_days: int | None = None

    @property
    def is_relative(self) -> bool:
        return self.after_days is not None


NO_RELEASE = Release()


@dataclasses.dataclass(frozen=True)
class Opening:
    """The first day a part is open for one learner, and which rule decided it.

    `on` is None when the course has no release date (not scheduled). `after_days` is set when the rule
    that decided is relative to the learner's start; `scope` is "course", "week" or "item"."""

    on: datetime.date | None
    scope: str = "course"
    after_days: int | None = None

    def is_open(self, today: datetime.date) -> bool:
        return self.on is not None and self.on <= today


def schedule_start(
    *, enrolled_on: datetime.date | None, course_release: datetime.date | None, today: datetime.date
) -> datetime.date:
    """The day a learner's schedule starts: the later of their enrolment (today when they have not
    started) and the course's opening."""
    start = enrolled_on or today
    return max(start, course_release) if course_release else start


def opening(
    *,
    course_release: datetime.date | None,
    week: Release = NO_RELEASE,
    item: Release = NO_RELEASE,
    start: datetime.date,
) -> Opening:
    """When a part opens for a learner whose schedule starts on `start`: the latest of the course's,
    the week's and the item's rules (a part never opens before what contains it)."""
    if course_release is None:
        return Opening(on=None)
    best = Opening(on=course_release)
    for scope, rule in (("week", week), ("item", item)):
        if rule.date is not None:
            candidate = Opening(on=rule.date, scope=scope)
        elif rule.after_days is not None:
            candidate = Opening(
                on=start + datetime.timedelta(days=rule.after_days), scope=scope, after_days=rule.after_days
            )
        else:
            continue
        if candidate.on >= best.on:
            best = candidate
    return best


def day_start(day: datetime.date, tz: datetime.tzinfo) -> datetime.datetime:
    """Midnight at the start of `day` in `tz` (the learner's time zone)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


def week_deadline(
    *, schedule_from: datetime.datetime, number: int, opens_at: datetime.datetime | None
) -> datetime.datetime:
    """Week N is suggested to be done N weeks after the schedule start, and never sooner than a week
    after it opens (a week released later moves its deadline with it)."""
    deadline = schedule_from + number * WEEK
    if opens_at is not None and opens_at + WEEK > deadline:
        deadline = opens_at + WEEK
    return deadline


def item_deadline(*, week_deadline: datetime.datetime, due_after_days: int | None) -> datetime.datetime:
    """A graded item's suggested deadline inside its week: `due_after_days` after the week's (suggested)
    start, or the week's own deadline."""
    if not due_after_days:
        return week_deadline
    return min(week_deadline, week_deadline - WEEK + datetime.timedelta(days=due_after_days))
