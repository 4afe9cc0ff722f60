"""Reads for course pages. Each page costs a fixed number of queries, however big the course.

Who may open an item is not decided here: the caller passes `can_view`, a callable the access policy
answers (see the courseware app), and the rows carry its answer.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils import timezone

from . import registry, schedule
from .models import (
    CompletionRule,
    Course,
    CourseCompletion,
    CourseNotifyRequest,
    Enrollment,
    Interview,
    Item,
    ItemKind,
    ItemProgress,
    Specialization,
    Week,
)

# The access module's reasons for a part that opens later (access.decisions.Reason values).
RELEASE_REASONS = frozenset({"not_released", "released_after_start"})

# (item) -> a truthy answer (the access policy's Decision) when the learner may open it
CanView = Callable[[Item], Any]


@dataclasses.dataclass
class ItemRow:
    item: Item
    access: Any  # the policy's answer for this item: truthy when open, with a reason when not
    complete: bool = False
    started: bool = False
    deadline: datetime.datetime | None = None  # graded items: suggested, inside the week's
    overdue: bool = False

    @property
    def can_view(self) -> bool:
        return bool(self.access)

    @property
    def status(self) -> str:
        return "complete" if self.complete else "started" if self.started else "not-started"


@dataclasses.dataclass
class WeekRow:
    week: Week
    items: list[ItemRow]
    deadline: datetime.datetime | None = None  # suggested, see week_deadlines_apply
    overdue: bool = False

    @property
    def done(self) -> int:
        return sum(row.complete for row in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def minutes(self) -> int:
        return sum(row.item.minutes for row in self.items)

    @property
    def release_lock(self) -> Any:
        """The access module's refusal when the whole week has not opened for the learner yet (its
        reason and opening date), else None."""
        refusals = [row.access for row in self.items if not row.can_view]
        if not refusals or len(refusals) < len(self.items):
            return None
        if all(getattr(r, "reason", "") in RELEASE_REASONS for r in refusals):
            return min(refusals, key=lambda r: r.opens_on or datetime.date.max)
        return None


@dataclasses.dataclass
class CourseCard:
    course: Course
    released: bool
    total: int
    done: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _progress_map(user, items) -> dict[int, ItemProgress]:
    if not user.is_authenticated:
        return {}
    return {p.item_id: p for p in ItemProgress.objects.filter(user=user, item__in=items)}


def _done_by_course(user) -> dict[int, int]:
    if not user.is_authenticated:
        return {}
    rows = (
        ItemProgress.objects.filter(user=user, completed_at__isnull=False)
        .values("item__course_id")
        .annotate(done=Count("id"))
    )
    return {row["item__course_id"]: row["done"] for row in rows}


def specialization_get(*, slug: str | None = None) -> Specialization:
    queryset = Specialization.objects.all()
    spec = queryset.filter(slug=slug).first() if slug else queryset.order_by("id").first()
    if spec is None:
        raise Http404("No such specialization.")
    return spec


def catalog(*, user, specialization: Specialization) -> list[CourseCard]:
    today = timezone.localdate()
    courses = specialization.courses.annotate(item_total=Count("items")).order_by("order")
    done = _done_by_course(user)
    return [
        CourseCard(
            course=course, released=course.is_released(today), total=course.item_total, done=done.get(course.pk, 0)
        )
        for course in courses
    ]


def interviews_list(*, specialization: Specialization) -> list[Interview]:
    return list(specialization.interviews.prefetch_related("related_courses"))


def course_get(*, slug: str) -> Course:
    course = Course.objects.select_related("specialization").filter(slug=slug).first()
    if course is None:
        raise Http404("No such course.")
    return course


def course_syllabus(*, user, course: Course, can_view: CanView) -> list[WeekRow]:
    """The weeks of a course with each item's access and the learner's progress."""
    items = list(
        Item.objects.filter(course=course).select_related("week", "lecture").order_by("week__number", "order", "id")
    )
    for item in items:
        item.course = course  # already loaded; the policy reads it
    progress = _progress_map(user, items)
    rows: dict[int, list[ItemRow]] = defaultdict(list)
    for item in items:
        p = progress.get(item.pk)
        rows[item.week_id].append(
            ItemRow(
                item=item,
                access=can_view(item),
                complete=bool(p and p.completed_at),
                started=bool(p),
            )
        )
    return [WeekRow(week=week, items=rows.get(week.pk, [])) for week in course.weeks.all()]


@dataclasses.dataclass
class CourseOutline:
    """The course page: the syllabus with the learner's progress and deadlines, and what to do next.

    Two measures, because they answer two questions: `graded_passed`/`graded_total` decide completion
    (the course's rule, see courses.services.course_completion_evaluate), `percent` is how much of the
    material the learner has gone through."""

    course: Course
    weeks: list[WeekRow]
    released: bool
    completion: CourseCompletion | None
    notify_requested: bool
    graded_kinds: frozenset[str] = frozenset()

    @property
    def _graded_rows(self) -> list[ItemRow]:
        return [row for week in self.weeks for row in week.items if row.item.kind in self.graded_kinds]

    @property
    def graded_total(self) -> int:
        return len(self._graded_rows)

    @property
    def graded_passed(self) -> int:
        return sum(row.complete for row in self._graded_rows)

    @property
    def requires_all_items(self) -> bool:
        return self.course.completion_rule == CompletionRule.ALL_ITEMS

    @property
    def done(self) -> int:
        return sum(week.done for week in self.weeks)

    @property
    def total(self) -> int:
        return sum(week.total for week in self.weeks)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def resume(self) -> Item | None:
        return course_resume_item(weeks=self.weeks)

    @property
    def has_deadlines(self) -> bool:
        return any(week.deadline for week in self.weeks)

    @property
    def has_locked(self) -> bool:
        return any(not row.can_view for week in self.weeks for row in week.items)

    @property
    def overdue(self) -> bool:
        """Something is past its suggested deadline (the reset button shows only then)."""
        return not self.completion and any(week.overdue for week in self.weeks)

    @property
    def behind(self) -> list[BehindSchedule]:
        """This course in the behind-schedule banner, when something is overdue."""
        if not self.overdue:
            return []
        number, due = reset_preview(weeks=self.weeks, now=timezone.now())
        overdue = sum(week.overdue for week in self.weeks)
        return [BehindSchedule(course=self.course, overdue_weeks=overdue, next_week=number, reset_due=due)]


def course_outline(*, user, course: Course, can_view: CanView, now: datetime.datetime | None = None) -> CourseOutline:
    weeks = course_syllabus(user=user, course=course, can_view=can_view)
    week_deadlines_apply(user=user, course=course, weeks=weeks, now=now)
    return CourseOutline(
        course=course,
        weeks=weeks,
        released=course.is_released(),
        completion=course_completion_get(user=user, course=course),
        notify_requested=notify_requested(user=user, course=course),
        graded_kinds=frozenset(registry.graded_kinds()),
    )


def course_resume_item(*, weeks: list[WeekRow]) -> Item | None:
    """The first item the learner has not completed and may open."""
    for week in weeks:
        for row in week.items:
            if row.can_view and not row.complete:
                return row.item
    return None


def notify_requested(*, user, course: Course) -> bool:
    return user.is_authenticated and CourseNotifyRequest.objects.filter(user=user, course=course).exists()


# The player starts from the beginning when the saved position is this close to either end (the same
# rule as static/js/lecture.js), so the page never announces a resume the player will not do.
RESUME_MARGIN_SECONDS = 2.0


@dataclasses.dataclass
class ItemPage:
    item: Item
    access: Any  # the policy's answer: truthy when the learner may open the item, else why not
    progress: ItemProgress | None
    previous: Item | None
    next: Item | None
    position: int
    count: int
    deadline: datetime.datetime | None = None  # a graded item's suggested deadline (enrolled learners)

    @property
    def deadline_overdue(self) -> bool:
        done = bool(self.progress and self.progress.completed_at)
        return bool(self.deadline and not done and self.deadline < timezone.now())

    @property
    def can_view(self) -> bool:
        return bool(self.access)

    @property
    def _saved_position(self) -> float:
        return float(self.progress.position_seconds or 0) if self.progress else 0.0

    @property
    def _duration(self) -> float:
        lecture = getattr(self.item, "lecture", None) if self.item.kind == ItemKind.LECTURE else None
        return float(lecture.duration_seconds or 0) if lecture else 0.0

    @property
    def watched_percent(self) -> int:
        """The share of the lecture played, as the player shows it ("42% watched")."""
        return round(100 * self.progress.watched_fraction) if self.progress else 0

    @property
    def watched_to_end(self) -> bool:
        """The last saved position is at the very end of the lecture."""
        duration = self._duration
        return bool(duration) and self._saved_position >= duration - RESUME_MARGIN_SECONDS

    @property
    def resume_seconds(self) -> float | None:
        """Where the lecture player picks up again, or None when it starts from the beginning."""
        position = self._saved_position
        if position <= 1 or self.watched_to_end:
            return None
        return position


def item_page(*, user, course: Course, item_slug: str, can_view: CanView) -> ItemPage:
    item = (
        Item.objects.filter(course=course, slug=item_slug)
        .select_related("week", "lecture", "reading")
        .prefetch_related(Prefetch("lecture__papers"))
        .first()
    )
    if item is None:
        raise Http404("No such item in this course.")
    item.course = course
    ordered = list(
        Item.objects.filter(course=course)
        .order_by("week__number", "order", "id")
        .values_list("pk", "slug", "title", "kind")
    )
    index = next(i for i, row in enumerate(ordered) if row[0] == item.pk)

    def stub(row):
        return Item(pk=row[0], slug=row[1], title=row[2], kind=row[3], course=course) if row else None

    progress = None
    if user.is_authenticated:
        progress = ItemProgress.objects.filter(user=user, item=item).first()
    return ItemPage(
        item=item,
        access=can_view(item),
        progress=progress,
        deadline=item_deadline(user=user, course=course, item=item),
        previous=stub(ordered[index - 1]) if index > 0 else None,
        next=stub(ordered[index + 1]) if index + 1 < len(ordered) else None,
        position=index + 1,
        count=len(ordered),
    )


def lecture_for_media(*, item_id: int) -> Item:
    item = Item.objects.select_related("course", "week", "lecture").filter(pk=item_id, kind=ItemKind.LECTURE).first()
    if item is None or not hasattr(item, "lecture"):
        raise Http404("No such lecture.")
    return item


def interview_get(*, slug: str) -> Interview:
    interview = Interview.objects.prefetch_related("related_courses").filter(slug=slug).first()
    if interview is None:
        raise Http404("No such interview.")
    return interview


@dataclasses.dataclass
class CourseProgress:
    course: Course
    released: bool
    weeks: list[WeekRow]
    graded_kinds: frozenset[str] = frozenset()

    @property
    def graded_total(self) -> int:
        return sum(1 for week in self.weeks for row in week.items if row.item.kind in self.graded_kinds)

    @property
    def graded_passed(self) -> int:
        return sum(row.complete for week in self.weeks for row in week.items if row.item.kind in self.graded_kinds)

    @property
    def done(self) -> int:
        return sum(week.done for week in self.weeks)

    @property
    def total(self) -> int:
        return sum(week.total for week in self.weeks)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def learner_progress(*, user, specialization: Specialization, can_view: CanView) -> list[CourseProgress]:
    """Progress per course and week for the progress page, in four queries."""
    today = timezone.localdate()
    courses = list(specialization.courses.order_by("order"))
    by_id = {course.pk: course for course in courses}
    weeks = list(Week.objects.filter(course__in=courses).order_by("course_id", "number"))
    items = list(Item.objects.filter(course__in=courses).select_related("week").order_by("week__number", "order", "id"))
    progress = _progress_map(user, items)
    items_by_week: dict[int, list[ItemRow]] = defaultdict(list)
    for item in items:
        item.course = by_id[item.course_id]
        p = progress.get(item.pk)
        items_by_week[item.week_id].append(
            ItemRow(
                item=item,
                access=can_view(item),
                complete=bool(p and p.completed_at),
                started=bool(p),
            )
        )
    weeks_by_course: dict[int, list[WeekRow]] = defaultdict(list)
    for week in weeks:
        weeks_by_course[week.course_id].append(WeekRow(week=week, items=items_by_week.get(week.pk, [])))
    graded = frozenset(registry.graded_kinds())
    return [
        CourseProgress(
            course=course,
            released=course.is_released(today),
            weeks=weeks_by_course.get(course.pk, []),
            graded_kinds=graded,
        )
        for course in courses
    ]


def learner_summary(*, user) -> dict:
    completed = ItemProgress.objects.filter(user=user, completed_at__isnull=False)
    return {
        "items_completed": completed.count(),
        "courses_started": completed.values("item__course").distinct().count(),
        "lectures_watched": completed.filter(item__kind=ItemKind.LECTURE).count(),
    }


def item_get(*, item_id: int) -> Item:
    """An item with its course (and lecture, when it is one): what the progress endpoint updates."""
    item = Item.objects.select_related("course", "week", "lecture").filter(pk=item_id).first()
    if item is None:
        raise Http404("No such item.")
    return item


def _completed_course_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(CourseCompletion.objects.filter(user=user).values_list("course_id", flat=True))


def week_deadlines_apply(*, user, course: Course, weeks: list[WeekRow], now: datetime.datetime | None = None) -> None:
    """Set each week's suggested deadline for an enrolled learner (and each graded item's, inside its
    week). One query."""
    if not user.is_authenticated:
        return
    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    if enrollment is None:
        return
    _deadlines_apply(course=course, enrollment=enrollment, weeks=weeks, now=now or timezone.now())


@dataclasses.dataclass(frozen=True)
class _ScheduleBasis:
    tz: datetime.tzinfo
    schedule_from: datetime.datetime  # the later of the learner's start (or last reset) and the course opening
    start: datetime.date  # the learner's start day, for parts released N days after it


def _schedule_basis(*, course: Course, enrollment: Enrollment, now: datetime.datetime) -> _ScheduleBasis:
    tz = timezone.get_current_timezone()
    schedule_from = enrollment.schedule_start or enrollment.created_at
    if course.release_date:
        schedule_from = max(schedule_from, schedule.day_start(course.release_date, tz))
    start = schedule.schedule_start(
        enrolled_on=timezone.localdate(enrollment.created_at),
        course_release=course.release_date,
        today=timezone.localdate(now),
    )
    return _ScheduleBasis(tz=tz, schedule_from=schedule_from, start=start)


def _week_due(*, course: Course, week: Week, basis: _ScheduleBasis) -> datetime.datetime:
    opening = schedule.opening(
        course_release=course.release_date,
        week=schedule.Release(week.release_date, week.release_after_days),
        start=basis.start,
    )
    opens_at = schedule.day_start(opening.on, basis.tz) if opening.on else None
    return schedule.week_deadline(schedule_from=basis.schedule_from, number=week.number, opens_at=opens_at)


def _deadlines_apply(*, course: Course, enrollment: Enrollment, weeks: list[WeekRow], now: datetime.datetime) -> None:
    """The schedule counts from the later of the learner's start (or their last reset) and the course's
    opening; week N is due N weeks on, and never sooner than a week after it opens for the learner (a week
    released later moves its deadline). A graded item may be due earlier inside its week."""
    basis = _schedule_basis(course=course, enrollment=enrollment, now=now)
    for row in weeks:
        row.deadline = _week_due(course=course, week=row.week, basis=basis)
        row.overdue = row.deadline < now and row.done < row.total
        for item_row in row.items:
            if item_row.item.is_graded:
                item_row.deadline = schedule.item_deadline(
                    week_deadline=row.deadline, due_after_days=item_row.item.due_after_days
                )
                item_row.overdue = item_row.deadline < now and not item_row.complete
                row.overdue = row.overdue or item_row.overdue


def item_deadline(
    *, user, course: Course, item: Item, now: datetime.datetime | None = None
) -> datetime.datetime | None:
    """A graded item's suggested deadline for an enrolled learner (as on the outline), else None."""
    if not item.is_graded or not getattr(user, "is_authenticated", False):
        return None
    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    if enrollment is None:
        return None
    basis = _schedule_basis(course=course, enrollment=enrollment, now=now or timezone.now())
    week_due = _week_due(course=course, week=item.week, basis=basis)
    return schedule.item_deadline(week_deadline=week_due, due_after_days=item.due_after_days)


