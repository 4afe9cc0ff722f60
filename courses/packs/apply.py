"""Putting a loaded pack into the database (import, in place) and writing the database back out as a
pack (export). Learner progress survives a re-import: items are matched by course and slug."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction

from .. import media, registry
from ..models import Course, Interview, Item, ItemKind, Lecture, Paper, Reading, Specialization, Week
from .format import CourseData, InterviewData, ItemData, PackData, PaperData, WeekData
from .write import write_pack


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
            "completion_rule": data.completion,
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
    if obj.video_source_hash == f"file:{digest}" and obj.video and obj.video.storage.exists(obj.video.name):
        return
    with source.open("rb") as handle:
        obj.video.save(f"{folder}/{digest[:16]}{source.suffix}", File(handle), save=False)
    obj.video_source_hash = f"file:{digest}"
    obj.save(update_fields=["video", "video_source_hash"])


def pack_export(*, specialization: Specialization, out: Path) -> PackData:
    """Write the specialization back out in the pack format."""
    cache = Path(tempfile.mkdtemp(prefix="mooc-export-"))  # videos fetched from an object store
    try:
        return _pack_export(specialization=specialization, out=out, cache=cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _video_file(field, cache: Path) -> Path:
    """A recorded video as a local file: its path in filesystem storage, or a copy fetched from an object store."""
    try:
        return Path(field.path)
    except NotImplementedError:
        target = cache / field.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with field.open("rb") as source, target.open("wb") as copy:
            shutil.copyfileobj(source, copy)
        return target


def _pack_export(*, specialization: Specialization, out: Path, cache: Path) -> PackData:
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
                        data.video = _video_file(lecture.video, cache)
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
                completion=course.completion_rule,
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
            video=_video_file(interview.video, cache) if interview.video_source_hash.startswith("file:") else None,
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
