"""Subscriptions: the one place their state is written (`subscription_sync`), and what a learner can
change (cancel, resume) or what ends one (finishing the whole specialization)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import emails, gateway, selectors
from .. import stripe_payloads as payloads
from ..models import Customer, Plan, Subscription
from .errors import BillingError
from .invoices import refund_create


def _user_for(data: dict) -> object | None:
    customer_id = payloads.ref_id(data.get("customer"))
    customer = Customer.objects.filter(stripe_customer_id=customer_id).select_related("user").first()
    if customer:
        return customer.user
    user_id = payloads.metadata_user_id(data)
    if user_id:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user and customer_id:
            Customer.objects.get_or_create(user=user, defaults={"stripe_customer_id": customer_id})
        return user
    return None


def subscription_sync(*, data: dict, stripe_time: int, user=None, plan: Plan | None = None) -> Subscription | None:
    """Apply a Stripe subscription snapshot taken at `stripe_time` (an event's `created`, or now for an
    API response). A snapshot older than the one applied is ignored; on a tie the further-along status
    wins, so duplicated and shuffled deliveries end in the same state. Returns None for a subscription
    of a customer we do not know."""
    stripe_id = data["id"]
    rank = payloads.subscription_rank(data)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(stripe_subscription_id=stripe_id).first()
        if subscription is None:
            user = user or _user_for(data)
            if user is None:
                return None
            try:
                with transaction.atomic():
                    subscription = Subscription.objects.create(
                        user=user, stripe_subscription_id=stripe_id, status=data.get("status") or "incomplete"
                    )
                created = True
            except IntegrityError:  # a concurrent delivery created it first
                subscription = Subscription.objects.select_for_update().get(stripe_subscription_id=stripe_id)
                created = False
        else:
            created = False
        newer = stripe_time > subscription.synced_at_stripe or (
            stripe_time == subscription.synced_at_stripe and rank >= subscription.synced_rank
        )
        # canceled and incomplete_expired are terminal in Stripe: a later-stamped live snapshot is stale.
        reopened = not created and subscription.is_final and rank < payloads.FINAL_RANK
        if not (created or newer) or reopened:
            return subscription
        was_final = not created and subscription.is_final
        was_past_due = subscription.status == "past_due"
        period_start, period_end = payloads.subscription_period(data)
        amount, currency = payloads.subscription_amount(data)
        status = data.get("status") or subscription.status
        subscription.status = status
        subscription.stripe_customer_id = payloads.ref_id(data.get("customer")) or subscription.stripe_customer_id
        subscription.trial_start = payloads.ts(data.get("trial_start"))
        subscription.trial_end = payloads.ts(data.get("trial_end"))
        subscription.current_period_start = payloads.ts(period_start)
        subscription.current_period_end = payloads.ts(period_end)
        subscription.cancel_at_period_end = bool(data.get("cancel_at_period_end")) or bool(data.get("cancel_at"))
        subscription.canceled_at = payloads.ts(data.get("canceled_at"))
        subscription.ended_at = payloads.ts(data.get("ended_at"))
        if amount:
            subscription.amount_cents, subscription.currency = amount, currency
        if status == "past_due":
            # Deterministic from the snapshot (the unpaid period began then), so replays agree.
            if not (was_past_due and subscription.past_due_since):
                subscription.past_due_since = payloads.ts(period_start) or payloads.ts(stripe_time)
        else:
            subscription.past_due_since = None
        if subscription.plan_id is None:
            price_id = payloads.subscription_price_id(data)
            subscription.plan = plan or Plan.objects.filter(stripe_price_id=price_id).first() if price_id else plan
        subscription.synced_at_stripe = stripe_time
        subscription.synced_rank = rank
        subscription.save()
        _after_subscription_change(subscription, created=created, was_final=was_final)
    return subscription


def _after_subscription_change(subscription: Subscription, *, created: bool, was_final: bool) -> None:
    to = [subscription.user.email]
    context = {"subscription": subscription, "user": subscription.user, "billing_url": emails.billing_url()}
    if created and subscription.is_trialing():
        transaction.on_commit(lambda: emails.send(template="trial_started", to=to, context=context))
    if subscription.is_final and not was_final:
        transaction.on_commit(lambda: emails.send(template="subscription_ended", to=to, context=context))


def _current_for_change(user, *, now: datetime.datetime) -> Subscription:
    subscription = selectors.subscription_current(user=user, now=now)
    if subscription is None or subscription.is_final:
        raise BillingError("You have no subscription to change.")
    return subscription


def subscription_cancel(*, user, now: datetime.datetime | None = None) -> Subscription:
    """Cancel at the period's end (the learner keeps what they paid for). A learner charged at the end
    of the trial who cancels within BILLING_AUTO_REFUND_HOURS is refunded and the subscription ends now."""
    now = now or timezone.now()
    subscription = _current_for_change(user, now=now)
    conversion = selectors.auto_refund_invoice(subscription=subscription, now=now)
    if conversion is not None:
        refund_create(
            invoice=conversion,
            amount_cents=conversion.refundable_cents,
            reason=f"Canceled within {settings.BILLING_AUTO_REFUND_HOURS} hours of the first charge after the trial",
            automatic=True,
        )
        data = gateway.current().subscription_cancel_now(subscription_id=subscription.stripe_subscription_id)
    else:
        data = gateway.current().subscription_set_cancel_at_period_end(
            subscription_id=subscription.stripe_subscription_id, cancel=True
        )
    return subscription_sync(data=data, stripe_time=int(now.timestamp()))


def subscription_resume(*, user, now: datetime.datetime | None = None) -> Subscription:
    now = now or timezone.now()
    subscription = _current_for_change(user, now=now)
    if not subscription.cancel_at_period_end:
        raise BillingError("Your subscription is not set to end.")
    data = gateway.current().subscription_set_cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id, cancel=False
    )
    Subscription.objects.filter(pk=subscription.pk).update(ends_for_completion=False)
    return subscription_sync(data=data, stripe_time=int(now.timestamp()))


def subscription_end_for_completion(*, user, now: datetime.datetime | None = None) -> Subscription | None:
    """The learner finished the whole specialization: stop charging at the period's end (a setting)."""
    if not settings.BILLING_END_ON_SPECIALIZATION_COMPLETE:
        return None
    now = now or timezone.now()
    subscription = selectors.subscription_current(user=user, now=now)
    if subscription is None or subscription.is_final or subscription.cancel_at_period_end:
        return None
    data = gateway.current().subscription_set_cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id, cancel=True
    )
    Subscription.objects.filter(pk=subscription.pk).update(ends_for_completion=True)
    subscription = subscription_sync(data=data, stripe_time=int(now.timestamp()))
    emails.send(
        template="completion_ending",
        to=[user.email],
        context={"user": user, "subscription": subscription, "billing_url": emails.billing_url()},
    )
    return subscription
