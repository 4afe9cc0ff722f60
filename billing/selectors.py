"""Reads for the billing page, the access policy and the admin."""

from __future__ import annotations

import dataclasses
import datetime
import math

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from .models import Invoice, Plan, Subscription, TrialClaim
from .state import SubscriptionState, subscription_state


def plan_active() -> Plan | None:
    return Plan.objects.filter(is_active=True).order_by("id").first()


def subscription_current(*, user, now: datetime.datetime | None = None) -> Subscription | None:
    """The subscription that decides the learner's state: one that gives access if any (a learner may
    hold two live ones, e.g. an active one and a newer checkout left incomplete), else the newest live
    one, else the latest ended one. (A late event can create the row of an old, ended subscription
    after a newer one: it must not win.) One query; the access policy caches the answer per request."""
    if not user.is_authenticated:
        return None
    ended = Case(
        When(Q(status__in=Subscription.FINAL_STATUSES) | Q(ended_at__isnull=False), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    subscriptions = list(Subscription.objects.filter(user=user).order_by(ended, "-created_at", "-id"))
    now = now or timezone.now()
    for subscription in subscriptions:
        if subscription_state(subscription, now=now).is_live:
            return subscription
    return subscriptions[0] if subscriptions else None


def trial_available(*, user) -> bool:
    """Whether this learner may still start a free trial: one per account (the card is checked at
    checkout). A visitor who is not signed in gets one with the account they create."""
    if not getattr(user, "is_authenticated", False):
        return True
    return not TrialClaim.objects.filter(user=user).exists()


def days_left(*, until: datetime.datetime, now: datetime.datetime) -> int:
    """Whole days left until `until`, rounded up: a 7-day trial started a second ago has 7 days left,
    and its last hours count as 1 day. Never negative."""
    seconds = (until - now).total_seconds()
    return max(0, math.ceil(seconds / datetime.timedelta(days=1).total_seconds()))


@dataclasses.dataclass(frozen=True)
class SubscribeOffer:
    """What to offer a visitor or learner without full access: the active plan's price, and the free
    trial when they can still have one. Pages show it next to locked content."""

    plan: Plan
    signed_in: bool
    trial_available: bool
    resubscribe: bool  # they had a subscription that ended

    @property
    def trial_days(self) -> int:
        return self.plan.trial_days if self.trial_available else 0


def subscribe_offer(*, user, has_full_access: bool) -> SubscribeOffer | None:
    """The offer for this user, or None when there is nothing to sell them (`has_full_access`, which the
    access policy decides: subscribed, or staff; or no plan is on sale)."""
    if has_full_access:
        return None
    plan = plan_active()
    if plan is None:
        return None
    signed_in = bool(getattr(user, "is_authenticated", False))
    state = subscription_state_of(user=user) if signed_in else SubscriptionState.NONE
    return SubscribeOffer(
        plan=plan,
        signed_in=signed_in,
        trial_available=plan.trial_days > 0 and trial_available(user=user),
        resubscribe=state is SubscriptionState.ENDED,
    )


def subscription_state_of(*, user, now: datetime.datetime | None = None) -> SubscriptionState:
    """What the learner's subscriptions give them at `now` (one query)."""
    if not getattr(user, "is_authenticated", False):
        return SubscriptionState.NONE
    now = now or timezone.now()
    return subscription_state(subscription_current(user=user, now=now), now=now)


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


def auto_refund_invoice(*, subscription: Subscription, now: datetime.datetime) -> Invoice | None:
    """The payment a cancellation at `now` refunds: the first charge after the trial, within
    BILLING_AUTO_REFUND_HOURS of it. None when cancelling just stops renewal at the period's end."""
    from django.conf import settings

    conversion = trial_conversion_invoice(subscription=subscription)
    window = datetime.timedelta(hours=settings.BILLING_AUTO_REFUND_HOURS)
    if conversion is not None and conversion.paid_at and now - conversion.paid_at <= window:
        return conversion
    return None


def subscription_renews_at(*, subscription: Subscription, now: datetime.datetime) -> datetime.datetime | None:
    """When the subscription next renews: the trial's end while trialing, else the period's end. It is
    also when a subscription canceled at the period's end stops giving access."""
    return subscription.trial_end if subscription.is_trialing(now) else subscription.current_period_end


@dataclasses.dataclass
class CancelPreview:
    """What canceling now would do, for the confirmation page."""

    subscription: Subscription
    ends_at: datetime.datetime | None  # when access ends; now when the last payment is refunded
    refund: Invoice | None
    renewing: int = 1  # how many subscriptions canceling stops (more than one after a double sign-up)


def cancel_preview(*, user, now: datetime.datetime | None = None) -> CancelPreview | None:
    """What canceling would do; None when nothing would change (every subscription has ended or is
    already set to end). A learner may hold more than one (see decision 0005): canceling ends them all,
    so the page speaks of the one that still renews, the one giving access first."""
    now = now or timezone.now()
    current = subscription_current(user=user, now=now)
    renewing = [
        s
        for s in Subscription.objects.filter(user=user)
        if not s.is_final and not (s.cancel_at_period_end and subscription_state(s, now=now).is_live)
    ]
    if not renewing:
        return None
    subscription = current if current in renewing else renewing[0]
    refund = next(
        (invoice for s in renewing if (invoice := auto_refund_invoice(subscription=s, now=now)) is not None), None
    )
    ends_at = now if refund else subscription_renews_at(subscription=subscription, now=now)
    return CancelPreview(subscription=subscription, ends_at=ends_at, refund=refund, renewing=len(renewing))


@dataclasses.dataclass
class BillingOverview:
    state: SubscriptionState
    subscription: Subscription | None
    plan: Plan | None
    invoices: list[Invoice]
    trial_available: bool
    trial_days_left: int | None
    next_charge_at: datetime.datetime | None
    next_charge_cents: int | None
    ends_at: datetime.datetime | None
    grace_ends_at: datetime.datetime | None
    grants: list = dataclasses.field(default_factory=list)  # running complimentary access (AccessGrant rows)

    @property
    def can_subscribe(self) -> bool:
        return not self.state.is_live


def billing_overview(*, user, now: datetime.datetime | None = None) -> BillingOverview:
    from django.conf import settings

    now = now or timezone.now()
    subscription = subscription_current(user=user, now=now)
    state = subscription_state(subscription, now=now)
    plan = plan_active()
    trial_days_left = next_charge_at = next_charge_cents = ends_at = grace_ends_at = None
    if subscription is not None and not subscription.is_final:
        if subscription.is_trialing(now):
            trial_days_left = days_left(until=subscription.trial_end, now=now)
        renews_at = subscription_renews_at(subscription=subscription, now=now)
        if subscription.cancel_at_period_end:
            ends_at = renews_at
        else:
            next_charge_at, next_charge_cents = renews_at, subscription.amount_cents
        if subscription.status == "past_due" and subscription.past_due_since:
            grace_ends_at = subscription.past_due_since + datetime.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
    invoices = list(Invoice.objects.filter(user=user).order_by("-stripe_created", "-id")[:24])
    from .models import AccessGrant

    grants = list(
        AccessGrant.objects.filter(user=user, revoked_at__isnull=True, until__gte=timezone.localdate()).order_by(
            "until"
        )
    )
    return BillingOverview(
        grants=grants,
        state=state,
        subscription=subscription,
        plan=plan,
        invoices=invoices,
        trial_available=trial_available(user=user),
        trial_days_left=trial_days_left,
        next_charge_at=next_charge_at,
        next_charge_cents=next_charge_cents,
        ends_at=ends_at,
        grace_ends_at=grace_ends_at,
    )


@dataclasses.dataclass(frozen=True)
class ComplimentaryAccess:
    """What a learner's complimentary grants open on a day: every course until `whole_until`, and each
    course in `course_until` until its date (the latest grant wins)."""

    whole_until: datetime.date | None = None
    course_until: tuple[tuple[int, datetime.date], ...] = ()

    def until_for(self, course_id: int) -> datetime.date | None:
        """The last day this course is open through a grant; None when no grant opens it."""
        dates = [until for cid, until in self.course_until if cid == course_id]
        if self.whole_until is not None:
            dates.append(self.whole_until)
        return max(dates) if dates else None

    def __bool__(self) -> bool:
        return self.whole_until is not None or bool(self.course_until)


def complimentary_access_of(*, user_id: int, today: datetime.date) -> ComplimentaryAccess:
    """The grants running on `today` (not revoked, `until` today or later), in one query."""
    from .models import AccessGrant

    whole = None
    courses: dict[int, datetime.date] = {}
    for grant in AccessGrant.objects.filter(user_id=user_id, revoked_at__isnull=True, until__gte=today).only(
        "whole_specialization", "course_ids", "until"
    ):
        if grant.whole_specialization:
            whole = max(whole, grant.until) if whole else grant.until
        for course_id in grant.course_ids:
            courses[course_id] = max(courses.get(course_id, grant.until), grant.until)
    return ComplimentaryAccess(whole_until=whole, course_until=tuple(sorted(courses.items())))
