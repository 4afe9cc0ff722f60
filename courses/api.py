"""The courses app's public door: other apps import only this module.

Courses owns the structure (specialization → course → week → item, interviews), content packs,
enrollment, progress and completion, and the registry through which graded kinds plug in. It does
not decide who may see what: the pages that need a decision get it from the access app and hand the
answer to the selectors here (a `can_view(item)` callable).

Facts other apps compute with travel as frozen dataclasses (`CourseFacts`, `ItemFacts`,
`CompletionFacts`); page selectors return the page dataclasses of `courses.selectors`.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from .media import captions_to_vtt
from .models import Course, CourseCompletion, Enrollment, Item, ItemKind, Specialization, Week
from .packs.bounded_yaml import LineDict, LineList, YamlError
from .packs.bounded_yaml import loads as yaml_loads
from .packs.bounded_yaml import plain as yaml_plain
from .packs.format import SLUG_RE, PackError
from .registry import (
    PackHandler,
    item_panels,
    item_view_for,
    register_item_panel,
    register_item_view,
    register_pack_handler,
    register_passed_checker,
    register_question_validator,
)
from .rendering import focusable_code, render_markdown
from .schedule import NO_RELEASE, Opening, Release
from .schedule import opening as release_opening
from .schedule import schedule_start as release_schedule_start
from .selectors import (
    BehindSchedule,
    CourseCard,
    CourseMaterial,
    CourseOutline,
    CourseProgress,
    ItemPage,
    ItemRow,
    WeekRow,
    behind_schedule,
    calendar_feed_of,
    catalog,
    course_get,
    course_material,
    course_outline,
    course_syllabus,
    interview_get,
    interviews_list,
    item_get,
    item_page,
    learner_progress,
    learner_summary,
    lecture_for_media,
    notify_requested,
    schedule_overview,
    specialization_get,
    specialization_progress,
)
from .services import (
    NothingOverdue,
    ProgressError,
    calendar_feed_get,
    calendar_feed_regenerate,
    calendar_feed_render,
    course_notify_request,
    enrollment_ensure,
    enrollment_reset_deadlines,
    item_create,
    item_ensure,
    item_mark_complete,
    progress_record,
)
from .signals import course_completed, specialization_completed

# ---- facts ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CourseFacts:
    course_id: int
    slug: str
    title: str
    specialization_id: int
    release_date: datetime.date | None

    def is_released(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.release_date is not None and self.release_date <= today


@dataclasses.dataclass(frozen=True)
class SpecializationFacts:
    specialization_id: int
    slug: str
    title: str


@dataclasses.dataclass(frozen=True)
class ItemFacts:
    item_id: int
    slug: str
    title: str
    kind: str
    is_preview: bool
    is_graded: bool
    course: CourseFacts
    week_number: int = 0
    week_release: Release = NO_RELEASE
    release: Release = NO_RELEASE

    @property
    def has_own_release(self) -> bool:
        return self.week_release != NO_RELEASE or self.release != NO_RELEASE

    @property
    def is_relative(self) -> bool:
        return self.week_release.is_relative or self.release.is_relative

    def opening(self, *, start: datetime.date) -> Opening:
        """When this item opens for a learner whose schedule starts on `start` (see courses.schedule)."""
        return release_opening(
            course_release=self.course.release_date, week=self.week_release, item=self.release, start=start
        )


@dataclasses.dataclass(frozen=True)
class CompletionFacts:
    user_id: int
    course_id: int
    specialization_id: int
    completed_at: datetime.datetime


def _course_facts(course: Course) -> CourseFacts:
    return CourseFacts(
        course_id=course.pk,
        slug=course.slug,
        title=course.title,
        specialization_id=course.specialization_id,
        release_date=course.release_date,
    )


def course_facts(*, course_id: int) -> CourseFacts:
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        raise Http404("No such course.")
    return _course_facts(course)


def _item_facts(item: Item, course: CourseFacts, week: Week) -> ItemFacts:
    return ItemFacts(
        item_id=item.pk,
        slug=item.slug,
        title=item.title,
        kind=item.kind,
        is_preview=item.is_preview,
        is_graded=item.is_graded,
        course=course,
        week_number=week.number,
        week_release=Release(week.release_date, week.release_after_days),
        release=Release(item.release_date, item.release_after_days),
    )


def item_facts(item) -> ItemFacts:
    """Facts about an item, from an Item (its course and week loaded, as every selector here loads
    them), an ItemFacts, or an item id (one query)."""
    if isinstance(item, ItemFacts):
        return item
    if not isinstance(item, Item):
        found = Item.objects.select_related("course", "week").filter(pk=item).first()
        if found is None:
            raise Http404("No such item.")
        item = found
    return _item_facts(item, _course_facts(item.course), item.week)


@dataclasses.dataclass(frozen=True)
class WeekReleaseFacts:
    week_id: int
    number: int
    course: CourseFacts
    release: Release


def week_release_facts(*, week_id: int) -> WeekReleaseFacts:
    """A week's release rule with its course (one query), for posting in the week's forum topic."""
    week = Week.objects.select_related("course").filter(pk=week_id).first()
    if week is None:
        raise Http404("No such week.")
    return WeekReleaseFacts(
        week_id=week.pk,
        number=week.number,
        course=_course_facts(week.course),
        release=Release(week.release_date, week.release_after_days),
    )


def enrolled_on_by_course(*, user_id: int) -> dict[int, datetime.date]:
    """The day the learner enrolled in each of their courses (one query), in the current time zone."""
    return {
        course_id: timezone.localdate(created_at)
        for course_id, created_at in Enrollment.objects.filter(user_id=user_id).values_list("course_id", "created_at")
    }


@dataclasses.dataclass(frozen=True)
class WeekFacts:
    week_id: int
    number: int
    title: str
    items: tuple[ItemFacts, ...]


def course_structure(*, course_id: int) -> list[WeekFacts]:
    """The weeks of a course in order, each with its items in order (two queries), for apps that mirror
    the structure (the forums' topics per week and per assignment)."""
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        raise Http404("No such course.")
    facts = _course_facts(course)
    items: dict[int, list[ItemFacts]] = {}
    for item in Item.objects.filter(course_id=course_id).select_related("week").order_by("week__number", "order", "id"):
        items.setdefault(item.week_id, []).append(_item_facts(item, facts, item.week))
    return [
        WeekFacts(week_id=week.pk, number=week.number, title=week.title, items=tuple(items.get(week.pk, ())))
        for week in Week.objects.filter(course_id=course_id).order_by("number")
    ]


def specialization_facts(*, specialization_id: int) -> SpecializationFacts:
    spec = Specialization.objects.filter(pk=specialization_id).first()
    if spec is None:
        raise Http404("No such specialization.")
    return SpecializationFacts(specialization_id=spec.pk, slug=spec.slug, title=spec.title)


def completed_course_ids(*, user_id: int) -> set[int]:
    """Courses the learner has completed (for the access policy and certificates)."""
    return set(CourseCompletion.objects.filter(user_id=user_id).values_list("course_id", flat=True))


def _completion(row: CourseCompletion) -> CompletionFacts:
    return CompletionFacts(
        user_id=row.user_id,
        course_id=row.course_id,
        specialization_id=row.course.specialization_id,
        completed_at=row.completed_at,
    )


def completion_of(*, user_id: int, course_id: int) -> CompletionFacts | None:
    row = CourseCompletion.objects.select_related("course").filter(user_id=user_id, course_id=course_id).first()
    return _completion(row) if row else None


def completions_of(*, user_id: int, specialization_id: int | None = None) -> list[CompletionFacts]:
    rows = CourseCompletion.objects.select_related("course").filter(user_id=user_id)
    if specialization_id is not None:
        rows = rows.filter(course__specialization_id=specialization_id)
    return [_completion(row) for row in rows.order_by("completed_at", "id")]


def completions_all() -> list[CompletionFacts]:
    """Every recorded completion (operators' catch-up commands)."""
    return [_completion(row) for row in CourseCompletion.objects.select_related("course").order_by("id")]


@dataclasses.dataclass(frozen=True)
class EnrollmentFacts:
    course_id: int
    course_slug: str
    course_title: str
    enrolled_at: datetime.datetime
    schedule_start: datetime.datetime  # suggested week deadlines count from here


def enrollments_of(*, user_id: int) -> list[EnrollmentFacts]:
    """The courses a learner is enrolled in (opened an item of, or saved progress in), in course order."""
    rows = Enrollment.objects.filter(user_id=user_id).select_related("course").order_by("course__order", "course_id")
    return [
        EnrollmentFacts(
            course_id=row.course_id,
            course_slug=row.course.slug,
            course_title=row.course.title,
            enrolled_at=row.created_at,
            schedule_start=row.schedule_start or row.created_at,
        )
        for row in rows
    ]


def courses_all() -> list[CourseFacts]:
    """Every course, in specialization and course order (staff choosing courses, e.g. for a grant)."""
    return [_course_facts(course) for course in Course.objects.order_by("specialization_id", "order", "id")]


def specialization_course_ids(*, specialization_id: int) -> list[int]:
    return list(
        Course.objects.filter(specialization_id=specialization_id).order_by("order").values_list("pk", flat=True)
    )


# ---- consequences of a graded result --------------------------------------------------------------


def graded_result_changed(*, user_id: int, item_id: int, detail: str = "", at: datetime.datetime | None = None) -> None:
    """A graded item's result changed for a learner (a quiz scored, a notebook graded or regraded, a
    peer grade released). What it means for them (the item complete, the course completed, a
    certificate, a regression flagged for staff) is worked out by a queued, idempotent task after the
    caller's transaction commits: nothing that happens there can undo the grade itself.

    `detail` explains a drop below the pass mark for staff (see course_completion_flag_regression);
    `at` is when the result happened (default: now): a completion is dated by it, however late the task."""
    from .tasks import apply_graded_result

    at = (at or timezone.now()).isoformat()
    transaction.on_commit(lambda: apply_graded_result.delay(user_id, item_id, detail, at), robust=True)


__all__ = [
    "SLUG_RE",
    "BehindSchedule",
    "CompletionFacts",
    "CourseCard",
    "CourseFacts",
    "CourseMaterial",
    "CourseOutline",
    "CourseProgress",
    "EnrollmentFacts",
    "ItemFacts",
    "ItemKind",
    "ItemPage",
    "ItemRow",
    "LineDict",
    "LineList",
    "NothingOverdue",
    "Opening",
    "PackError",
    "PackHandler",
    "ProgressError",
    "Release",
    "SpecializationFacts",
    "WeekFacts",
    "WeekReleaseFacts",
    "WeekRow",
    "YamlError",
    "behind_schedule",
    "calendar_feed_get",
    "calendar_feed_of",
    "calendar_feed_regenerate",
    "calendar_feed_render",
    "captions_to_vtt",
    "catalog",
    "completed_course_ids",
    "completion_of",
    "completions_all",
    "completions_of",
    "course_completed",
    "course_facts",
    "course_get",
    "course_material",
    "course_notify_request",
    "course_outline",
    "course_structure",
    "course_syllabus",
    "courses_all",
    "enrolled_on_by_course",
    "enrollment_ensure",
    "enrollment_reset_deadlines",
    "enrollments_of",
    "focusable_code",
    "graded_result_changed",
    "interview_get",
    "interviews_list",
    "item_create",
    "item_ensure",
    "item_facts",
    "item_get",
    "item_mark_complete",
    "item_page",
    "item_panels",
    "item_view_for",
    "learner_progress",
    "learner_summary",
    "lecture_for_media",
    "notify_requested",
    "progress_record",
    "register_item_panel",
    "register_item_view",
    "register_pack_handler",
    "register_passed_checker",
    "register_question_validator",
    "release_opening",
    "release_schedule_start",
    "render_markdown",
    "schedule_overview",
    "specialization_completed",
    "specialization_course_ids",
    "specialization_facts",
    "specialization_get",
    "specialization_progress",
    "week_release_facts",
    "yaml_loads",
    "yaml_plain",
]