@dataclasses.dataclass
class BehindSchedule:
    """A course where the learner has something overdue, and what resetting would do."""

    course: Course
    overdue_weeks: int
    next_week: int  # the first unfinished week: due a week after a reset
    reset_due: datetime.datetime

    @property
    def slug(self) -> str:
        return self.course.slug


def reset_preview(*, weeks: list[WeekRow], now: datetime.datetime) -> tuple[int, datetime.datetime]:
    """What "Reset my deadlines" does: the first unfinished week is due a week from now (each later week
    one more week on). Returns (its number, its new deadline)."""
    first_open = next((row.week.number for row in weeks if row.done < row.total), len(weeks) + 1)
    return first_open, now + schedule.WEEK


def _learner_schedules(*, user, now: datetime.datetime) -> list[tuple[Enrollment, list[WeekRow]]]:
    """Each course the learner is enrolled in (not completed, opened), its weeks with suggested deadlines
    applied. Three queries, however many courses."""
    enrollments = list(
        Enrollment.objects.filter(user=user).exclude(course__completions__user=user).select_related("course")
    )
    if not enrollments:
        return []
    course_ids = [e.course_id for e in enrollments]
    items = list(Item.objects.filter(course_id__in=course_ids).select_related("week").order_by("week__number", "order"))
    done = set(
        ItemProgress.objects.filter(user=user, item__course_id__in=course_ids, completed_at__isnull=False).values_list(
            "item_id", flat=True
        )
    )
    out = []
    for enrollment in enrollments:
        if not enrollment.course.is_released(timezone.localdate(now)):
            continue
        weeks: dict[int, WeekRow] = {}
        for item in items:
            if item.course_id == enrollment.course_id:
                item.course = enrollment.course
                row = weeks.setdefault(item.week_id, WeekRow(week=item.week, items=[]))
                row.items.append(ItemRow(item=item, access=True, complete=item.pk in done))
        rows = sorted(weeks.values(), key=lambda r: r.week.number)
        _deadlines_apply(course=enrollment.course, enrollment=enrollment, weeks=rows, now=now)
        out.append((enrollment, rows))
    return out


