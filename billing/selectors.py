"""Reads for the billing page, the access policy and the admin."""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from .models import Invoice, Plan, Subscription, TrialClaim


def plan_active() -> Plan | None:
    return Plan.objects.filter(is_active=True).order_by("id").first()


def subscription_current(*, user) -> Subscription | None:
    """The subscription that decides the learner's state: one that gives access if any (a learner may
    hold two live ones, e.g. an active one and a newer checkout left incomplete), else the newest live
    one, else the latest ended one. (A late event can create the row of an old, ended subscription
    after a newer one: it must not win.) One query; the access policy caches the answer per request."""
    if not user.is_authenticated:
        return None
    from .access import FULL_ACCESS, subscription_state

    ended = Case(
        When(Q(status__in=Subscription.FINAL_STATUSES) | Q(ended_at__isnull=False), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    subscriptions = list(Subscription.objects.filter(user=user).order_by(ended, "-created_at", "-id"))
    now = timezone.now()
    for subscription in subscriptions:
        if subscription_state(subscription, now=now) in FULL_ACCESS:
            return subscription
    return subscriptions[0] if subscriptions else None


def trial_conversion_invoice(*, subscription: Subscription) -> Invoice | None:
    """The first charge after the trial, when it is the only payment so far (the auto-refund case)."""
    if subscription.trial_end is None:
        return None
    paid = list(
        Invoice.objects.filter(
            stripe_subscription_id=subscription.stripe_subscription_id, status="paid", amount_paid__gt=0
        ).order_by("paid_at", "id")[:2]
    )
    return paid[0] if len(paid) == 1 and paid[0].amount_refunded == 0 else None


@dataclasses.dataclass
class BillingOverview:
    state: object
    subscription: Subscription | None
    plan: Plan | None
    invoices: list[Invoice]
    trial_available: bool
    trial_days_left: int | None
    next_charge_at: datetime.datetime | None
    next_charge_cents: int | None
    ends_at: datetime.datetime | None
    grace_ends_at: datetime.datetime | None

    @property
    def can_subscribe(self) -> bool:
        from .access import FULL_ACCESS

        return self.state not in FULL_ACCESS


def billing_overview(*, user, now: datetime.datetime | None = None) -> BillingOverview:
    from django.conf import settings

    from . import access

    now = now or timezone.now()
    subscription = subscription_current(user=user)
    state = access.access_state(user)
    plan = plan_active()
    trial_days_left = next_charge_at = next_charge_cents = ends_at = grace_ends_at = None
    if subscription is not None and not subscription.is_final:
        if subscription.is_trialing(now):
            trial_days_left = max(0, (subscription.trial_end - now).days)
        renews_at = subscription.trial_end if subscription.is_trialing(now) else subscription.current_period_end
        if subscription.cancel_at_period_end:
            ends_at = renews_at
        else:
            next_charge_at, next_charge_cents = renews_at, subscription.amount_cents
        if subscription.status == "past_due" and subscription.past_due_since:
            grace_ends_at = subscription.past_due_since + datetime.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
    invoices = list(Invoice.objects.filter(user=user).order_by("-stripe_created", "-id")[:24])
    return BillingOverview(
        state=state,
        subscription=subscription,
        plan=plan,
        invoices=invoices,
        trial_available=not TrialClaim.objects.filter(user=user).exists(),
        trial_days_left=trial_days_left,
        next_charge_at=next_charge_at,
        next_charge_cents=next_charge_cents,
        ends_at=ends_at,
        grace_ends_at=grace_ends_at,
    )
