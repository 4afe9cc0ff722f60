"""Writes to course structure and learner progress. Views, commands and tasks call these."""

from __future__ import annotations

import dataclasses
import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from . import media, registry, signals
from .models import (
    CompletionRegression,
    Course,
    CourseCompletion,
    CourseNotifyRequest,
    Enrollment,
    Interview,
    Item,
    ItemKind,
    ItemProgress,
    Lecture,
    Paper,
    Reading,
    Specialization,
    Week,
)
from .pack import CourseData, InterviewData, ItemData, PackData, PaperData, WeekData, write_pack


class ProgressError(Exception):
    """A progress update a learner's browser sent that makes no sense."""


# ---------------------------------------------------------------------------------------------
# Content packs


@dataclasses.dataclass
class PackReport:
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.removed)} removed"


def _save(obj, fields: dict, report: PackReport, label: str) -> None:
    """Set fields on obj and save it when something changed, noting what happened in the report."""
    is_new = obj.pk is None or obj._state.adding
    changed = is_new or any(getattr(obj, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(obj, name, value)
    if changed:
        obj.save()
        (report.created if is_new else report.updated).append(label)


class _DryRun(Exception):
    pass


def pack_plan(*, pack: PackData) -> PackReport:
    """What pack_apply would do, computed by applying it inside a transaction that is rolled back."""
    report = None
    try:
        with transaction.atomic():
            report = pack_apply(pack=pack)
            raise _DryRun
    except _DryRun:
        pass
    return report


@transaction.atomic
def pack_apply(*, pack: PackData) -> PackReport:
    """Create or update everything in a validated pack, in place. Learner progress is kept for every
    item that is still in the pack (items are matched by course and slug, weeks by number)."""
    report = PackReport()
    spec = Specialization.objects.filter(slug=pack.slug).first() or Specialization(slug=pack.slug)
    _save(
        spec,
        {"title": pack.title, "tagline": pack.tagline, "description": pack.description},
        report,
        f"specialization {pack.slug}",
    )

    courses_by_slug = {}
    for course_data in pack.courses:
        course = _apply_course(spec, course_data, report, base=pack.root / "courses" / course_data.slug)
        courses_by_slug[course.slug] = course

    kept_interviews = []
    for interview_data in pack.interviews:
        interview = Interview.objects.filter(slug=interview_data.slug).first() or Interview(slug=interview_data.slug)
        _save(
            interview,
            {
                "specialization": spec,
                "order": interview_data.order,
                "title": interview_data.title,
                "guest": interview_data.guest,
                "guest_title": interview_data.guest_title,
                "bio": interview_data.bio,
                "captions": interview_data.captions,
                "duration_seconds": interview_data.captions[-1]["end"] if interview_data.captions else 0,
            },
            report,
            f"interview {interview.slug}",
        )
        if interview_data.video is not None:
            _attach_recorded_video(interview, interview_data.video, "interviews")
        interview.related_courses.set([courses_by_slug[slug] for slug in interview_data.related_courses])
        kept_interviews.append(interview.pk)
    for interview in Interview.objects.filter(specialization=spec).exclude(pk__in=kept_interviews):
        report.removed.append(f"interview {interview.slug}")
        interview.delete()
    return report


def _apply_course(spec: Specialization, data: CourseData, report: PackReport, *, base: Path) -> Course:
    course = Course.objects.filter(slug=data.slug).first() or Course(slug=data.slug)
    _save(
        course,
        {
            "specialization": spec,
            "title": data.title,
            "order": data.order,
            "release_date": data.release_date,
            "short_description": data.short_description,
            "description": data.description,
            "level": data.level,
            "estimated_hours": data.estimated_hours,
        },
        report,
        f"course {data.slug}",
    )
    weeks = {week.number: week for week in course.weeks.all()}
    items = {item.slug: item for item in course.items.select_related("lecture", "reading")}
    kept_items = set()
    for week_data in data.weeks:
        week = weeks.get(week_data.number) or Week(course=course, number=week_data.number)
        _save(
            week,
            {"title": week_data.title, "summary": week_data.summary},
            report,
            f"{data.slug} week {week_data.number}",
        )
        for order, item_data in enumerate(week_data.items, start=1):
            item = items.get(item_data.slug) or Item(course=course, slug=item_data.slug)
            _apply_item(item, week, order, item_data, report, label=f"{data.slug}/{item_data.slug}", base=base)
            kept_items.add(item_data.slug)
    for slug, item in items.items():
        if slug not in kept_items:
            report.removed.append(f"{data.slug}/{slug}")
            item.delete()
    for number, week in weeks.items():
        if number > len(data.weeks):
            report.removed.append(f"{data.slug} week {number}")
            week.delete()
    return course


def _apply_item(
    item: Item, week: Week, order: int, data: ItemData, report: PackReport, *, label: str, base: Path
) -> None:
    minutes = data.minutes
    if data.kind == ItemKind.LECTURE and not minutes and data.captions:
        minutes = max(1, round(data.captions[-1]["end"] / 60))
    if item.pk and item.kind != data.kind:
        # A changed kind leaves the old detail row behind; drop it so the item has one detail.
        Lecture.objects.filter(item=item).delete()
        Reading.objects.filter(item=item).delete()
    _save(
        item,
        {
            "week": week,
            "order": order,
            "title": data.title,
            "kind": data.kind,
            "is_preview": data.preview,
            "minutes": minutes,
            "pack_extra": data.extra,
        },
        report,
        label,
    )
    if data.kind == ItemKind.LECTURE:
        lecture = Lecture.objects.filter(item=item).first() or Lecture(item=item)
        duration = data.captions[-1]["end"] if data.captions else lecture.duration_seconds
        _save(
            lecture,
            {
                "is_math": data.math,
                "captions": data.captions,
                "duration_seconds": duration,
                "questions": data.questions,
            },
            report,
            f"{label} lecture",
        )
        existing = [PaperData(p.title, p.authors, p.year, p.url) for p in lecture.papers.all()]
        if existing != data.papers:
            lecture.papers.all().delete()
            Paper.objects.bulk_create(
                Paper(lecture=lecture, order=n, title=p.title, authors=p.authors, year=p.year, url=p.url)
                for n, p in enumerate(data.papers)
            )
        if data.video is not None:
            _attach_recorded_video(lecture, data.video, "lectures")
    elif data.kind == ItemKind.READING:
        reading = Reading.objects.filter(item=item).first() or Reading(item=item)
        _save(reading, {"body": data.body}, report, f"{label} reading")
    else:
        handler = registry.pack_handler_for(data.kind)
        if handler is not None:
            handler.apply(item, data.extra, base)


def _attach_recorded_video(obj, source: Path, folder: str) -> None:
    """Copy a recorded video from the pack into media storage, once per content hash."""
    digest = media.file_hash(source)
    if obj.video_source_hash == f"file:{digest}" and obj.video and Path(obj.video.path).exists():
        return
    with source.open("rb") as handle:
        obj.video.save(f"{folder}/{digest[:16]}{source.suffix}", File(handle), save=False)
    obj.video_source_hash = f"file:{digest}"
    obj.save(update_fields=["video", "video_source_hash"])


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
        exists = bool(obj.video) and (Path(settings.MEDIA_ROOT) / obj.video.name).exists()
        if not force and exists and obj.video_source_hash == digest:
            continue
        if progress:
            progress(index, len(todo), title)
        relative = f"{folder}/{digest[:16]}.mp4"
        media.render_video(
            title=title, subtitle=subtitle, cues=obj.captions, out_path=Path(settings.MEDIA_ROOT) / relative
        )
        type(obj).objects.filter(pk=obj.pk).update(video=relative, video_source_hash=digest)
        rendered += 1
    return rendered


def pack_export(*, specialization: Specialization, out: Path) -> PackData:
    """Write the specialization back out in the pack format."""
    courses = []
    queryset = specialization.courses.prefetch_related("weeks__items__lecture__papers", "weeks__items__reading")
    for course in queryset:
        weeks = []
        for week in course.weeks.all():
            items = []
            for item in week.items.all():
                data = ItemData(
                    kind=item.kind, slug=item.slug, title=item.title, preview=item.is_preview, minutes=item.minutes
                )
                if item.kind == ItemKind.LECTURE and hasattr(item, "lecture"):
                    lecture = item.lecture
                    data.math = lecture.is_math
                    data.captions = lecture.captions
                    data.papers = [PaperData(p.title, p.authors, p.year, p.url) for p in lecture.papers.all()]
                    data.questions = lecture.questions
                    if lecture.video_source_hash.startswith("file:"):
                        data.video = Path(lecture.video.path)
                    if data.captions and data.minutes == max(1, round(data.captions[-1]["end"] / 60)):
                        data.minutes = 0  # it was derived on import; keep the export like the source
                elif item.kind == ItemKind.READING and hasattr(item, "reading"):
                    data.body = item.reading.body
                    data.body_file = f"readings/{item.slug}.md"
                else:
                    handler = registry.pack_handler_for(item.kind)
                    data.extra = handler.export(item, out / "courses" / course.slug) if handler else item.pack_extra
                items.append(data)
            weeks.append(WeekData(number=week.number, title=week.title, summary=week.summary, items=items))
        courses.append(
            CourseData(
                slug=course.slug,
                title=course.title,
                order=course.order,
                release_date=course.release_date,
                short_description=course.short_description,
                description=course.description,
                level=course.level,
                estimated_hours=course.estimated_hours,
                weeks=weeks,
            )
        )
    interviews = [
        InterviewData(
            slug=interview.slug,
            title=interview.title,
            guest=interview.guest,
            order=interview.order,
            guest_title=interview.guest_title,
            bio=interview.bio,
            related_courses=[c.slug for c in interview.related_courses.all()],
            captions=interview.captions,
            video=Path(interview.video.path) if interview.video_source_hash.startswith("file:") else None,
        )
        for interview in specialization.interviews.prefetch_related("related_courses")
    ]
    pack = PackData(
        root=out,
        slug=specialization.slug,
        title=specialization.title,
        tagline=specialization.tagline,
        description=specialization.description,
        courses=courses,
        interviews=interviews,
    )
    write_pack(pack, out, copy_file=_copy_file)
    return pack


def _copy_file(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)


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
        if progress.completed_at is None and progress.watched_fraction >= settings.LECTURE_COMPLETE_FRACTION:
            progress.completed_at = now
        progress.save()
    return progress


def item_mark_complete(*, user, item: Item, now: datetime.datetime | None = None) -> ItemProgress:
    """A learner marks a reading (or another ungraded item) as done."""
    if item.is_graded:
        raise ProgressError("Graded items are completed by passing them.")
    return _progress_complete_once(user=user, item=item, now=now or timezone.now())


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
    a kind nobody checks yet (peer review, until its app registers) does not count, neither for nor
    against. A course with no item of a graded kind is never completed by this rule.

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
