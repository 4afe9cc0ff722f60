"""Periodic upkeep of the API's own tables."""

from celery import shared_task

from . import services


@shared_task
def purge_idempotency_records() -> int:
    """Forget stored answers past their expiry (24 hours by default): the key may then be used again."""
    return services.idempotency_purge_expired()
