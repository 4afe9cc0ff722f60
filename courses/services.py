"""Writes to course structure and learner progress. Views, commands and tasks call these."""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from . import media, registry, signals
from .models import (
    CompletionRegression,
    CompletionRule,
    Course,
    CourseCompletion,
    CourseNotifyRequest,
    Enrollment,
    Interview,
    Item,
    ItemKind,
    ItemProgress,
    Lecture,
    Specialization,
)


class ProgressError(Exception):
    """A progress update a learner's browser sent that makes no sense."""


def media_render_missing(*, progress: Callable[[int, int, str], None] | None = None, force: bool = False) -> int:
    """Render videos for lectures and interviews whose captions changed or whose file is missing.

    Recorded videos from a pack are left alone. Returns how many were rendered."""
    todo = []
    for lecture in Lecture.objects.select_related("item__course").exclude(video_source_hash__startswith="file:"):
        subtitle = lecture.item.course.title + (" · optional math" if lecture.is_math else "")
        todo.append((lecture, lecture.item.title, subtitle, "lectures"))
    for interview in Interview.objects.exclude(video_source_hash__startswith="file:"):
        todo.append((interview, interview.title, "Heroes of Deep Learning", "interviews"))
    rendered = 0
    for index, (obj, title, subtitle, folder) in enumerate(todo, start=1):
        digest = media.video_source_hash(title=title, subtitle=subtitle, cues=obj.captions)
        exists = bool(obj.video) and default_storage.exists(obj.video.name)
        if not force and exists and obj.video_source_hash == digest:
            continue
        if progress:
            progress(index, len(todo), title)
        relative = f"{folder}/{digest[:16]}.mp4"
        # Rendered in a temporary folder, then handed to the media storage (the filesystem or an object store).
        with tempfile.TemporaryDirectory(prefix="mooc-render-") as tmp:
            out = Path(tmp) / "video.mp4"
            media.render_video(title=title, subtitle=subtitle, cues=obj.captions, out_path=out)
            default_storage.delete(relative)  # same name, same content: replace rather than rename
            with out.open("rb") as handle:
                relative = default_storage.save(relative, File(handle))
        type(obj).objects.filter(pk=obj.pk).update(video=relative, video_source_hash=digest)
        rendered += 1
    return rendered


# ---------------------------------------------------------------------------------------------
# Learners


def enrollment_ensure(*, user, course: Course) -> Enrollment:
    enrollment, _ = Enrollment.objects.get_or_create(user=user, course=course)
    return enrollment


MAX_RANGES = 200


def merge_ranges(ranges: list[list[float]]) -> list[list[float]]:
    """Union of [start, end] intervals, sorted; touching or overlapping intervals are joined."""
    merged: list[list[float]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 0.5:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _clean_ranges(raw, duration: float) -> list[list[float]]:
    if not isinstance(raw, list) or len(raw) > MAX_RANGES:
        raise ProgressError(f"Watched ranges must be a list of at most {MAX_RANGES} [start, end] pairs.")
    ranges = []
    for pair in raw:
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_number(v) for v in pair)):
            raise ProgressError("Each watched range must be a pair of numbers.")
        start, end = max(0.0, float(pair[0])), min(float(pair[1]), duration)
        if end > start:
            ranges.append([round(start, 2), round(end, 2)])
    return ranges