def _behind(schedules, now: datetime.datetime) -> list[BehindSchedule]:
    behind = []
    for enrollment, rows in schedules:
        overdue = sum(row.overdue for row in rows)
        if overdue:
            number, due = reset_preview(weeks=rows, now=now)
            behind.append(
                BehindSchedule(course=enrollment.course, overdue_weeks=overdue, next_week=number, reset_due=due)
            )
    return behind


def behind_schedule(*, user, now: datetime.datetime | None = None) -> list[BehindSchedule]:
    """The learner's courses (not completed) with an overdue suggested deadline, for the banner on the
    home, course and progress pages. Three queries, however many courses (one when none)."""
    if not user.is_authenticated:
        return []
    now = now or timezone.now()
    return _behind(_learner_schedules(user=user, now=now), now)


@dataclasses.dataclass
class ScheduleOverview:
    behind: list[BehindSchedule]
    deadlines: list  # CalendarEvent with `at`, soonest first: unfinished weeks and graded items


def schedule_overview(*, user, now: datetime.datetime | None = None, limit: int = 8) -> ScheduleOverview:
    """The progress page's schedule: the behind-schedule banner and the next suggested deadlines (three
    queries)."""
    if not user.is_authenticated:
        return ScheduleOverview(behind=[], deadlines=[])
    now = now or timezone.now()
    schedules = _learner_schedules(user=user, now=now)
    deadlines = sorted(
        (event for event in _calendar_events(user=user, schedules=schedules, now=now) if event.at is not None),
        key=lambda event: event.at,
    )
    return ScheduleOverview(behind=_behind(schedules, now), deadlines=deadlines[:limit])


