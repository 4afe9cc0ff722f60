"""Our learners as Stripe customers, and the per-learner lock every subscription change holds."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from .. import gateway
from ..models import Customer


def customer_ensure(*, user) -> Customer:
    """The learner's Stripe customer, created once per generation. The row is locked while Stripe creates
    the customer, so concurrent sign-ups of one learner wait for one customer instead of making two."""
    existing = Customer.objects.filter(user=user).first()
    if existing and existing.stripe_customer_id:
        return existing
    with transaction.atomic():
        customer, _ = Customer.objects.select_for_update().get_or_create(user=user)
        if not customer.stripe_customer_id:
            customer.stripe_customer_id = gateway.current().customer_create(
                user_id=user.pk, generation=customer.generation, email=user.email, name=getattr(user, "name", "")
            )
            customer.save(update_fields=["stripe_customer_id"])
    return customer


def customer_lock(*, user) -> Customer:
    """Lock the learner's Customer row until the surrounding transaction ends (call inside atomic).

    Every change that could give a learner a second live subscription (the card page's create, a
    completed Stripe Checkout) checks and changes under this lock, held across the Stripe call: the
    second of two concurrent attempts waits, then sees the first one's subscription."""
    customer, _ = Customer.objects.select_for_update().get_or_create(user=user)
    return customer


def customer_link(*, user, stripe_customer_id: str) -> Customer | None:
    """Record which Stripe customer a learner is (from an event or a Checkout), unless another learner
    already has that customer or this learner has a live one."""
    if not stripe_customer_id:
        return Customer.objects.filter(user=user).first()
    try:
        with transaction.atomic():
            customer, created = Customer.objects.get_or_create(
                user=user, defaults={"stripe_customer_id": stripe_customer_id}
            )
            linked = created
            if not created and not customer.stripe_customer_id:
                customer.stripe_customer_id = stripe_customer_id
                customer.save(update_fields=["stripe_customer_id"])
                linked = True
    except IntegrityError:  # the Stripe customer is already another learner's
        return Customer.objects.filter(user=user).first()
    if linked and customer.stripe_customer_id == stripe_customer_id:
        # Events that came before we knew whose customer this is were kept: process them now.
        from .webhooks import webhook_events_requeue_for_customer

        transaction.on_commit(
            lambda: webhook_events_requeue_for_customer(stripe_customer_id=stripe_customer_id), robust=True
        )
    return customer


def customer_forget(*, stripe_customer_id: str) -> bool:
    """Stripe deleted the customer: forget the id (the learner's next sign-up creates a new customer,
    under the next generation's key). Returns whether it was one of ours."""
    return bool(
        Customer.objects.filter(stripe_customer_id=stripe_customer_id).update(
            stripe_customer_id=None, generation=F("generation") + 1
        )
    )