def _is_number(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def progress_record(
    *, user, item: Item, position_seconds, ranges, now: datetime.datetime | None = None
) -> ItemProgress:
    """Save where a learner is in a lecture and which parts they have played. The played parts of all
    sessions are merged on the server, so watching half today and the rest tomorrow counts; the lecture
    is complete once LECTURE_COMPLETE_FRACTION of it has been played, and stays complete."""
    if item.kind != ItemKind.LECTURE:
        raise ProgressError("Only lectures report playback progress.")
    if not _is_number(position_seconds) or position_seconds < 0:
        raise ProgressError("The position must be a non-negative number of seconds.")
    duration = item.lecture.duration_seconds or 0
    cleaned = _clean_ranges(ranges, duration)
    now = now or timezone.now()
    with transaction.atomic():
        enrollment_ensure(user=user, course=item.course)
        progress, _ = ItemProgress.objects.select_for_update().get_or_create(user=user, item=item)
        progress.position_seconds = min(float(position_seconds), duration) if duration else float(position_seconds)
        progress.watched_ranges = merge_ranges(progress.watched_ranges + cleaned)
        watched = sum(end - start for start, end in progress.watched_ranges)
        progress.watched_fraction = min(1.0, watched / duration) if duration else 0.0
        newly_complete = (
            progress.completed_at is None and progress.watched_fraction >= settings.LECTURE_COMPLETE_FRACTION
        )
        if newly_complete:
            progress.completed_at = now
        progress.save()
        if newly_complete:
            _after_ungraded_item_completed(user=user, item=item, now=now)
    return progress


def item_mark_complete(*, user, item: Item, now: datetime.datetime | None = None) -> ItemProgress:
    """A learner marks a reading (or another ungraded item) as done."""
    if item.is_graded:
        raise ProgressError("Graded items are completed by passing them.")
    now = now or timezone.now()
    with transaction.atomic():
        progress = _progress_complete_once(user=user, item=item, now=now)
        if progress.completed_at == now:
            _after_ungraded_item_completed(user=user, item=item, now=now)
    return progress


def _after_ungraded_item_completed(*, user, item: Item, now: datetime.datetime) -> None:
    """A course whose pack asks for every item to be completed may complete with a lecture or a reading."""
    if item.course.completion_rule == CompletionRule.ALL_ITEMS:
        course_completion_evaluate(user=user, course=item.course, now=now)


def _progress_complete_once(*, user, item: Item, now: datetime.datetime) -> ItemProgress:
    """Mark an item complete for a learner, once: a later call keeps the first date."""
    with transaction.atomic():
        enrollment_ensure(user=user, course=item.course)
        progress, _ = ItemProgress.objects.select_for_update().get_or_create(user=user, item=item)
        if progress.completed_at is None:
            progress.completed_at = now
            if item.kind == ItemKind.LECTURE:
                progress.watched_fraction = 1.0
            progress.save()
    return progress


def course_notify_request(*, user, course: Course) -> CourseNotifyRequest:
    request, _ = CourseNotifyRequest.objects.get_or_create(user=user, course=course)
    return request


def course_completion_record(*, user, course: Course, now: datetime.datetime | None = None) -> CourseCompletion:
    """Record that `user` completed `course` (once; later calls return the first record).

    Whoever decides that the course is complete (the completion rules) calls this. On the first
    record, `course_completed` is sent after commit, and `specialization_completed` when it was the
    last released course of the specialization that the learner had not completed."""
    now = now or timezone.now()
    with transaction.atomic():
        completion, created = CourseCompletion.objects.get_or_create(
            user=user, course=course, defaults={"completed_at": now}
        )
        if created:
            transaction.on_commit(
                lambda: signals.course_completed.send(sender=Course, course=course, user=user, completion=completion)
            )
            spec = course.specialization
            course_ids = set(spec.courses.values_list("pk", flat=True))
            done_ids = set(
                CourseCompletion.objects.filter(user=user, course_id__in=course_ids).values_list("course_id", flat=True)
            )
            if course_ids and course_ids == done_ids:
                transaction.on_commit(
                    lambda: signals.specialization_completed.send(
                        sender=Specialization, specialization=spec, user=user, completed_at=now
                    )
                )
    return completion


# ---------------------------------------------------------------------------------------------
# Graded items, completion rules, regressions, suggested deadlines


def item_progress_mark_passed(*, user, item: Item, now: datetime.datetime | None = None) -> ItemProgress:
    """The app that scores a graded item says the learner passed it: the item shows as complete in the
    syllabus and progress bars (once; a later, lower score never un-completes it)."""
    return _progress_complete_once(user=user, item=item, now=now or timezone.now())


def course_completion_evaluate(
    *, user, course: Course, now: datetime.datetime | None = None
) -> CourseCompletion | None:
    """Apply the completion rule and record the completion when it holds. Returns the completion, or None.

    A course is complete when every item of a *graded kind* is passed. Graded kinds are the kinds some
    app registered a passed checker for (`registry.graded_kinds()`: quizzes, notebook assignments);
    a kind nobody checks yet does not count, neither for nor against. A course with no item of a graded
    kind is never completed by this rule. A course whose pack says `completion: all` also needs every
    other item completed (lectures watched, readings marked read).

    Completion is recorded once and never undone here: a completed course stays completed even if a
    later regrade lowers a score (the grading app calls `course_completion_flag_regression` instead).
    Callers: the quizzes app after scoring an attempt, the grading app after grading a submission."""
    existing = CourseCompletion.objects.filter(user=user, course=course).first()
    if existing is not None:
        return existing
    kinds = registry.graded_kinds()
    items = list(Item.objects.filter(course=course, kind__in=kinds))
    if not items:
        return None
    for kind in {item.kind for item in items}:
        of_kind = [item for item in items if item.kind == kind]
        passed = registry.passed_checker_for(kind)(user, of_kind)
        if not {item.pk for item in of_kind} <= set(passed):
            return None
    if course.completion_rule == CompletionRule.ALL_ITEMS:
        done = ItemProgress.objects.filter(user=user, item__course=course, completed_at__isnull=False)
        if Item.objects.filter(course=course).exclude(kind__in=kinds).exclude(pk__in=done.values("item_id")).exists():
            return None
    return course_completion_record(user=user, course=course, now=now)


def course_completion_flag_regression(
    *, user, item: Item, detail: str, now: datetime.datetime | None = None
) -> CompletionRegression | None:
    """A regrade dropped a passed graded item below its pass mark. When the learner's course is already
    completed (and so possibly certified), nothing is revoked silently: the case is flagged for staff,
    who keep or revoke in the admin. Returns the open flag, or None when the course was not completed
    (then the lower score simply counts towards a completion that has not happened yet)."""
    now = now or timezone.now()
    if not CourseCompletion.objects.filter(user=user, course_id=item.course_id).exists():
        return None
    with transaction.atomic():
        flag, created = CompletionRegression.objects.get_or_create(
            user=user,
            item=item,
            resolved_at__isnull=True,
            defaults={"course_id": item.course_id, "detail": detail, "created_at": now},
        )
        if not created and detail not in flag.detail:
            flag.detail = f"{flag.detail}\n{detail}"
            flag.save(update_fields=["detail"])
    return flag


def graded_result_apply(*, user, item: Item, detail: str = "", now: datetime.datetime | None = None) -> bool:
    """Work out what a learner's current result on a graded item means (the task queued by
    `courses.api.graded_result_changed`). Idempotent: it reads the result as the owning app reports it
    now (its registered passed checker), so running it twice, late, or after a newer result is harmless.

    Passed: the item is complete (once) and the completion rule looks at the course. Not passed while
    the item was complete (a regrade lowered it): flagged for staff when the course was completed,
    never revoked silently. Returns whether the item counts as passed."""
    checker = registry.passed_checker_for(item.kind)
    if checker is None:
        return False
    now = now or timezone.now()
    if item.pk in checker(user, [item]):
        item_progress_mark_passed(user=user, item=item, now=now)
        course_completion_evaluate(user=user, course=item.course, now=now)
        return True
    if ItemProgress.objects.filter(user=user, item=item, completed_at__isnull=False).exists():
        course_completion_flag_regression(
            user=user,
            item=item,
            detail=detail or f"The best result on “{item.title}” is now below its pass mark.",
            now=now,
        )
    return False


def completion_regression_resolve(
    *, regression: CompletionRegression, staff, resolution: str, now: datetime.datetime | None = None
) -> CompletionRegression:
    """Staff looked at a flagged regression and wrote down what they decided (revoking a certificate
    is its own action, with its own reason)."""
    if not resolution.strip():
        raise ValueError("Write down what was decided.")
    regression.resolved_at = now or timezone.now()
    regression.resolved_by = staff
    regression.resolution = resolution.strip()
    regression.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return regression


def enrollment_reset_deadlines(*, user, course: Course, now: datetime.datetime | None = None) -> Enrollment:
    """Move the suggested deadlines so the first unfinished week is due a week from now, and each later
    week one more week on. Finished weeks keep counting as done."""
    now = now or timezone.now()
    weeks = list(course.weeks.order_by("number").values_list("pk", "number"))
    done = ItemProgress.objects.filter(user=user, item__course=course, completed_at__isnull=False)
    open_items = set(
        Item.objects.filter(course=course).exclude(pk__in=done.values("item_id")).values_list("week_id", flat=True)
    )
    first_open = next((number for pk, number in weeks if pk in open_items), len(weeks) + 1)
    with transaction.atomic():
        enrollment = enrollment_ensure(user=user, course=course)
        enrollment.schedule_start = now - datetime.timedelta(weeks=first_open - 1)
        enrollment.save(update_fields=["schedule_start"])
    return enrollment


def item_create(*, course: Course, week_number: int | None, slug: str, title: str, kind: str) -> Item:
    """Add an item at the end of a week (the last week by default); used by importers of graded work."""
    weeks = course.weeks.order_by("number")
    week = weeks.filter(number=week_number).first() if week_number else weeks.last()
    if week is None:
        raise ValueError(f"{course.slug} has no week {week_number}" if week_number else f"{course.slug} has no weeks")
    if Item.objects.filter(course=course, slug=slug).exists():
        raise ValueError(f"{course.slug} already has an item {slug!r}")
    order = (week.items.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    return Item.objects.create(course=course, week=week, order=order, slug=slug, title=title, kind=kind)


def item_ensure(
    *, kind: str, slug: str, title: str, course_slug: str | None = None, week_number: int | None = None
) -> Item:
    """The item an importer of graded work attaches to: the existing one with this slug and kind (in
    `course_slug` when given, else the only one), or a new one at the end of a week of `course_slug`.
    Raises ValueError with a message for the operator."""
    items = Item.objects.filter(slug=slug, kind=kind).select_related("course")
    if course_slug:
        course = Course.objects.filter(slug=course_slug).first()
        if course is None:
            raise ValueError(f"No course {course_slug!r}.")
        return items.filter(course=course).first() or item_create(
            course=course, week_number=week_number, slug=slug, title=title, kind=kind
        )
    found = list(items)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"No {kind} {slug!r} yet: add --course COURSE_SLUG to create it.")
    raise ValueError(f"{slug!r} exists in several courses; add --course.")


def course_release_notify(*, today: datetime.date | None = None) -> int:
    """E-mail everyone on a course's notify-me list once the course has opened. Each request is
    answered once (`notified_at`), so running this again, or twice at once, sends nothing twice."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    today = today or timezone.localdate()
    sent = 0
    pending = CourseNotifyRequest.objects.filter(notified_at__isnull=True, course__release_date__lte=today)
    for request_id in list(pending.values_list("pk", flat=True)):
        with transaction.atomic():
            request = (
                CourseNotifyRequest.objects.select_for_update(skip_locked=True)
                .select_related("course", "user")
                .filter(pk=request_id, notified_at__isnull=True)
                .first()
            )
            if request is None:
                continue
            context = {"course": request.course, "user": request.user, "site_url": settings.SITE_URL}
            send_mail(
                subject=f"{request.course.title} is open",
                message=render_to_string("courses/email/course_released.txt", context),
                from_email=None,
                recipient_list=[request.user.email],
            )
            request.notified_at = timezone.now()
            request.save(update_fields=["notified_at"])
            sent += 1
    return sent
