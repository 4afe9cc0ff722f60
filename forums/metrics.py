"""Response-time figures for the staff dashboard, per calendar week and per course week: how long
questions wait for a first reply from someone other than the asker, and for an accepted or endorsed
answer (median and 90th percentile), the share still unanswered 24 hours after asking, and the share
of new questions marked as duplicates."""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Q
from django.utils import timezone

from .models import Forum, Thread, ThreadKind, Visibility

DAY = datetime.timedelta(days=1)


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclasses.dataclass(frozen=True)
class Figures:
    label: str
    start: datetime.date | None
    questions: int
    median_first_hours: float | None
    p90_first_hours: float | None
    median_answer_hours: float | None
    p90_answer_hours: float | None
    unanswered_24h: float | None  # share of questions at least a day old with no reply within 24 h
    duplicates: float | None  # share marked as a duplicate

    @property
    def has_data(self) -> bool:
        return self.questions > 0


@dataclasses.dataclass(frozen=True)
class ResponseTimes:
    weeks: list[Figures]  # oldest first
    overall: Figures


def _hours(delta: datetime.timedelta) -> float:
    return delta.total_seconds() / 3600


def _figures(label: str, start, rows: list[dict], now: datetime.datetime) -> Figures:
    first = [_hours(r["first_response_at"] - r["created_at"]) for r in rows if r["first_response_at"]]
    answer = [_hours(r["answered_at"] - r["created_at"]) for r in rows if r["answered_at"]]
    old = [r for r in rows if r["created_at"] <= now - DAY]
    late = [r for r in old if not r["first_response_at"] or r["first_response_at"] - r["created_at"] > DAY]
    return Figures(
        label=label,
        start=start,
        questions=len(rows),
        median_first_hours=percentile(first, 50),
        p90_first_hours=percentile(first, 90),
        median_answer_hours=percentile(answer, 50),
        p90_answer_hours=percentile(answer, 90),
        unanswered_24h=len(late) / len(old) if old else None,
        duplicates=sum(1 for r in rows if r["duplicate_of_id"]) / len(rows) if rows else None,
    )


def _questions(forum: Forum, since: datetime.datetime):
    return (
        Thread.objects.filter(forum=forum, kind=ThreadKind.QUESTION, created_at__gte=since)
        .filter(Q(state__in=[Visibility.VISIBLE, Visibility.HIDDEN]) | Q(merged_into__isnull=False))
        .values("created_at", "first_response_at", "answered_at", "duplicate_of_id", "week_number")
    )


def response_times(*, forum: Forum, weeks: int = 12, now: datetime.datetime | None = None) -> ResponseTimes:
    """The last `weeks` calendar weeks (Monday to Sunday, UTC), oldest first, and all of them together."""
    now = now or timezone.now()
    this_monday = (now - datetime.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first_monday = this_monday - datetime.timedelta(weeks=weeks - 1)
    rows = list(_questions(forum, first_monday))
    by_week: dict[datetime.datetime, list[dict]] = {
        first_monday + datetime.timedelta(weeks=i): [] for i in range(weeks)
    }
    for row in rows:
        start = row["created_at"] - datetime.timedelta(days=row["created_at"].weekday())
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if start in by_week:
            by_week[start].append(row)
    figures = [_figures(f"{start:%d %b}", start.date(), group, now) for start, group in sorted(by_week.items())]
    return ResponseTimes(weeks=figures, overall=_figures(f"Last {weeks} weeks", None, rows, now))


def response_times_by_course_week(
    *, forum: Forum, days: int = 365, now: datetime.datetime | None = None
) -> list[Figures]:
    """The same figures by the course week a question is about (General last), over the last `days`."""
    now = now or timezone.now()
    groups: dict[int | None, list[dict]] = {}
    for row in _questions(forum, now - datetime.timedelta(days=days)):
        groups.setdefault(row["week_number"], []).append(row)
    ordered = sorted(groups.items(), key=lambda pair: (pair[0] is None, pair[0] or 0))
    return [_figures(f"Week {week}" if week else "General", None, group, now) for week, group in ordered]
