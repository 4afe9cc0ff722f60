"""Subscriptions: the one place their state is written (`subscription_sync`), and what a learner can
change (cancel, resume) or what ends one (finishing the whole specialization)."""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import emails, gateway, selectors
from .. import stripe_payloads as payloads
from ..models import Checkout, Customer, Plan, Refund, StaffAction, Subscription
from ..state import subscription_state
from .customers import customer_link
from .errors import BillingError
from .invoices import refund_automatic, subscription_paid_invoice


def _user_for(data: dict) -> object | None:
    customer_id = payloads.ref_id(data.get("customer"))
    customer = Customer.objects.filter(stripe_customer_id=customer_id).select_related("user").first()
    if customer:
        return customer.user
    user_id = payloads.metadata_user_id(data)
    if user_id:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user and customer_id:
            customer_link(user=user, stripe_customer_id=customer_id)
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
        before = _Before(
            cancel_at_period_end=not created and subscription.cancel_at_period_end,
            trial_end=None if created else subscription.trial_end,
            trialing=not created and subscription.is_trialing(),
            live=not created and subscription_state(subscription, now=timezone.now()).is_live,
        )
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
        _after_subscription_change(
            subscription, created=created, was_final=was_final, before=before, stripe_time=stripe_time
        )
    return subscription


def fresh_stamp(subscription: Subscription, *, now: datetime.datetime | None = None) -> int:
    """The Stripe time to apply a fresh API response with (the answer to our own change, or a re-read):
    it is at least as new as anything applied, so it always wins."""
    return max(int((now or timezone.now()).timestamp()), subscription.synced_at_stripe + 1)


@dataclasses.dataclass(frozen=True)
class _Before:
    cancel_at_period_end: bool
    trial_end: datetime.datetime | None
    trialing: bool
    live: bool = False


