"""Our learners as Stripe customers."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from .. import gateway
from ..models import Customer


def customer_ensure(*, user) -> Customer:
    existing = Customer.objects.filter(user=user).first()
    if existing:
        return existing
    # The idempotency key comes from the user id, so a concurrent or retried call gets the same customer.
    stripe_id = gateway.current().customer_create(user_id=user.pk, email=user.email, name=getattr(user, "name", ""))
    try:
        with transaction.atomic():
            return Customer.objects.create(user=user, stripe_customer_id=stripe_id)
    except IntegrityError:
        return Customer.objects.get(user=user)
