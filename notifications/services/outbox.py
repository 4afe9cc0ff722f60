"""The e-mail outbox: rows written with what caused them, claimed with SKIP LOCKED under a lease, sent, and
recorded; retries with back-off; a visible failed state. Why, and what "exactly once" means here:
docs/decisions/0001-outbox.md."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import emails
from ..models import EmailChoice, EmailOutbox, OutboxStatus, Preference

logger = logging.getLogger(__name__)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_attempts() -> int:
    return _setting("NOTIFICATIONS_MAX_ATTEMPTS", 5)


def lease_seconds() -> int:
    return _setting("NOTIFICATIONS_LEASE_SECONDS", 300)


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most an hour."""
    base = _setting("NOTIFICATIONS_RETRY_BASE_SECONDS", 60)
    return datetime.timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 3600))


def outbox_row_new(
    *, user_id: int, event_key: str, kind: str, rendered: emails.RenderedEmail, notification_id: int | None, now
) -> EmailOutbox:
    return EmailOutbox(
        recipient_id=user_id,
        event_key=event_key,
        kind=kind,
        notification_id=notification_id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        message_id=emails.message_id_new(),
        created_at=now,
        next_attempt_at=now,
    )


def deliver_after_commit(outbox_ids: list[int]) -> None:
    """Queue delivery once the rows are committed. robust=True: a broker outage must not fail the caller's
    request after its data is saved; the minute sweep (deliver_pending) sends what was not queued."""
    if outbox_ids:
        transaction.on_commit(partial(_queue_delivery, outbox_ids), robust=True)


def _queue_delivery(outbox_ids: list[int]) -> None:
    from ..tasks import deliver_email

    for outbox_id in outbox_ids:
        deliver_email.delay(outbox_id)


@dataclass(frozen=True)
class Claim:
    outbox_id: int
    lease_expires_at: datetime.datetime


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    released: int = 0  # handed back unsent: too little of the lease was left to start it
    lost: int = 0  # our lease ran out and another worker took the row over before we recorded the result

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (self.sent, self.retrying, self.failed, self.cancelled, self.released, self.lost)


def _due(now: datetime.datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_expires_at__lte=now
    )


def outbox_claim(*, now: datetime.datetime, limit: int, outbox_id: int | None = None) -> list[Claim]:
    """Take up to `limit` due rows for this worker and commit them as `sending` with a lease, before anything
    is sent. SKIP LOCKED: a concurrent claimer passes over rows another is claiming instead of waiting for
    them, so two workers never take the same row. A row whose lease ran out (its worker died mid-send) is
    due again; one that has already used every attempt that way is marked failed instead."""
    lease = now + datetime.timedelta(seconds=lease_seconds())
    with transaction.atomic():
        rows = EmailOutbox.objects.select_for_update(skip_locked=True).filter(_due(now))
        if outbox_id is not None:
            rows = rows.filter(pk=outbox_id)
        picked = list(rows.order_by("next_attempt_at", "id").values_list("pk", "status", "attempts")[:limit])
        abandoned = [
            pk for pk, status, attempts in picked if status == OutboxStatus.SENDING and attempts >= max_attempts()
        ]
        if abandoned:
            EmailOutbox.objects.filter(pk__in=abandoned).update(
                status=OutboxStatus.FAILED,
                lease_expires_at=None,
                last_error=f"Abandoned: the worker sending it stopped {max_attempts()} times without finishing.",
            )
        claimed = [pk for pk, _status, _attempts in picked if pk not in abandoned]
        EmailOutbox.objects.filter(pk__in=claimed).update(
            status=OutboxStatus.SENDING, lease_expires_at=lease, attempts=F("attempts") + 1
        )
    return [Claim(outbox_id=pk, lease_expires_at=lease) for pk in claimed]


