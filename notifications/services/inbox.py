"""The recipient's side: reading notifications."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.utils import timezone

from ..models import Notification

logger = logging.getLogger(__name__)


def notifications_mark_read(
    *, user_id: int, notification_ids: Iterable[int] | None = None, now: datetime.datetime | None = None
) -> int:
    """Mark some (or, with None, all) of a user's unread notifications read. Returns how many changed."""
    rows = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    return rows.update(read_at=now or timezone.now())


def notification_open(*, user_id: int, notification_id: int, now: datetime.datetime | None = None) -> Notification:
    """The recipient opens a notification: it is read from now on. Raises Notification.DoesNotExist for
    anyone else's (so a guessed id tells nothing)."""
    notification = Notification.objects.get(pk=notification_id, recipient_id=user_id)
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification
