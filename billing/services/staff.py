"""What staff do to a learner's subscription from the admin: cancel at the period's end, end now (with or
without a refund of the last payment), resume, extend the trial. Each asks Stripe, records who asked, when,
what and why (StaffAction), and then applies Stripe's answer through `subscription_sync`, the same writer the
webhooks use; nothing about the subscription is changed here by hand. Stripe's own events follow and find
the state already applied."""

from __future__ import annotations

import dataclasses
import datetime

from django.db import transaction
from django.utils import timezone

from .. import gateway
from ..models import Invoice, StaffAction, Subscription
from .errors import BillingError
from .invoices import refund_create
from .subscriptions import fresh_stamp, subscription_sync

Kind = StaffAction.Kind
MAX_TRIAL_EXTENSION_DAYS = 90


@dataclasses.dataclass(frozen=True)
class StaffActionCheck:
    """Whether an action applies to a subscription now, and if not, why (shown to staff)."""

    allowed: bool
    message: str = ""


def refundable_invoice(subscription: Subscription) -> Invoice | None:
    """The subscription's newest paid invoice that still has something to refund."""
    for invoice in Invoice.objects.filter(
        stripe_subscription_id=subscription.stripe_subscription_id, status="paid"
    ).order_by("-stripe_created", "-id"):
        if invoice.refundable_cents > 0:
            return invoice
    return None


def check_staff_action(*, subscription: Subscription, kind: str, now: datetime.datetime) -> StaffActionCheck:
    if kind not in Kind.values:
        return StaffActionCheck(False, f"Unknown action {kind!r}.")
    if subscription.is_final:
        return StaffActionCheck(False, "This subscription has already ended.")
    if kind == Kind.CANCEL_AT_PERIOD_END and subscription.cancel_at_period_end:
        return StaffActionCheck(False, "It is already set to end at the period's end.")
    if kind == Kind.RESUME and not subscription.cancel_at_period_end:
        return StaffActionCheck(False, "It is not set to end, so there is nothing to resume.")
    if kind == Kind.EXTEND_TRIAL and not subscription.is_trialing(now):
        return StaffActionCheck(False, "Only a running free trial can be extended.")
    if kind == Kind.END_NOW_REFUND and refundable_invoice(subscription) is None:
        return StaffActionCheck(False, "Nothing was paid on it that could be refunded: use 'End now (no refund)'.")
    return StaffActionCheck(True)


def staff_actions_available(*, subscription: Subscription, now: datetime.datetime) -> list[tuple[str, str]]:
    """(kind, label) of the actions that apply to this subscription now."""
    return [
        (kind.value, kind.label)
        for kind in Kind
        if check_staff_action(subscription=subscription, kind=kind.value, now=now).allowed
    ]


def subscription_staff_action(
    *,
    subscription: Subscription,
    staff,
    kind: str,
    reason: str,
    trial_days: int | None = None,
    now: datetime.datetime | None = None,
) -> StaffAction:
    """Do one staff action through Stripe and record it. Raises BillingError with a message for staff (and
    records the attempt) when the action does not apply or Stripe refuses."""
    now = now or timezone.now()
    reason = " ".join((reason or "").split())
    if not reason:
        raise BillingError("Give a reason: it is recorded with the action and the learner may be told it.")
    check = check_staff_action(subscription=subscription, kind=kind, now=now)
    if not check.allowed:
        raise BillingError(check.message)
    detail = ""
    trial_end = None
    if kind == Kind.EXTEND_TRIAL:
        if not trial_days or not 1 <= trial_days <= MAX_TRIAL_EXTENSION_DAYS:
            raise BillingError(f"Extend the trial by 1 to {MAX_TRIAL_EXTENSION_DAYS} days.")
        trial_end = subscription.trial_end + datetime.timedelta(days=trial_days)
        detail = f"Trial extended by {trial_days} days, to {trial_end:%Y-%m-%d %H:%M} UTC."
    invoice = refundable_invoice(subscription) if kind == Kind.END_NOW_REFUND else None

    gw = gateway.current()
    sub_id = subscription.stripe_subscription_id
    try:
        if kind == Kind.CANCEL_AT_PERIOD_END:
            data = gw.subscription_set_cancel_at_period_end(subscription_id=sub_id, cancel=True)
        elif kind == Kind.RESUME:
            data = gw.subscription_set_cancel_at_period_end(subscription_id=sub_id, cancel=False)
        elif kind == Kind.EXTEND_TRIAL:
            data = gw.subscription_set_trial_end(subscription_id=sub_id, trial_end=int(trial_end.timestamp()))
        else:
            data = gw.subscription_cancel_now(subscription_id=sub_id)
    except gateway.GatewayError as exc:
        StaffAction.objects.create(
            subscription=subscription, staff=staff, kind=kind, reason=reason, detail=detail, outcome=f"Refused: {exc}"
        )
        raise BillingError(f"Stripe refused: {exc} Nothing changed.") from exc

    with transaction.atomic():
        action = StaffAction.objects.create(
            subscription=subscription,
            staff=staff,
            kind=kind,
            reason=reason,
            detail=detail,
            succeeded=True,
            outcome=f"Stripe: {data.get('status')}, cancel at period end {bool(data.get('cancel_at_period_end'))}.",
            created_at=now,
        )
        if kind == Kind.RESUME:
            Subscription.objects.filter(pk=subscription.pk).update(ends_for_completion=False)
        subscription_sync(data=data, stripe_time=fresh_stamp(subscription, now=now))
    if invoice is not None:
        amount = invoice.refundable_cents
        try:
            refund = refund_create(invoice=invoice, amount_cents=amount, reason=reason, requested_by=staff)
        except (BillingError, gateway.GatewayError) as exc:
            StaffAction.objects.filter(pk=action.pk).update(
                detail=f"Refund of {amount / 100:.2f} {invoice.currency.upper()} not made: {exc}"
            )
            raise BillingError(f"The subscription ended, but the refund failed: {exc}") from exc
        StaffAction.objects.filter(pk=action.pk).update(
            detail=f"Refunded {refund.amount_cents / 100:.2f} {invoice.currency.upper()} of {invoice}."
        )
    action.refresh_from_db()
    return action
