"""Celery tasks: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(name="peer_review.tasks.sweep")
def sweep() -> dict:
    """Every few minutes (beat): expire leases, lower or queue work short of reviews, choose the scoring
    method, remind reviewers and alert staff. Idempotent."""
    return services.sweep()
