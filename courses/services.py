"""Writes to course structure and learner progress. Views, commands and tasks call these."""

from __future__ import annotations

import dataclasses
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
    CalendarFeed,
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
    Week,
    WeekOpenNotice,
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


@dataclasses.dataclass(frozen=True)
class DurationCheck:
    """A lecture's durations: stored (what completion counts against), declared by the pack (its last
    caption's end) and probed from its video file."""

    label: str
    stored: float
    declared: float
    probed: float

    @property
    def stored_differs(self) -> bool:
        return abs(self.stored - self.probed) > STORED_DURATION_SLACK

    @property
    def declared_differs(self) -> bool:
        return bool(self.declared) and media.duration_mismatch(declared=self.declared, probed=self.probed)


# Container durations are given to the hundredth of a second; anything further apart is a stale value.
STORED_DURATION_SLACK = 0.05


def lecture_durations_check() -> list[DurationCheck]:
    """Probe every lecture's video file (read-only). Lectures without a file are skipped."""
    checks = []
    lectures = Lecture.objects.select_related("item__course").order_by(
        "item__course__order", "item__week__number", "item__order"
    )
    for lecture in lectures:
        if not lecture.video or not (Path(settings.MEDIA_ROOT) / lecture.video.name).is_file():
            continue
        checks.append(
            DurationCheck(
                label=f"{lecture.item.course.slug}/{lecture.item.slug}",
                stored=lecture.duration_seconds,
                declared=lecture.declared_duration_seconds,
                probed=media.probe_duration(Path(settings.MEDIA_ROOT) / lecture.video.name),
            )
        )
    return checks


def lecture_durations_sync() -> list[DurationCheck]:
    """Store each lecture's duration as probed from its video (the media wins over the pack). Returns
    the lectures whose pack-declared duration differs from the file's by more than the tolerance."""
    checks = lecture_durations_check()
    for check in checks:
        if check.stored_differs:
            course_slug, item_slug = check.label.split("/", 1)
            Lecture.objects.filter(item__course__slug=course_slug, item__slug=item_slug).update(
                duration_seconds=round(check.probed, 3)
            )
    return [check for check in checks if check.declared_differs]


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


# Reaching the end: the player's `ended` event with a position this close to the stored duration.
END_MARGIN_SECONDS = 1.0


def progress_record(
    *, user, item: Item, position_seconds, ranges, ended: bool = False, now: datetime.datetime | None = None
) -> ItemProgress:
    """Save where a learner is in a lecture and which parts they have played. The played parts of all
    sessions are merged on the server, so watching half today and the rest tomorrow counts, at any speed
    and with seeks (ranges are in media time); the lecture is complete once LECTURE_COMPLETE_FRACTION of
    it has been played, or when the player reached its end (`ended`), and stays complete."""
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
        reached_end = bool(ended) and bool(duration) and float(position_seconds) >= duration - END_MARGIN_SECONDS
        newly_complete = progress.completed_at is None and (
            reached_end or progress.watched_fraction >= settings.LECTURE_COMPLETE_FRACTION
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


def course_notify_request(*, user, course: Course, today: datetime.date | None = None) -> CourseNotifyRequest:
    """ "Notify me". Before the course opens: one e-mail when it does. In an open course (a week still to
    come): the learner is enrolled, and enrolled learners are told when each week opens for them
    (week_open_notify); there is no course opening left to announce."""
    with transaction.atomic():
        request, _ = CourseNotifyRequest.objects.get_or_create(user=user, course=course)
        if course.is_released(today):
            enrollment_ensure(user=user, course=course)
            if request.notified_at is None:
                request.notified_at = timezone.now()
                request.save(update_fields=["notified_at"])
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


class NothingOverdue(ProgressError):
    """Reset asked for while nothing is past its suggested deadline."""


def enrollment_reset_deadlines(*, user, course: Course, now: datetime.datetime | None = None) -> Enrollment:
    """Move the suggested deadlines so the first unfinished week is due a week from now, and each later
    week one more week on. Finished weeks keep counting as done. Only when something is overdue: raises
    NothingOverdue otherwise (the page shows the button only then)."""
    from . import selectors

    now = now or timezone.now()
    weeks = selectors.course_syllabus(user=user, course=course, can_view=lambda item: True)
    selectors.week_deadlines_apply(user=user, course=course, weeks=weeks, now=now)
    if not any(row.overdue for row in weeks):
        raise NothingOverdue("Nothing is overdue: your deadlines stay as they are.")
    first_open, _ = selectors.reset_preview(weeks=weeks, now=now)
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
                subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{request.course.title} is open",
                message=render_to_string("courses/email/course_released.txt", context),
                from_email=None,
                recipient_list=[request.user.email],
            )
            request.notified_at = timezone.now()
            request.save(update_fields=["notified_at"])
            sent += 1
    return sent


