"""The daily digest: one e-mail per user per day listing their digest notifications since the last one."""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import emails, registry, selectors
from ..models import Digest, EmailChoice, Notification, Preference
from .outbox import deliver_after_commit, outbox_row_new

logger = logging.getLogger(__name__)


DIGEST_MAX_LINES = 50


def digests_send(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """One digest e-mail per user per day listing their digest notifications since the last one. Safe to run
    again or concurrently: the Digest row (unique per user and day) is taken before anything is written."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    waiting = (
        Notification.objects.filter(email=EmailChoice.DIGEST, digest__isnull=True, created_at__lte=now)
        .exclude(recipient_id__in=Digest.objects.filter(date=today).values("user_id"))
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    return sum(1 for user_id in list(waiting) if digest_send_one(user_id=user_id, today=today, now=now))


def digest_send_one(*, user_id: int, today: datetime.date, now: datetime.datetime) -> bool:
    """Returns True when an e-mail was queued. False: already done today, or nothing left to send."""
    User = get_user_model()
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = Digest.objects.create(user_id=user_id, date=today, created_at=now)
        except IntegrityError:
            return False  # another run has this user's digest for today
        user = User.objects.get(pk=user_id)
        waiting = list(
            Notification.objects.select_for_update()
            .filter(recipient_id=user_id, email=EmailChoice.DIGEST, digest__isnull=True, created_at__lte=now)
            .order_by("created_at", "id")
        )
        # A kind turned off since is left out; one switched to immediate still appears (nothing was sent).
        off = set(Preference.objects.filter(user_id=user_id, email=EmailChoice.NONE).values_list("kind", flat=True))
        listed = [row for row in waiting if row.kind not in off]
        Notification.objects.filter(pk__in=[row.pk for row in waiting]).update(digest=digest)
        digest.item_count = len(listed)
        if not listed or not user.is_active or not user.email:
            digest.save(update_fields=["item_count"])
            return False
        lines = [
            emails.DigestLine(
                title=row.title,
                body=row.body,
                kind_label=selectors.notification_view(row).kind_label,
                created_at=row.created_at,
                link=emails.absolute(row.url),
            )
            for row in listed[-DIGEST_MAX_LINES:]
        ]
        rendered = emails.render_digest(user_id=user_id, user_name=user.display_name, date=today, lines=lines)
        outbox = outbox_row_new(
            user_id=user_id,
            event_key=f"digest:{today.isoformat()}",
            kind=registry.DIGEST_KIND,
            rendered=rendered,
            notification_id=None,
            now=now,
        )
        outbox.save()
        digest.outbox = outbox
        digest.save(update_fields=["item_count", "outbox"])
        deliver_after_commit([outbox.pk])
    return True