def _staff_note(subscription: Subscription, kinds: tuple[str, ...]) -> dict:
    """Whether staff asked for this change (the action recorded just before Stripe's answer), and why."""
    action = (
        StaffAction.objects.filter(subscription=subscription, kind__in=kinds, succeeded=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if action is None or action.created_at < timezone.now() - datetime.timedelta(hours=1):
        return {"by_staff": False, "reason": ""}
    return {"by_staff": True, "reason": action.reason}


def _after_subscription_change(
    subscription: Subscription, *, created: bool, was_final: bool, before: _Before, stripe_time: int
) -> None:
    """The e-mails a change calls for, each told once: every change of what the learner pays or can open."""
    user = subscription.user
    sub_id = subscription.stripe_subscription_id
    context = {"subscription": subscription}
    if created and subscription.is_trialing():
        emails.notify_learner(user=user, template="trial_started", event_key=sub_id, context=context)
    # Access ends when Stripe ends the subscription, and also when it stops giving access without ending
    # (unpaid after the retries, paused after a trial without a card). One e-mail either way: the same key.
    ended = subscription.is_final or (before.live and not subscription_state(subscription, now=timezone.now()).is_live)
    if ended:
        if not was_final:
            note = _staff_note(subscription, (StaffAction.Kind.END_NOW, StaffAction.Kind.END_NOW_REFUND))
            kept = emails.completed_courses(user=user)
            context |= {"kept": kept, **note}
            emails.notify_learner(user=user, template="subscription_ended", event_key=sub_id, context=context)
        return
    if subscription.cancel_at_period_end and not before.cancel_at_period_end and not created:
        if not subscription.ends_for_completion:  # that one has its own e-mail (completion_ending)
            note = _staff_note(subscription, (StaffAction.Kind.CANCEL_AT_PERIOD_END,))
            end = selectors.subscription_renews_at(subscription=subscription, now=timezone.now())
            context |= {"kept": emails.completed_courses(user=user), "end_date": end, **note}
            emails.notify_learner(
                user=user, template="cancel_confirmed", event_key=f"{sub_id}:{stripe_time}", context=context
            )
    elif before.cancel_at_period_end and not subscription.cancel_at_period_end:
        note = _staff_note(subscription, (StaffAction.Kind.RESUME,))
        emails.notify_learner(
            user=user, template="subscription_resumed", event_key=f"{sub_id}:{stripe_time}", context=context | note
        )
    if (
        before.trialing
        and subscription.is_trialing()
        and before.trial_end is not None
        and subscription.trial_end > before.trial_end
    ):
        note = _staff_note(subscription, (StaffAction.Kind.EXTEND_TRIAL,))
        emails.notify_learner(
            user=user,
            template="trial_extended",
            event_key=f"{sub_id}:{int(subscription.trial_end.timestamp())}",
            context=context | note,
        )


def _current_for_change(user, *, now: datetime.datetime) -> Subscription:
    subscription = selectors.subscription_current(user=user, now=now)
    if subscription is None or subscription.is_final:
        raise BillingError("You have no subscription to change.")
    return subscription


@dataclasses.dataclass(frozen=True)
class CancelResult:
    """What a cancel did, for the message the learner reads."""

    subscription: Subscription  # the one that decided their access, after the change
    ended_now: bool  # a payment was refunded and access ends now
    refund_pending: bool  # ... but Stripe has not made the refund yet (a task retries it)


def subscription_cancel(*, user, now: datetime.datetime | None = None) -> CancelResult:
    """Stop every subscription of the learner that would charge them again: a live one at the period's
    end (they keep what they paid for), one that gives nothing now (unpaid, never paid) at once. A
    learner charged at the end of the trial who cancels within BILLING_AUTO_REFUND_HOURS is refunded
    and that subscription ends now; the refund is made only once Stripe has canceled it."""
    now = now or timezone.now()
    current = _current_for_change(user, now=now)
    gw = gateway.current()
    refunds = []
    for subscription in Subscription.objects.filter(user=user).order_by("created_at", "id"):
        live = subscription_state(subscription, now=now).is_live
        if subscription.is_final or (live and subscription.cancel_at_period_end):
            continue
        conversion = selectors.auto_refund_invoice(subscription=subscription, now=now) if live else None
        if live and conversion is None:
            data = gw.subscription_set_cancel_at_period_end(
                subscription_id=subscription.stripe_subscription_id, cancel=True
            )
        else:
            data = gw.subscription_cancel_now(subscription_id=subscription.stripe_subscription_id)
        subscription_sync(data=data, stripe_time=fresh_stamp(subscription, now=now))
        if conversion is not None:
            hours = settings.BILLING_AUTO_REFUND_HOURS
            reason = f"Canceled within {hours} hours of the first charge after the trial"
            refunds.append(refund_automatic(invoice=conversion, reason=reason))
    current.refresh_from_db()
    return CancelResult(
        subscription=current,
        ended_now=bool(refunds),
        refund_pending=any(r.status != Refund.Status.SUCCEEDED for r in refunds),
    )


def subscription_refuse_second(*, checkout: Checkout, subscription: Subscription, data: dict) -> str:
    """A second live subscription came through Stripe Checkout (two tabs, a repeated click) while the
    learner already had one: cancel it at once, then refund what it charged, and tell the learner.
    Called under the learner's lock (customer_lock). Safe to run again: each step checks first."""
    if not subscription.is_final:
        canceled = gateway.current().subscription_cancel_now(subscription_id=subscription.stripe_subscription_id)
        subscription = subscription_sync(data=canceled, stripe_time=fresh_stamp(subscription))
    invoice = subscription_paid_invoice(data=data, stripe_time=int(timezone.now().timestamp()))
    refund = None
    if invoice is not None:
        refund = refund_automatic(invoice=invoice, reason="A second subscription, started while you already had one")
    message = "You already had an active subscription: this second one was canceled" + (
        " and its payment refunded." if refund else "; nothing was charged for it."
    )
    told = Checkout.objects.filter(pk=checkout.pk).exclude(status=Checkout.Status.REFUSED)
    if told.update(status=Checkout.Status.REFUSED, message=message):
        emails.notify_learner(
            user=checkout.user,
            template="second_subscription",
            event_key=str(checkout.pk),
            context={"refund": refund, "invoice": invoice},
        )
    return f" A second live subscription: {subscription.stripe_subscription_id} canceled" + (
        f", {invoice.stripe_invoice_id} refunded." if refund else "."
    )


def subscription_resume(*, user, now: datetime.datetime | None = None) -> Subscription:
    now = now or timezone.now()
    subscription = _current_for_change(user, now=now)
    if not subscription.cancel_at_period_end:
        raise BillingError("Your subscription is not set to end.")
    data = gateway.current().subscription_set_cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id, cancel=False
    )
    Subscription.objects.filter(pk=subscription.pk).update(ends_for_completion=False)
    return subscription_sync(data=data, stripe_time=fresh_stamp(subscription, now=now))


def subscription_end_for_completion(*, user, now: datetime.datetime | None = None) -> Subscription | None:
    """The learner finished the whole specialization: stop charging at the period's end (a setting).
    Every subscription that would renew stops, so a learner left with two is not charged for either."""
    if not settings.BILLING_END_ON_SPECIALIZATION_COMPLETE:
        return None
    now = now or timezone.now()
    renewing = [
        s
        for s in Subscription.objects.filter(user=user).order_by("created_at", "id")
        if not s.is_final and not s.cancel_at_period_end
    ]
    if not renewing:
        return None
    for subscription in renewing:
        data = gateway.current().subscription_set_cancel_at_period_end(
            subscription_id=subscription.stripe_subscription_id, cancel=True
        )
        Subscription.objects.filter(pk=subscription.pk).update(ends_for_completion=True)
        subscription_sync(data=data, stripe_time=fresh_stamp(subscription, now=now))
    subscription = selectors.subscription_current(user=user, now=now)
    emails.notify_learner(
        user=user,
        template="completion_ending",
        event_key=f"{subscription.stripe_subscription_id}:{int(now.timestamp())}",
        context={"subscription": subscription},
    )
    return subscription