def week_open_notify(*, today: datetime.date | None = None) -> int:
    """Tell each enrolled learner, once, that a week which was still to come when they started has opened
    for them: an in-site notification and an e-mail as their preference for "courses.week_open" says, through
    the notifications outbox. A WeekOpenNotice row per learner and week makes it exactly once, however
    often this runs (and the outbox's event key guards a retried transaction). Returns how many were told."""
    from django.db.models import Q
    from django.template.loader import render_to_string

    from notifications import api as notifications

    from . import schedule

    today = today or timezone.localdate()
    weeks = list(
        Week.objects.filter(course__release_date__lte=today)
        .filter(Q(release_date__isnull=False) | Q(release_after_days__isnull=False))
        .select_related("course")
    )
    if not weeks:
        return 0
    course_ids = {week.course_id for week in weeks}
    told = set(WeekOpenNotice.objects.filter(week__in=weeks).values_list("user_id", "week_id"))
    sent = 0
    enrollments = Enrollment.objects.filter(course_id__in=course_ids).select_related("user")
    for enrollment in enrollments:
        enrolled_on = timezone.localdate(enrollment.created_at)
        for week in (w for w in weeks if w.course_id == enrollment.course_id):
            if (enrollment.user_id, week.pk) in told:
                continue
            start = schedule.schedule_start(
                enrolled_on=enrolled_on, course_release=week.course.release_date, today=today
            )
            opening = schedule.opening(
                course_release=week.course.release_date,
                week=schedule.Release(week.release_date, week.release_after_days),
                start=start,
            )
            # Only a week that was locked for this learner at some point, and is open now.
            if opening.on is None or opening.scope != "week" or not (enrolled_on < opening.on <= today):
                continue
            sent += _week_open_tell(
                enrollment=enrollment,
                week=week,
                opened_on=opening.on,
                notifications=notifications,
                render=render_to_string,
            )
    return sent


def _week_open_tell(*, enrollment: Enrollment, week: Week, opened_on: datetime.date, notifications, render) -> int:
    user, course = enrollment.user, week.course
    with transaction.atomic():
        _, created = WeekOpenNotice.objects.get_or_create(
            user=user, week=week, defaults={"opened_on": opened_on, "notified_at": timezone.now()}
        )
        if not created:
            return 0
        context = {"user": user, "course": course, "week": week, "opened_on": opened_on, "site_url": settings.SITE_URL}
        notifications.notify(
            event_key=f"courses.week_open:{week.pk}",
            kind="courses.week_open",
            recipient_ids=[user.pk],
            title=f"Week {week.number} of {course.title} is open",
            body=f"“{week.title}” opened for you on {opened_on.day} {opened_on:%B %Y}.",
            url=course.get_absolute_url(),
            email_subject=f"Week {week.number} of {course.title} is open",
            email_text=render("courses/email/week_open.txt", context),
        )
    return 1


def calendar_feed_get(*, user) -> CalendarFeed:
    """The learner's calendar address, made on first use."""
    import secrets

    feed = CalendarFeed.objects.filter(user=user).first()
    return feed or CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32))


def calendar_feed_regenerate(*, user) -> CalendarFeed:
    """A new secret address; the old one stops working at once."""
    import secrets

    feed, _ = CalendarFeed.objects.update_or_create(user=user, defaults={"token": secrets.token_urlsafe(32)})
    return feed


def calendar_feed_render(*, token: str, now: datetime.datetime | None = None) -> bytes | None:
    """The .ics of the learner this token belongs to, in their time zone; None for an unknown token."""
    import zoneinfo

    from . import calendar, selectors

    feed = CalendarFeed.objects.select_related("user").filter(token=token).first() if token else None
    if feed is None:
        return None
    now = now or timezone.now()
    zone = None
    if feed.user.time_zone:
        try:
            zone = zoneinfo.ZoneInfo(feed.user.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
    with timezone.override(zone):
        events = selectors.calendar_events(user=feed.user, now=now)
    return calendar.calendar_ics(events=events, name="Deep Learning: deadlines", now=now)