@dataclasses.dataclass(frozen=True)
class CalendarEvent:
    uid: str
    summary: str
    url: str
    at: datetime.datetime | None = None  # a deadline: an instant
    day: datetime.date | None = None  # a week opening: a whole day
    overdue: bool = False


def calendar_events(*, user, now: datetime.datetime | None = None) -> list[CalendarEvent]:
    """What a learner's calendar feed holds: each unfinished week's and graded item's suggested deadline,
    and the day each week opens for them when it opens after the course (three queries)."""
    now = now or timezone.now()
    return _calendar_events(user=user, schedules=_learner_schedules(user=user, now=now), now=now)


def _calendar_events(*, user, schedules, now: datetime.datetime) -> list[CalendarEvent]:
    events = []
    for enrollment, rows in schedules:
        course = enrollment.course
        start = schedule.schedule_start(
            enrolled_on=timezone.localdate(enrollment.created_at),
            course_release=course.release_date,
            today=timezone.localdate(now),
        )
        for row in rows:
            week = row.week
            url = course.get_absolute_url()
            opening = schedule.opening(
                course_release=course.release_date,
                week=schedule.Release(week.release_date, week.release_after_days),
                start=start,
            )
            if opening.scope == "week" and opening.on:
                events.append(
                    CalendarEvent(
                        uid=f"week-open-{week.pk}-{user.pk}",
                        summary=f"{course.title}: week {week.number} opens",
                        url=url,
                        day=opening.on,
                    )
                )
            if row.deadline and row.done < row.total:
                events.append(
                    CalendarEvent(
                        uid=f"week-due-{week.pk}-{user.pk}",
                        summary=f"{course.title}: week {week.number} suggested deadline",
                        url=url,
                        at=row.deadline,
                        overdue=row.overdue,
                    )
                )
            for item_row in row.items:
                if item_row.deadline and not item_row.complete:
                    events.append(
                        CalendarEvent(
                            uid=f"item-due-{item_row.item.pk}-{user.pk}",
                            summary=f"{course.title}: {item_row.item.title} due",
                            url=item_row.item.get_absolute_url(),
                            at=item_row.deadline,
                            overdue=item_row.overdue,
                        )
                    )
    return events


