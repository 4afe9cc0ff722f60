"""Writes of the course pages: the course archives learners keep."""

from __future__ import annotations

import datetime
import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from access import api as access

from .archive import Builder
from .models import CourseArchive

log = logging.getLogger(__name__)


def archive_request(*, user, course, now: datetime.datetime | None = None) -> CourseArchive:
    """Queue the learner's archive of a course they may keep (raises AccessDenied otherwise). An archive
    already queued or building is returned instead of starting a second one."""
    access.can_download_course_archive(user, course_id=course.pk).require()
    with transaction.atomic():
        pending = (
            CourseArchive.objects.select_for_update()
            .filter(user=user, course=course, status__in=[CourseArchive.Status.QUEUED, CourseArchive.Status.BUILDING])
            .first()
        )
        if pending is not None:
            return pending
        archive = CourseArchive.objects.create(user=user, course=course)
        transaction.on_commit(lambda: _enqueue(archive.pk), robust=True)
    return archive


def _enqueue(archive_id: int) -> None:
    from .tasks import build_course_archive

    build_course_archive.delay(archive_id)


def archive_build(*, archive_id: int, now: datetime.datetime | None = None) -> CourseArchive:
    """Build a queued archive (the task). Progress is saved item by item so the page can show it; a
    failure is kept on the archive with its message, and the learner may ask again."""
    with transaction.atomic():
        archive = CourseArchive.objects.select_for_update().select_related("user", "course").get(pk=archive_id)
        if archive.status != CourseArchive.Status.QUEUED:
            return archive  # a redelivered task: built or being built already
        archive.status = CourseArchive.Status.BUILDING
        archive.save(update_fields=["status"])
    now = now or timezone.now()
    relative = f"archives/{archive.user_id}/{archive.course.slug}-{archive.pk}.zip"
    # Built in a temporary file, then handed to the media storage (the filesystem or an object store).
    workdir = tempfile.TemporaryDirectory(prefix="mooc-archive-")
    path = Path(workdir.name) / "archive.zip"

    def progress(done: int, total: int) -> None:
        CourseArchive.objects.filter(pk=archive.pk).update(done=done, total=total)

    try:
        builder = Builder(
            course_id=archive.course_id, learner=archive.user, site_url=settings.SITE_URL, progress=progress
        )
        CourseArchive.objects.filter(pk=archive.pk).update(total=builder.steps)
        builder.build(path, now=now)
        size = path.stat().st_size
        default_storage.delete(relative)  # a rebuilt archive replaces the file, never gets a new name
        with path.open("rb") as handle:
            relative = default_storage.save(relative, File(handle))
    except Exception as exc:
        log.exception("course archive %s failed", archive.pk)
        CourseArchive.objects.filter(pk=archive.pk).update(
            status=CourseArchive.Status.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        archive.refresh_from_db()
        return archive
    finally:
        workdir.cleanup()
    CourseArchive.objects.filter(pk=archive.pk).update(
        status=CourseArchive.Status.READY, file=relative, size_bytes=size, finished_at=timezone.now()
    )
    _remove_older(archive)
    archive.refresh_from_db()
    return archive


def _remove_older(archive: CourseArchive) -> None:
    """One archive per learner and course is enough: the newer one replaces the files of older ones."""
    older = CourseArchive.objects.filter(user_id=archive.user_id, course_id=archive.course_id, pk__lt=archive.pk)
    for old in older:
        if old.file:
            default_storage.delete(old.file)
    older.delete()
