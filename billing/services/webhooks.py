"""Stripe's webhook: verify and store each event once, then process it in a Celery task. Each handler
turns one event type into calls of the subscription, invoice and checkout services."""

from __future__ import annotations

import dataclasses
import json
import logging

import stripe
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone

from ops import api as ops

from .. import emails, gateway
from .. import stripe_payloads as payloads
from ..models import Checkout, Subscription, TrialClaim, WebhookEvent
from ..state import subscription_state
from . import invoices
from .customers import customer_forget, customer_link, customer_lock
from .errors import WebhookRejected
from .subscriptions import subscription_refuse_second, subscription_sync

logger = logging.getLogger(__name__)


def webhook_event_record(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify Stripe's signature and store the event once; processing runs in a Celery task after commit."""
    from .. import tasks

    if not settings.STRIPE_WEBHOOK_SECRET:
        ops.webhook_failed(source="stripe", outcome="rejected")
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event_dict = payloads.without_nul(payloads.event_check(json.loads(payload), handled_types=_HANDLERS))
    except (ValueError, RecursionError, stripe.SignatureVerificationError) as exc:  # bad UTF-8 is a ValueError
        ops.webhook_failed(source="stripe", outcome="rejected")
        raise WebhookRejected(str(exc)) from exc
    with transaction.atomic():
        stored, created = WebhookEvent.objects.get_or_create(
            stripe_event_id=event_dict["id"],
            defaults={"type": event_dict["type"], "stripe_created": event_dict["created"], "payload": event_dict},
        )
        # A redelivery of an event not yet done queues it again: the first task message may have been lost
        # (broker down after the row was stored). Running it twice is safe: processing locks the row.
        if created or stored.status in (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED):
            transaction.on_commit(lambda: tasks.process_webhook_event.delay(stored.pk))
    return stored, created


@dataclasses.dataclass
class _Outcome:
    text: str
    ignored: bool = False
    unmatched: bool = False  # for a customer we do not know (yet): kept, processed again once known


# What a retry can fix: our payment provider or our database could not be reached. Anything else is a
# fault a retry would meet again.
INFRASTRUCTURE_FAULTS = (gateway.GatewayError, OperationalError, InterfaceError)


def webhook_event_process(*, event_pk: int) -> WebhookEvent:
    """Process a stored event. The row lock makes concurrent runs of the same event wait and then see it
    done. How it ends:
    - processed (or ignored, for a type we do not handle);
    - unmatched: for a customer we do not know yet. Nothing changed; kept for staff, and processed again
      as soon as the customer becomes known (`customer_link`) or by the nightly run;
    - failed: Stripe or the database could not be reached. Raised, so the task retries it;
    - gave_up: any other error (a retry would meet it again). Staff are e-mailed."""
    failure = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return event
        event.attempts += 1
        try:
            with transaction.atomic():  # the handler's writes roll back alone; the failure is kept
                outcome = _dispatch(event)
        except INFRASTRUCTURE_FAULTS as exc:
            logger.warning("Stripe event %s: %s: %s (will be retried)", event.stripe_event_id, type(exc).__name__, exc)
            failure = exc
            event.status = WebhookEvent.Status.FAILED
            event.outcome = f"{type(exc).__name__}: {exc}"
            event.save(update_fields=["status", "outcome", "attempts"])
        except Exception as exc:
            logger.exception("Stripe event %s failed; not retried", event.stripe_event_id)
            event.status = WebhookEvent.Status.GAVE_UP
            event.outcome = f"{type(exc).__name__}: {exc}"
            event.save(update_fields=["status", "outcome", "attempts"])
            _alert_staff(event, why="An error a retry would meet again (a fault in our code or in the event).")
        else:
            if outcome.ignored:
                event.status = WebhookEvent.Status.IGNORED
            elif outcome.unmatched:
                event.status = WebhookEvent.Status.UNMATCHED
            else:
                event.status = WebhookEvent.Status.PROCESSED
            event.outcome = outcome.text
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "outcome", "attempts", "processed_at"])
    if event.status in (WebhookEvent.Status.FAILED, WebhookEvent.Status.GAVE_UP):
        ops.webhook_failed(source="stripe", outcome=event.status)
    if failure is not None:
        raise failure
    return event


