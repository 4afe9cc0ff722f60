"""Celery tasks for courses: thin callers of courses.services."""

from celery import shared_task

from . import services


@shared_task
def notify_course_releases() -> int:
    return services.course_release_notify()