def outbox_send(*, claims: list[Claim], now: datetime.datetime | None = None) -> DeliveryReport:
    """Send claimed rows over one mail connection and record each result. Each result is written only if this
    worker still holds the row's lease (the lease time is the fencing token)."""
    if not claims:
        return DeliveryReport()
    leases = {claim.outbox_id: claim.lease_expires_at for claim in claims}
    rows = list(
        EmailOutbox.objects.filter(pk__in=leases, status=OutboxStatus.SENDING)
        .select_related("recipient")
        .order_by("id")
    )
    rows = [row for row in rows if row.lease_expires_at == leases[row.pk]]  # still ours
    unsubscribed = set(
        Preference.objects.filter(
            email=EmailChoice.NONE, user_id__in=[row.recipient_id for row in rows], kind__in={row.kind for row in rows}
        ).values_list("user_id", "kind")
    )
    report = DeliveryReport()
    mail = get_connection()
    try:
        mail.open()
    except Exception as exc:  # noqa: BLE001 - mail server down: every claimed row waits for its next attempt
        for row in rows:
            report += _record_failure(row=row, lease=leases[row.pk], error=exc, now=now)
        return report
    try:
        for row in rows:
            if (now or timezone.now()) + _send_budget() > leases[row.pk]:
                # Not enough lease left to finish this send: hand the row back rather than risk a second
                # worker sending it while we still are.
                report += _record_release(row=row, lease=leases[row.pk])
                continue
            user = row.recipient
            if not user.is_active or not user.email:
                report += _record_cancel(row=row, lease=leases[row.pk], reason="The recipient has no active address.")
                continue
            if (user.pk, row.kind) in unsubscribed:
                report += _record_cancel(
                    row=row, lease=leases[row.pk], reason="The recipient turned these e-mails off before it was sent."
                )
                continue
            message = emails.build_message(
                subject=row.subject,
                text=row.body_text,
                html=row.body_html,
                to_email=user.email,
                message_id=row.message_id,
                user_id=user.pk,
                kind=row.kind,
                connection=mail,
            )
            try:
                message.send()
            except Exception as exc:  # noqa: BLE001 - SMTP refusals, timeouts, dropped connections: retried
                report += _record_failure(row=row, lease=leases[row.pk], error=exc, now=now)
            else:
                report += _record_sent(row=row, lease=leases[row.pk], to_email=user.email, now=now)
    finally:
        try:
            mail.close()
        except Exception:
            logger.warning("Closing the mail connection failed", exc_info=True)
    return report


def _held(row: EmailOutbox, lease: datetime.datetime):
    return EmailOutbox.objects.filter(pk=row.pk, status=OutboxStatus.SENDING, lease_expires_at=lease)


def _lost(row: EmailOutbox) -> DeliveryReport:
    logger.warning("Outbox row %s: lease lost before its result was recorded (sent twice is possible)", row.pk)
    return DeliveryReport(lost=1)


def _send_budget() -> datetime.timedelta:
    """The longest one send may take: the SMTP timeout plus a margin."""
    return datetime.timedelta(seconds=(getattr(settings, "EMAIL_TIMEOUT", None) or 60) + 5)


def _record_release(*, row: EmailOutbox, lease) -> DeliveryReport:
    _held(row, lease).update(
        status=OutboxStatus.PENDING, lease_expires_at=None, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
    )
    return DeliveryReport(released=1)


def _record_sent(*, row: EmailOutbox, lease, to_email: str, now) -> DeliveryReport:
    updated = _held(row, lease).update(
        status=OutboxStatus.SENT, sent_at=now or timezone.now(), to_email=to_email, lease_expires_at=None, last_error=""
    )
    return DeliveryReport(sent=1) if updated else _lost(row)


def _record_cancel(*, row: EmailOutbox, lease, reason: str) -> DeliveryReport:
    updated = _held(row, lease).update(status=OutboxStatus.CANCELLED, lease_expires_at=None, last_error=reason)
    return DeliveryReport(cancelled=1) if updated else _lost(row)


def _record_failure(*, row: EmailOutbox, lease, error: Exception, now) -> DeliveryReport:
    now = now or timezone.now()
    message = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= max_attempts():
        updated = _held(row, lease).update(status=OutboxStatus.FAILED, lease_expires_at=None, last_error=message)
        logger.error("Outbox row %s failed for good after %s attempts: %s", row.pk, row.attempts, message)
        return DeliveryReport(failed=1) if updated else _lost(row)
    updated = _held(row, lease).update(
        status=OutboxStatus.PENDING,
        lease_expires_at=None,
        next_attempt_at=now + retry_delay(row.attempts),
        last_error=message,
    )
    logger.warning("Outbox row %s attempt %s failed, will retry: %s", row.pk, row.attempts, message)
    return DeliveryReport(retrying=1) if updated else _lost(row)


def outbox_deliver_one(*, outbox_id: int, now: datetime.datetime | None = None) -> DeliveryReport:
    """Send one row now if it is due and nobody else holds it (the task queued right after the commit)."""
    now = now or timezone.now()
    return outbox_send(claims=outbox_claim(now=now, limit=1, outbox_id=outbox_id), now=now)


def outbox_deliver_due(
    *, now: datetime.datetime | None = None, batch: int = 20, max_batches: int = 50
) -> DeliveryReport:
    """The sweep: send every due row (never queued, retries, abandoned leases), a batch at a time so a lease
    never has to cover more than a batch of sends. Bounded, so one run cannot outlive the next beat forever."""
    report = DeliveryReport()
    for _ in range(max_batches):
        claims = outbox_claim(now=now or timezone.now(), limit=batch)
        if not claims:
            break
        report += outbox_send(claims=claims, now=now)
    return report


def outbox_retry(*, outbox_ids: Iterable[int], now: datetime.datetime | None = None) -> int:
    """Give failed rows a fresh set of attempts (the admin's "retry failed" action)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = EmailOutbox.objects.filter(pk__in=list(outbox_ids), status=OutboxStatus.FAILED)
        ids = list(rows.values_list("pk", flat=True))
        EmailOutbox.objects.filter(pk__in=ids).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, lease_expires_at=None
        )
        deliver_after_commit(ids)
    return len(ids)