@dataclasses.dataclass
class SpecializationProgress:
    done: int
    total: int
    courses_completed: int
    course_count: int
    completed_ids: set[int]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def specialization_progress(*, user, courses: list[CourseProgress]) -> SpecializationProgress:
    """The whole specialization: items done across its courses, and courses completed (one query)."""
    completed = _completed_course_ids(user)
    return SpecializationProgress(
        done=sum(c.done for c in courses),
        total=sum(c.total for c in courses),
        courses_completed=sum(1 for c in courses if c.course.pk in completed),
        course_count=len(courses),
        completed_ids=completed,
    )


def course_completion_get(*, user, course: Course):
    """The learner's completion of this course, or None."""
    if not user.is_authenticated:
        return None
    return CourseCompletion.objects.filter(user=user, course=course).first()


@dataclasses.dataclass(frozen=True)
class ItemMaterial:
    item_id: int
    slug: str
    title: str
    kind: str
    reading: str = ""  # a reading's Markdown
    captions: tuple = ()  # a lecture's cues: ({start, end, text}, ...)


@dataclasses.dataclass(frozen=True)
class WeekMaterial:
    number: int
    title: str
    items: tuple[ItemMaterial, ...]


@dataclasses.dataclass(frozen=True)
class CourseMaterial:
    """A course's own text, for a learner to keep: readings, lecture transcripts, the item list (two queries)."""

    course_id: int
    slug: str
    title: str
    specialization_title: str
    weeks: tuple[WeekMaterial, ...]


