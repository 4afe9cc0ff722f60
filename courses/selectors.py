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

from . import registry
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

# (item) -> a truthy answer (the access policy's Decision) when the learner may open it
CanView = Callable[[Item], Any]


@dataclasses.dataclass
class ItemRow:
    item: Item
    access: Any  # the policy's answer for this item: truthy when open, with a reason when not
    complete: bool = False
    started: bool = False

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
    items = list(Item.objects.filter(course=course).select_related("week").order_by("week__number", "order", "id"))
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
        previous=stub(ordered[index - 1]) if index > 0 else None,
        next=stub(ordered[index + 1]) if index + 1 < len(ordered) else None,
        position=index + 1,
        count=len(ordered),
    )


def lecture_for_media(*, item_id: int) -> Item:
    item = Item.objects.select_related("course", "lecture").filter(pk=item_id, kind=ItemKind.LECTURE).first()
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
    items = list(Item.objects.filter(course__in=courses).order_by("week__number", "order", "id"))
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
    item = Item.objects.select_related("course", "lecture").filter(pk=item_id).first()
    if item is None:
        raise Http404("No such item.")
    return item


def _completed_course_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(CourseCompletion.objects.filter(user=user).values_list("course_id", flat=True))


def week_deadlines_apply(*, user, course: Course, weeks: list[WeekRow], now: datetime.datetime | None = None) -> None:
    """Set each week's suggested deadline for an enrolled learner: the end of week N of their schedule,
    counted from when they enrolled or last reset their deadlines. One query."""
    if not user.is_authenticated:
        return
    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    if enrollment is None:
        return
    now = now or timezone.now()
    start = enrollment.schedule_start or enrollment.created_at
    for row in weeks:
        row.deadline = start + datetime.timedelta(weeks=row.week.number)
        row.overdue = row.deadline < now and row.done < row.total


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
