"""What other apps may call: record an event an operator watches. Each is one counter increment."""

from __future__ import annotations

from .logging import current_request_id
from .metrics import LEASE_EXPIRIES, WEBHOOK_FAILURES

__all__ = ["current_request_id", "lease_expired", "webhook_failed"]


def lease_expired(*, queue: str = "grading", count: int = 1) -> None:
    """`count` claims on `queue` outlived their lease and were taken back (mooc_lease_expiries_total)."""
    if count:
        LEASE_EXPIRIES.labels(queue).inc(count)


def webhook_failed(*, source: str, outcome: str) -> None:
    """A webhook from `source` (stripe...) failed: rejected, failed (retried) or gave_up.

    Counted in mooc_webhook_failures_total."""
    WEBHOOK_FAILURES.labels(source, outcome).inc()
