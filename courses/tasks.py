"""Celery tasks for courses: thin callers of courses.services."""

import datetime

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError

from . import services
from .models import Item


@shared_task
def notify_course_releases() -> int:
    return services.course_release_notify()


@shared_task
def notify_week_openings() -> int:
    return services.week_open_notify()


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=8)
def apply_graded_result(user_id: int, item_id: int, detail: str = "", at: str | None = None) -> bool | None:
    """What a graded result means for the learner: progress, completion, certificates (queued by
    courses.api.graded_result_changed after the grade committed). Idempotent; retried only when the
    database could not be reached."""
    user = get_user_model().objects.filter(pk=user_id).first()
    item = Item.objects.select_related("course__specialization").filter(pk=item_id).first()
    if user is None or item is None:  # deleted since: nothing left to complete
        return None
    now = datetime.datetime.fromisoformat(at) if at else None
    return services.graded_result_apply(user=user, item=item, detail=detail, now=now)
