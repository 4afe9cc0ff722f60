"""Celery tasks: thin wrappers around billing.services."""

from celery import shared_task

from . import services


@shared_task(bind=True, max_retries=8, default_retry_delay=30, acks_late=True)
def process_webhook_event(self, event_pk: int) -> str:
    """Process one stored Stripe event; a failure is kept on the event and retried with backoff."""
    try:
        return services.webhook_event_process(event_pk=event_pk).status
    except Exception as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task
def reconcile_subscriptions() -> str:
    run = services.subscriptions_reconcile()
    return f"{run.repaired} repaired of {run.checked}"


@shared_task(bind=True, acks_late=True, max_retries=8)
def end_subscription_for_completion(self, user_id: int) -> str:
    """The learner finished the whole specialization: stop renewing (idempotent; retried while Stripe
    cannot be reached)."""
    from django.contrib.auth import get_user_model

    from . import gateway

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
    from . import gateway
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
