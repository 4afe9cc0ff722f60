"""Celery tasks: thin wrappers around billing.services. Each retries only what a retry can fix (Stripe or
the database unreachable) and, after its last try, leaves a visible state and tells staff."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import gateway, services

_RETRYABLE = (gateway.GatewayError, OperationalError, InterfaceError)


@shared_task(bind=True, max_retries=8, acks_late=True)
def process_webhook_event(self, event_pk: int) -> str:
    """Process one stored Stripe event; retried with backoff (30 s doubling, about two hours in all)
    while Stripe or the database cannot be reached, then given up with a staff alert. Other errors are
    not retried (webhook_event_process ends the event as gave_up at once)."""
    try:
        return services.webhook_event_process(event_pk=event_pk).status
    except _RETRYABLE as exc:
        if self.request.retries >= self.max_retries:
            return services.webhook_event_give_up(event_pk=event_pk, reason=f"{type(exc).__name__}: {exc}").status
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task
def billing_reconcile() -> str:
    """Nightly (Celery beat): repair what lost webhooks left wrong; the report is in the admin."""
    run = services.billing_reconcile()
    return f"{run.repaired} repaired of {run.checked}"


@shared_task(bind=True, acks_late=True, max_retries=8)
def end_subscription_for_completion(self, user_id: int) -> str:
    """The learner finished the whole specialization: stop renewing (idempotent; retried while Stripe
    cannot be reached)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return "no such user"
    try:
        subscription = services.subscription_end_for_completion(user=user)
    except gateway.GatewayError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    return subscription.stripe_subscription_id if subscription else "nothing to end"


@shared_task(bind=True, acks_late=True, max_retries=8)
def retry_refund(self, refund_pk: int) -> str:
    """A refund Stripe did not make when it was due (after a cancel that went through): try again with
    backoff; after the last try staff are e-mailed to make it by hand."""
    from .models import Refund

    refund = Refund.objects.select_related("invoice").filter(pk=refund_pk).first()
    if refund is None:
        return "no such refund"
    try:
        return services.refund_retry(refund=refund).status
    except gateway.GatewayError as exc:
        if self.request.retries >= self.max_retries:
            services.refund_give_up(refund=refund, reason=str(exc))
            return "gave up"
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