def webhook_event_give_up(*, event_pk: int, reason: str) -> WebhookEvent:
    """The task's retries ran out (Stripe or the database unreachable all along): stop, and tell staff."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.status not in (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED):
            return event
        event.status = WebhookEvent.Status.GAVE_UP
        event.outcome = f"Gave up after {event.attempts} attempts. Last: {reason}"
        event.save(update_fields=["status", "outcome"])
        ops.webhook_failed(source="stripe", outcome="gave_up")
        _alert_staff(event, why="Retried with backoff; our payment provider or database stayed unreachable.")
    return event


def _alert_staff(event: WebhookEvent, *, why: str) -> None:
    context = {
        "subject": f"Stripe event {event.stripe_event_id} ({event.type}) was not processed",
        "lines": [
            why,
            f"Attempts: {event.attempts}",
            f"Outcome: {event.outcome}",
            "Once the cause is fixed, select it in the admin and choose 'Process again'.",
        ],
        "admin_path": reverse("admin:billing_webhookevent_change", args=[event.pk]),
    }
    transaction.on_commit(
        lambda: emails.send(template="staff_alert", to=emails.staff_recipients(), context=context), robust=True
    )


def webhook_events_requeue_for_customer(*, stripe_customer_id: str) -> int:
    """The customer is known now: queue the events kept as unmatched for it, oldest first."""
    from .. import tasks

    pks = list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.UNMATCHED, payload__data__object__customer=stripe_customer_id
        )
        .order_by("stripe_created", "id")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        tasks.process_webhook_event.delay(pk)
    return len(pks)


def _dispatch(event: WebhookEvent) -> _Outcome:
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return _Outcome("Unknown event type: stored and ignored.", ignored=True)
    obj = (event.payload.get("data") or {}).get("object") or {}
    at = event.stripe_created
    if isinstance(obj, str):
        # Only a reference, not the snapshot: read the object as Stripe has it now (a fresh read, so
        # it is at least as new as the event). A read that fails raises, and the task retries.
        ref = obj
        obj = gateway.current().event_object_retrieve(event_type=event.type, object_id=ref)
        if obj is None:
            return _Outcome(f"Stripe does not know {ref}: nothing changed.")
        at = max(at, int(timezone.now().timestamp()))
    return handler(obj, event, at)


def _on_subscription(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    subscription = subscription_sync(data=obj, stripe_time=at)
    if subscription is None:
        return _unmatched(f"Subscription {obj.get('id')}", obj)
    if subscription.synced_at_stripe != at:
        return _Outcome(f"Older than the state we have for {subscription.stripe_subscription_id}: nothing changed.")
    return _Outcome(f"{subscription.stripe_subscription_id} is now {subscription.status}.")


def _on_trial_will_end(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    subscription = subscription_sync(data=obj, stripe_time=at)
    if subscription is None:
        return _unmatched(f"Subscription {obj.get('id')}", obj)
    if subscription.is_final or subscription.cancel_at_period_end:
        return _Outcome("The subscription will not renew: no reminder needed.")
    emails.notify_learner(
        user=subscription.user,
        template="trial_ending",
        event_key=f"{subscription.stripe_subscription_id}:{int(subscription.trial_end.timestamp())}"
        if subscription.trial_end
        else event.stripe_event_id,
        context={"subscription": subscription},
    )
    return _Outcome(f"Trial-ending reminder sent to {subscription.user.email}.")


def _on_checkout_completed(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    """A learner finished Stripe Checkout. Under the learner's lock: a subscription that would be their
    second live one is canceled and refunded (two tabs, a repeated click), never kept."""
    checkout_id = payloads.checkout_reference(obj)
    checkout = Checkout.objects.filter(pk=checkout_id).select_related("user").first() if checkout_id else None
    if checkout is None:
        return _Outcome("No checkout of ours: nothing changed.", ignored=True)
    user = checkout.user
    customer_link(user=user, stripe_customer_id=payloads.ref_id(obj.get("customer")))
    subscription_id = payloads.ref_id(obj.get("subscription"))
    if not subscription_id:
        Checkout.objects.filter(pk=checkout.pk, status=Checkout.Status.OPEN).update(status=Checkout.Status.COMPLETE)
        return _Outcome("Checkout completed without a subscription.")
    with transaction.atomic():
        customer_lock(user=user)
        data = gateway.current().subscription_retrieve(subscription_id=subscription_id)
        if data is None:
            return _Outcome(f"Stripe does not know {subscription_id}.")
        subscription = subscription_sync(data=data, stripe_time=max(at, int(timezone.now().timestamp())), user=user)
        now = timezone.now()
        others = [
            other
            for other in Subscription.objects.filter(user=user).exclude(pk=subscription.pk)
            if subscription_state(other, now=now).is_live
        ]
        if others:
            note = subscription_refuse_second(checkout=checkout, subscription=subscription, data=data)
            return _Outcome(f"Checkout {checkout.pk} completed while {others[0].stripe_subscription_id} is live.{note}")
        Checkout.objects.filter(pk=checkout.pk, status=Checkout.Status.OPEN).update(status=Checkout.Status.COMPLETE)
        note = _claim_trial(checkout=checkout, subscription=subscription, data=data) if checkout.with_trial else ""
    return _Outcome(f"Checkout {checkout.pk} completed: {subscription_id} is {subscription.status}.{note}")


def _claim_trial(*, checkout: Checkout, subscription: Subscription, data: dict) -> str:
    """Checkout collects the card, so the card check happens here: a card that already had a trial
    with another account ends this trial at once (the learner is charged as a normal subscriber)."""
    pm_id = payloads.ref_id(data.get("default_payment_method"))
    fingerprint = gateway.current().payment_method_fingerprint(payment_method_id=pm_id) if pm_id else ""
    reused = (
        bool(fingerprint)
        and TrialClaim.objects.filter(card_fingerprint=fingerprint).exclude(user=checkout.user).exists()
    )
    TrialClaim.objects.get_or_create(
        user=checkout.user,
        defaults={
            "card_fingerprint": None if reused else (fingerprint or None),
            "stripe_subscription_id": subscription.stripe_subscription_id,
        },
    )
    if reused and subscription.is_trialing():
        ended = gateway.current().subscription_end_trial_now(subscription_id=subscription.stripe_subscription_id)
        subscription_sync(data=ended, stripe_time=int(timezone.now().timestamp()))
        return " The card had already had a free trial: trial ended."
    return ""


def _unmatched(what: str, obj: dict) -> _Outcome:
    customer = payloads.ref_id(obj.get("customer")) or "no customer"
    text = f"{what} belongs to a customer we do not know ({customer}): nothing changed; kept until it is known."
    return _Outcome(text, unmatched=True)


def _invoice_handler(handle):
    """Invoices of a customer we do not know are kept as unmatched, not stored without their learner."""

    def handler(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
        if invoices.invoice_owner(data=obj) is None:
            return _unmatched(f"Invoice {obj.get('id')}", obj)
        return handle(obj, event, at)

    handler.__doc__ = handle.__doc__
    return handler


@_invoice_handler
def _on_invoice_paid(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, became_paid = invoices.invoice_sync(data=obj, stripe_time=at, paid=True)
    if became_paid and invoices.invoice_receipt_send(invoice=invoice):
        return _Outcome(f"Invoice {invoice.stripe_invoice_id} paid; receipt sent.")
    return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}.")


@_invoice_handler
def _on_invoice_failed(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, _ = invoices.invoice_sync(data=obj, stripe_time=at)
    if invoice.status == "paid" or not invoice.user:
        return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}: no e-mail.")
    emails.notify_learner(
        user=invoice.user,
        template="payment_failed",
        event_key=f"{invoice.stripe_invoice_id}:{obj.get('attempt_count') or event.stripe_event_id}",
        context={"invoice": invoice, "grace_days": settings.BILLING_PAST_DUE_GRACE_DAYS},
    )
    return _Outcome(f"Payment failed for {invoice.stripe_invoice_id}; learner told how to update the card.")


@_invoice_handler
def _on_action_required(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, _ = invoices.invoice_sync(data=obj, stripe_time=at)
    if invoice.status == "paid" or not invoice.user:
        return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}: no e-mail.")
    emails.notify_learner(
        user=invoice.user,
        template="action_required",
        event_key=f"{invoice.stripe_invoice_id}:{event.stripe_event_id}",
        context={"invoice": invoice, "confirm_url": invoice.hosted_invoice_url or emails.billing_url()},
    )
    return _Outcome(f"3-D Secure confirmation link sent for {invoice.stripe_invoice_id}.")


@_invoice_handler
def _on_invoice_other(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, _ = invoices.invoice_sync(data=obj, stripe_time=at)
    return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}.")


def _on_charge_refunded(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice = invoices.charge_refunded_sync(data=obj)
    if invoice is None:
        return _Outcome(f"Charge {obj.get('id')} is not on an invoice we know: nothing changed.")
    return _Outcome(f"Invoice {invoice.stripe_invoice_id}: {invoice.amount_refunded / 100:.2f} refunded.")


def _on_customer_deleted(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    """Forget the id, so the learner's next sign-up creates a new Stripe customer (under a new key)
    instead of failing on the deleted one. Stripe ends the customer's subscriptions with their own events."""
    if not customer_forget(stripe_customer_id=obj["id"]):
        return _Outcome(f"Customer {obj['id']} is not one of ours: nothing changed.")
    return _Outcome(f"Customer {obj['id']} deleted in Stripe: forgotten.")


def _on_dispute(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    dispute = invoices.dispute_record(data=obj)
    return _Outcome(f"Dispute {dispute.stripe_dispute_id} flagged for staff.")


_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "customer.subscription.paused": _on_subscription,
    "customer.subscription.resumed": _on_subscription,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_succeeded": _on_invoice_paid,
    "invoice.payment_failed": _on_invoice_failed,
    "invoice.payment_action_required": _on_action_required,
    "invoice.created": _on_invoice_other,
    "invoice.finalized": _on_invoice_other,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute,
    "customer.deleted": _on_customer_deleted,
}
