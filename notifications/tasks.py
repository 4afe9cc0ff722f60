"""Celery tasks: thin wrappers around notifications.services. Retries live in the outbox rows (attempts,
next_attempt_at), not in Celery, so a lost task message costs at most a minute (the sweep)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver_email(outbox_id: int) -> str:
    """Send one outbox row right after the transaction that wrote it committed."""
    return str(services.outbox_deliver_one(outbox_id=outbox_id))


@shared_task(ignore_result=True)
def deliver_pending() -> str:
    """Every minute (beat): rows never queued, due retries, and rows whose sender died mid-send."""
    return str(services.outbox_deliver_due())


@shared_task(ignore_result=True)
def send_digests() -> int:
    """Once a day (beat): each user's daily digest, at most one per user per day."""
    return services.digests_send()
