"""The nightly reconciliation: re-read from Stripe what a lost webhook could have left wrong, repair it,
and keep a report for staff (ReconciliationRun)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from .. import gateway
from ..models import ReconciliationRun, Subscription, WebhookEvent
from .subscriptions import subscription_sync

_COMPARED = (
    "status",
    "trial_end",
    "current_period_end",
    "cancel_at_period_end",
    "ended_at",
    "past_due_since",
)


def _webhook_events_requeue(*, now: datetime.datetime) -> list[str]:
    """A verified event is never lost: one whose task message vanished (status still received) or whose
    retries ran out (failed) is queued again. Processing is idempotent, so a slow one running is harmless."""
    from .. import tasks

    stuck = list(
        WebhookEvent.objects.filter(
            status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED],
            received_at__lt=now - datetime.timedelta(minutes=10),
        ).values_list("pk", flat=True)
    )
    for pk in stuck:
        transaction.on_commit(lambda pk=pk: tasks.process_webhook_event.delay(pk))
    return [f"{len(stuck)} unprocessed webhook event(s) queued again"] if stuck else []


def subscriptions_reconcile(*, now: datetime.datetime | None = None) -> ReconciliationRun:
    """Re-read every non-final subscription from Stripe and repair drift (a lost webhook costs at most a day)."""
    now = now or timezone.now()
    run = ReconciliationRun.objects.create()
    lines = []
    for subscription in Subscription.objects.exclude(status__in=Subscription.FINAL_STATUSES).filter(
        ended_at__isnull=True
    ):
        run.checked += 1
        before = {name: getattr(subscription, name) for name in _COMPARED}
        try:
            data = gateway.current().subscription_retrieve(subscription_id=subscription.stripe_subscription_id)
        except gateway.GatewayError as exc:
            lines.append(f"{subscription.stripe_subscription_id}: could not read ({exc}); will retry tomorrow")
            continue
        if data is None:
            lines.append(f"{subscription.stripe_subscription_id}: unknown to Stripe; left for staff to check")
            continue
        # A fresh read is newer than anything we applied, so it always wins.
        stamp = max(int(now.timestamp()), subscription.synced_at_stripe + 1)
        after = subscription_sync(data=data, stripe_time=stamp)
        changes = [
            f"{name}: {before[name]} → {getattr(after, name)}"
            for name in _COMPARED
            if before[name] != getattr(after, name)
        ]
        if changes:
            run.repaired += 1
            lines.append(f"{subscription.stripe_subscription_id} ({subscription.user.email}): " + "; ".join(changes))
    lines += _webhook_events_requeue(now=now)
    run.report = "\n".join(lines) or "No drift."
    run.finished_at = timezone.now()
    run.save()
    return run
