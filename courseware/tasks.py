"""Celery tasks of the course pages: thin callers of courseware.services."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def build_course_archive(archive_id: int) -> str:
    return services.archive_build(archive_id=archive_id).status