def course_material(*, course_id: int) -> CourseMaterial:
    course = Course.objects.select_related("specialization").filter(pk=course_id).first()
    if course is None:
        raise Http404("No such course.")
    items = (
        Item.objects.filter(course=course)
        .select_related("week", "lecture", "reading")
        .order_by("week__number", "order", "id")
    )
    by_week: dict[int, list[ItemMaterial]] = defaultdict(list)
    titles: dict[int, str] = {}
    for item in items:
        titles[item.week.number] = item.week.title
        lecture = getattr(item, "lecture", None) if item.kind == ItemKind.LECTURE else None
        reading = getattr(item, "reading", None) if item.kind == ItemKind.READING else None
        by_week[item.week.number].append(
            ItemMaterial(
                item_id=item.pk,
                slug=item.slug,
                title=item.title,
                kind=item.kind,
                reading=reading.body if reading else "",
                captions=tuple(lecture.captions or ()) if lecture else (),
            )
        )
    return CourseMaterial(
        course_id=course.pk,
        slug=course.slug,
        title=course.title,
        specialization_title=course.specialization.title,
        weeks=tuple(WeekMaterial(number=n, title=titles[n], items=tuple(by_week[n])) for n in sorted(by_week)),
    )


def calendar_feed_of(*, user):
    """The learner's calendar address (a CalendarFeed), or None before they asked for one."""
    from .models import CalendarFeed

    return CalendarFeed.objects.filter(user=user).first() if user.is_authenticated else None
