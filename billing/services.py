"""Writes to billing state. Webhooks are the source of truth; API responses and the nightly
reconciliation feed the same `subscription_sync`, which never lets an older snapshot overwrite a newer one.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import re

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from . import emails, gateway, selectors
from .models import (
    Checkout,
    Customer,
    Dispute,
    Invoice,
    Plan,
    ReconciliationRun,
    Refund,
    Subscription,
    TrialClaim,
    WebhookEvent,
)
from .state import subscription_state

logger = logging.getLogger(__name__)


class BillingError(Exception):
    """Something a learner or admin asked for that cannot be done; the message is written for them."""


class TrialRefused(BillingError):
    pass


class WebhookRejected(Exception):
    """Missing or bad signature, or not an event: answered with 400, nothing stored."""


STATUS_RANK = {"incomplete": 1, "trialing": 2, "active": 3, "past_due": 4, "unpaid": 5}
FINAL_RANK = 6


def _ts(value) -> datetime.datetime | None:
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC) if value else None


def _id(value) -> str:
    """A Stripe reference that may come expanded (a dict) or as an id."""
    if isinstance(value, dict):
        return value.get("id", "") or ""
    return value or ""


def _billing_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("billing:overview")


# ---- plans ----------------------------------------------------------------------------------


def plan_sync(*, plan: Plan) -> Plan:
    """Give the plan a Stripe product and a price for its current amount. A changed amount gets a new
    price (Stripe prices are immutable); existing subscriptions stay on the price they started with."""
    if not plan.stripe_product_id:
        plan.stripe_product_id = gateway.product_create(plan_id=plan.pk, name=plan.name)
        plan.save(update_fields=["stripe_product_id", "updated_at"])
    if plan.needs_sync:
        version = plan.price_version + 1
        plan.stripe_price_id = gateway.price_create(
            plan_id=plan.pk,
            version=version,
            product_id=plan.stripe_product_id,
            amount_cents=plan.amount_cents,
            currency=plan.currency,
        )
        plan.price_version = version
        plan.synced_amount_cents = plan.amount_cents
        plan.synced_currency = plan.currency
        plan.save()
    return plan


def plan_ensure_default() -> Plan:
    """The demo plan ($49/month, 7-day trial), created once and synced with Stripe. A fresh localstripe
    has forgotten our product and price: they are created again."""
    plan = Plan.objects.filter(is_active=True).order_by("id").first() or Plan.objects.create()
    if gateway.is_local() and plan.stripe_price_id and not gateway.local_plan_exists(plan_id=plan.stripe_price_id):
        plan.stripe_product_id = plan.stripe_price_id = ""
        plan.save(update_fields=["stripe_product_id", "stripe_price_id", "updated_at"])
    return plan_sync(plan=plan)


# ---- customers, trials, checkout --------------------------------------------------------------


def customer_ensure(*, user) -> Customer:
    existing = Customer.objects.filter(user=user).first()
    if existing:
        return existing
    # The idempotency key comes from the user id, so a concurrent or retried call gets the same customer.
    stripe_id = gateway.customer_create(user_id=user.pk, email=user.email, name=getattr(user, "name", ""))
    try:
        with transaction.atomic():
            return Customer.objects.create(user=user, stripe_customer_id=stripe_id)
    except IntegrityError:
        return Customer.objects.get(user=user)


def checkout_check(*, user, with_trial: bool) -> Plan:
    """Validate a sign-up before anything is created. Raises BillingError with a message for the learner."""
    if not user.is_authenticated:
        raise BillingError("Log in to subscribe.")
    now = timezone.now()
    current = selectors.subscription_current(user=user, now=now)
    if current is not None and subscription_state(current, now=now).is_live:
        raise BillingError("You already have an active subscription.")
    if with_trial and not selectors.trial_available(user=user):
        raise TrialRefused(
            "You have already used your free trial. You can subscribe without a trial; your progress is kept."
        )
    plan = selectors.plan_active()
    if plan is None or not plan.stripe_price_id:
        raise BillingError("Subscriptions are not open yet. Please try again later.")
    return plan


def checkout_start(*, user, with_trial: bool, success_url: str, cancel_url: str) -> Checkout:
    """Start a sign-up: a Stripe Checkout session in production, the local card page against localstripe."""
    plan = checkout_check(user=user, with_trial=with_trial)
    local = gateway.is_local()
    checkout = Checkout.objects.create(
        user=user,
        plan=plan,
        with_trial=with_trial,
        mode=Checkout.Mode.LOCAL if local else Checkout.Mode.STRIPE,
    )
    if local:
        checkout.url = reverse("billing:local_checkout", args=[checkout.pk])
    else:
        customer = customer_ensure(user=user)
        session = gateway.checkout_session_create(
            checkout_id=checkout.pk,
            customer_id=customer.stripe_customer_id,
            price_id=plan.stripe_price_id,
            trial_days=plan.trial_days if with_trial else None,
            success_url=success_url,
            cancel_url=cancel_url,
            user_id=user.pk,
        )
        checkout.stripe_session_id = session["id"]
        checkout.url = session["url"]
    checkout.save(update_fields=["url", "stripe_session_id"])
    return checkout


_CARD_NUMBER = re.compile(r"^\d{16}$")


def checkout_complete_local(
    *, checkout: Checkout, number: str, exp_month: int, exp_year: int, cvc: str, now: datetime.datetime | None = None
) -> Subscription:
    """The local card page's submit: customer, card and subscription (with the trial) through the SDK.

    The webhooks localstripe sends afterwards go through the same handlers as Stripe's."""
    now = now or timezone.now()
    if not gateway.is_local():
        raise BillingError("The local card page is only available against localstripe.")
    if checkout.status != Checkout.Status.OPEN:
        existing = Subscription.objects.filter(user=checkout.user).first()
        if checkout.status == Checkout.Status.COMPLETE and existing:
            return existing
        raise BillingError(checkout.message or "This sign-up is no longer open. Start again from the billing page.")
    number = re.sub(r"[\s-]", "", number or "")
    if not _CARD_NUMBER.match(number):
        raise BillingError("Enter the 16-digit card number.")
    if not re.fullmatch(r"\d{3}", cvc or ""):
        raise BillingError("Enter the 3-digit security code.")
    plan = checkout_check(user=checkout.user, with_trial=checkout.with_trial)
    customer = customer_ensure(user=checkout.user)
    key = f"checkout-{checkout.pk}"
    card = gateway.card_create(key=key, number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
    if checkout.with_trial and TrialClaim.objects.filter(card_fingerprint=card.fingerprint).exists():
        raise TrialRefused(
            "This card has already been used for a free trial. Subscribe without a trial, or use another card."
        )
    gateway.card_make_default(customer_id=customer.stripe_customer_id, payment_method_id=card.payment_method_id)
    trial_end = int((now + datetime.timedelta(days=plan.trial_days)).timestamp()) if checkout.with_trial else None
    with transaction.atomic():
        if checkout.with_trial:
            try:
                with transaction.atomic():
                    TrialClaim.objects.create(user=checkout.user, card_fingerprint=card.fingerprint)
            except IntegrityError as exc:
                raise TrialRefused("A free trial has already been used by this account or this card.") from exc
        data = gateway.subscription_create(
            key=key,
            customer_id=customer.stripe_customer_id,
            price_id=plan.stripe_price_id,
            trial_end=trial_end,
            metadata={"user_id": str(checkout.user.pk), "checkout_id": str(checkout.pk)},
        )
        subscription = subscription_sync(data=data, stripe_time=int(now.timestamp()), user=checkout.user, plan=plan)
        TrialClaim.objects.filter(user=checkout.user).update(stripe_subscription_id=data["id"])
        Checkout.objects.filter(pk=checkout.pk).update(status=Checkout.Status.COMPLETE)
    return subscription


def card_update_local(*, user, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
    """The local stand-in for the Customer Portal's card update. Returns the new card's last four digits."""
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise BillingError("There is no card on file to update yet.")
    number = re.sub(r"[\s-]", "", number or "")
    if not _CARD_NUMBER.match(number) or not re.fullmatch(r"\d{3}", cvc or ""):
        raise BillingError("Enter the 16-digit card number and the 3-digit security code.")
    card = gateway.card_create(
        key=f"card-update-{customer.pk}-{int(timezone.now().timestamp())}",
        number=number,
        exp_month=exp_month,
        exp_year=exp_year,
        cvc=cvc,
    )
    gateway.card_make_default(customer_id=customer.stripe_customer_id, payment_method_id=card.payment_method_id)
    return card.last4


def portal_url(*, user, return_url: str, now: datetime.datetime | None = None) -> str:
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise BillingError("There is no card on file yet.")
    if gateway.is_local():
        return reverse("billing:local_card")
    now = now or timezone.now()
    # Portal sessions are short-lived: one per customer per minute is the same request retried.
    key = f"portal-{customer.pk}-{int(now.timestamp()) // 60}"
    return gateway.portal_session_create(key=key, customer_id=customer.stripe_customer_id, return_url=return_url)


# ---- subscriptions: the one place their state is written -------------------------------------


def _period(data: dict) -> tuple[int | None, int | None]:
    """Period bounds: top level on older API versions (and localstripe), per item since 2025-03."""
    start, end = data.get("current_period_start"), data.get("current_period_end")
    items = (data.get("items") or {}).get("data") or []
    if (start is None or end is None) and items:
        start = start or items[0].get("current_period_start")
        end = end or items[0].get("current_period_end")
    return start, end


def _amount(data: dict) -> tuple[int, str]:
    items = (data.get("items") or {}).get("data") or []
    if items:
        price = items[0].get("price") or items[0].get("plan") or {}
        amount = price.get("unit_amount", price.get("amount")) or 0
        return int(amount) * int(items[0].get("quantity") or 1), price.get("currency", "usd")
    return 0, "usd"


def _price_id(data: dict) -> str:
    items = (data.get("items") or {}).get("data") or []
    if not items:
        return ""
    return _id(items[0].get("price")) or _id(items[0].get("plan"))


def _rank(data: dict) -> int:
    if data.get("status") in Subscription.FINAL_STATUSES or data.get("ended_at"):
        return FINAL_RANK
    return STATUS_RANK.get(data.get("status"), 0)


def _user_for(data: dict) -> object | None:
    customer_id = _id(data.get("customer"))
    customer = Customer.objects.filter(stripe_customer_id=customer_id).select_related("user").first()
    if customer:
        return customer.user
    user_id = (data.get("metadata") or {}).get("user_id")
    if user_id and str(user_id).isdigit():
        user = get_user_model().objects.filter(pk=int(user_id)).first()
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
    rank = _rank(data)
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
        reopened = not created and subscription.is_final and rank < FINAL_RANK
        if not (created or newer) or reopened:
            return subscription
        was_final = not created and subscription.is_final
        was_past_due = subscription.status == "past_due"
        period_start, period_end = _period(data)
        amount, currency = _amount(data)
        status = data.get("status") or subscription.status
        subscription.status = status
        subscription.stripe_customer_id = _id(data.get("customer")) or subscription.stripe_customer_id
        subscription.trial_start = _ts(data.get("trial_start"))
        subscription.trial_end = _ts(data.get("trial_end"))
        subscription.current_period_start = _ts(period_start)
        subscription.current_period_end = _ts(period_end)
        subscription.cancel_at_period_end = bool(data.get("cancel_at_period_end")) or bool(data.get("cancel_at"))
        subscription.canceled_at = _ts(data.get("canceled_at"))
        subscription.ended_at = _ts(data.get("ended_at"))
        if amount:
            subscription.amount_cents, subscription.currency = amount, currency
        if status == "past_due":
            # Deterministic from the snapshot (the unpaid period began then), so replays agree.
            if not (was_past_due and subscription.past_due_since):
                subscription.past_due_since = _ts(period_start) or _ts(stripe_time)
        else:
            subscription.past_due_since = None
        if subscription.plan_id is None:
            price_id = _price_id(data)
            subscription.plan = plan or Plan.objects.filter(stripe_price_id=price_id).first() if price_id else plan
        subscription.synced_at_stripe = stripe_time
        subscription.synced_rank = rank
        subscription.save()
        _after_subscription_change(subscription, created=created, was_final=was_final)
    return subscription


def _after_subscription_change(subscription: Subscription, *, created: bool, was_final: bool) -> None:
    to = [subscription.user.email]
    context = {"subscription": subscription, "user": subscription.user, "billing_url": _billing_url()}
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
        data = gateway.subscription_cancel_now(subscription_id=subscription.stripe_subscription_id)
    else:
        data = gateway.subscription_set_cancel_at_period_end(
            subscription_id=subscription.stripe_subscription_id, cancel=True
        )
    return subscription_sync(data=data, stripe_time=int(now.timestamp()))


def subscription_resume(*, user, now: datetime.datetime | None = None) -> Subscription:
    now = now or timezone.now()
    subscription = _current_for_change(user, now=now)
    if not subscription.cancel_at_period_end:
        raise BillingError("Your subscription is not set to end.")
    data = gateway.subscription_set_cancel_at_period_end(
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
    data = gateway.subscription_set_cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id, cancel=True
    )
    Subscription.objects.filter(pk=subscription.pk).update(ends_for_completion=True)
    subscription = subscription_sync(data=data, stripe_time=int(now.timestamp()))
    emails.send(
        template="completion_ending",
        to=[user.email],
        context={"user": user, "subscription": subscription, "billing_url": _billing_url()},
    )
    return subscription


# ---- invoices, refunds, disputes --------------------------------------------------------------


def _invoice_refs(data: dict) -> tuple[str, str, str]:
    """(subscription, charge, payment_intent) ids across API versions."""
    subscription_id = _id(data.get("subscription"))
    if not subscription_id:
        details = (data.get("parent") or {}).get("subscription_details") or {}
        subscription_id = _id(details.get("subscription"))
    charge_id = _id(data.get("charge"))
    payment_intent_id = _id(data.get("payment_intent"))
    if not (charge_id or payment_intent_id):
        for payment in ((data.get("payments") or {}).get("data")) or []:
            inner = payment.get("payment") or {}
            charge_id = charge_id or _id(inner.get("charge"))
            payment_intent_id = payment_intent_id or _id(inner.get("payment_intent"))
    if not payment_intent_id and isinstance(data.get("charge"), dict):
        payment_intent_id = _id(data["charge"].get("payment_intent"))
    return subscription_id, charge_id, payment_intent_id


def invoice_sync(*, data: dict, stripe_time: int, paid: bool | None = None) -> tuple[Invoice, bool]:
    """Upsert an invoice. Its status only moves forward (draft → open → paid/void), amounts only grow,
    and references follow the newest snapshot; returns (invoice, became_paid) so the receipt goes out
    once however often and in whatever order the events arrive."""
    subscription_id, charge_id, payment_intent_id = _invoice_refs(data)
    status = data.get("status") or ""
    if paid:
        status = "paid"
    with transaction.atomic():
        invoice, _ = Invoice.objects.select_for_update().get_or_create(stripe_invoice_id=data["id"])
        before = invoice.status
        if Invoice.STATUS_RANK.get(status, 0) >= Invoice.STATUS_RANK.get(before, 0):
            invoice.status = status
        invoice.stripe_customer_id = _id(data.get("customer")) or invoice.stripe_customer_id
        invoice.stripe_subscription_id = subscription_id or invoice.stripe_subscription_id
        if stripe_time >= invoice.synced_at_stripe or not invoice.stripe_charge_id:
            # A retried payment makes a new charge: the newest snapshot names the one that counts.
            invoice.stripe_charge_id = charge_id or invoice.stripe_charge_id
            invoice.stripe_payment_intent_id = payment_intent_id or invoice.stripe_payment_intent_id
            invoice.synced_at_stripe = max(stripe_time, invoice.synced_at_stripe)
        invoice.number = data.get("number") or invoice.number
        invoice.billing_reason = data.get("billing_reason") or invoice.billing_reason
        invoice.amount_due = data.get("amount_due") or invoice.amount_due
        invoice.amount_paid = max(invoice.amount_paid, data.get("amount_paid") or 0)
        invoice.currency = data.get("currency") or invoice.currency
        invoice.hosted_invoice_url = data.get("hosted_invoice_url") or invoice.hosted_invoice_url
        invoice.invoice_pdf = data.get("invoice_pdf") or invoice.invoice_pdf
        lines = (data.get("lines") or {}).get("data") or []
        if lines and lines[0].get("period"):
            invoice.period_start = _ts(lines[0]["period"].get("start"))
            invoice.period_end = _ts(lines[0]["period"].get("end"))
        invoice.stripe_created = _ts(data.get("created")) or invoice.stripe_created
        if invoice.status == "paid" and invoice.paid_at is None:
            paid_at = (data.get("status_transitions") or {}).get("paid_at") or data.get("created")
            invoice.paid_at = _ts(paid_at)
        if invoice.user_id is None:
            customer = Customer.objects.filter(stripe_customer_id=invoice.stripe_customer_id).first()
            invoice.user_id = customer.user_id if customer else None
        invoice.save()
        if invoice.stripe_charge_id:
            # Refunds seen on the charge before this invoice's event get attached now.
            Refund.objects.filter(stripe_charge_id=invoice.stripe_charge_id, invoice__isnull=True).update(
                invoice=invoice
            )
            _recount_refunded(invoice, reported=_refunded_reported(charge_id=invoice.stripe_charge_id))
            if invoice.user_id:
                # So is a dispute opened on the charge before the invoice's event came.
                Dispute.objects.filter(stripe_charge_id=invoice.stripe_charge_id, user__isnull=True).update(
                    user_id=invoice.user_id
                )
    return invoice, before != "paid" and invoice.status == "paid"


def _refunded_reported(*, charge_id: str) -> int:
    """The largest amount_refunded a stored charge.refunded event reported for the charge. Since API
    2022-11-15 a charge's refunds list is not included, so for a refund seen before its invoice's event
    that total is all there is to go on."""
    amounts = WebhookEvent.objects.filter(type="charge.refunded", payload__data__object__id=charge_id).values_list(
        "payload__data__object__amount_refunded", flat=True
    )
    return max((a for a in amounts if isinstance(a, int) and not isinstance(a, bool)), default=0)


def _recount_refunded(invoice: Invoice, *, reported: int = 0) -> None:
    done = sum(invoice.refunds.exclude(status=Refund.Status.FAILED).values_list("amount_cents", flat=True))
    total = max(invoice.amount_refunded, reported, done)
    if total != invoice.amount_refunded:
        invoice.amount_refunded = total
        invoice.save(update_fields=["amount_refunded"])


def refund_create(
    *, invoice: Invoice, amount_cents: int, reason: str, requested_by=None, automatic: bool = False
) -> Refund:
    """Refund all or part of a paid invoice and tell the learner. Raises BillingError for a bad request."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingError("Give a reason for the refund; the learner sees it.")
    if invoice.status != "paid" or not (invoice.stripe_charge_id or invoice.stripe_payment_intent_id):
        raise BillingError("Only a paid invoice can be refunded.")
    if amount_cents <= 0 or amount_cents > invoice.refundable_cents:
        raise BillingError(f"The amount must be between 0.01 and {invoice.refundable_cents / 100:.2f}.")
    try:
        refund = Refund.objects.create(
            invoice=invoice,
            stripe_charge_id=invoice.stripe_charge_id,
            amount_cents=amount_cents,
            reason=reason,
            automatic=automatic,
            requested_by=requested_by,
        )
    except IntegrityError as exc:
        raise BillingError("This payment has already been refunded automatically.") from exc
    try:
        data = gateway.refund_create(
            refund_id=refund.pk,
            charge_id=invoice.stripe_charge_id,
            payment_intent_id=invoice.stripe_payment_intent_id,
            amount_cents=amount_cents,
            reason=reason,
        )
    except gateway.GatewayError:
        Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.FAILED)
        raise
    status = Refund.Status.SUCCEEDED if data.get("status") in ("succeeded", "pending") else Refund.Status.FAILED
    Refund.objects.filter(pk=refund.pk).update(stripe_refund_id=data["id"], status=status)
    refund.refresh_from_db()
    _recount_refunded(invoice)
    if invoice.user:
        emails.send(
            template="refund",
            to=[invoice.user.email],
            context={"refund": refund, "invoice": invoice, "user": invoice.user},
        )
    return refund


def charge_refunded_sync(*, data: dict) -> Invoice | None:
    """Refunds seen on a charge (ours, or made in the Stripe dashboard). Kept by refund id; when the
    invoice's own event has not arrived yet they wait, keyed by charge, and are attached by invoice_sync."""
    charge_id = data["id"]
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(stripe_charge_id=charge_id).first()
        if invoice is None and data.get("payment_intent"):
            pi = _id(data["payment_intent"])
            invoice = Invoice.objects.select_for_update().filter(stripe_payment_intent_id=pi).first()
        for item in ((data.get("refunds") or {}).get("data")) or []:
            ours = (item.get("metadata") or {}).get("refund_id")
            if ours and str(ours).isdigit():
                # Our own refund, possibly reported before refund_create saved Stripe's id.
                Refund.objects.filter(pk=int(ours), stripe_refund_id__isnull=True).update(stripe_refund_id=item["id"])
            refund, created = Refund.objects.get_or_create(
                stripe_refund_id=item["id"],
                defaults={
                    "invoice": invoice,
                    "stripe_charge_id": charge_id,
                    "amount_cents": item.get("amount") or 0,
                    "reason": (item.get("metadata") or {}).get("reason") or "Refunded in the Stripe dashboard",
                    "status": Refund.Status.SUCCEEDED,
                },
            )
            if not created and refund.invoice_id is None and invoice is not None:
                Refund.objects.filter(pk=refund.pk).update(invoice=invoice)
        if invoice is not None:
            _recount_refunded(invoice, reported=data.get("amount_refunded") or 0)
    return invoice


def dispute_record(*, data: dict) -> Dispute:
    charge_id = _id(data.get("charge"))
    invoice = Invoice.objects.filter(stripe_charge_id=charge_id).select_related("user").first()
    dispute, created = Dispute.objects.get_or_create(
        stripe_dispute_id=data["id"],
        defaults={
            "stripe_charge_id": charge_id,
            "user": invoice.user if invoice else None,
            "amount_cents": data.get("amount") or 0,
            "currency": data.get("currency") or "usd",
            "reason": data.get("reason") or "",
            "status": data.get("status") or "",
        },
    )
    if created:
        staff = settings.BILLING_STAFF_EMAILS or list(
            get_user_model().objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
        )
        emails.send(template="dispute_staff", to=staff, context={"dispute": dispute})
    return dispute


# ---- webhooks ---------------------------------------------------------------------------------


def _event_check(event) -> dict:
    """A verified body must still look like a Stripe event before we store it: a JSON object with a short
    string id and type, an integer `created` (what ordering relies on) and a `data.object`."""
    if not isinstance(event, dict):
        raise WebhookRejected("Not an event: the body is not a JSON object.")
    event_id, type_, created = event.get("id"), event.get("type"), event.get("created")
    for name, value in (("id", event_id), ("type", type_)):
        if not isinstance(value, str) or not 0 < len(value) <= 100:
            raise WebhookRejected(f"Not an event: no usable {name}.")
    if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created < 2**53:
        raise WebhookRejected("Not an event: no integer 'created'.")
    obj = event["data"].get("object") if isinstance(event.get("data"), dict) else None
    if not obj or not isinstance(obj, dict | str):
        raise WebhookRejected("Not an event: no data.object.")
    if type_ in _HANDLERS and isinstance(obj, dict) and not isinstance(obj.get("id"), str):
        raise WebhookRejected(f"Not an event: the {type_} object has no id.")
    return event


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def webhook_event_record(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify Stripe's signature and store the event once; processing runs in a Celery task after commit."""
    from . import tasks

    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
        )
        # PostgreSQL's jsonb cannot hold NUL characters; the rest of the event still counts.
        event_dict = _without_nul(_event_check(json.loads(payload)))
    except (ValueError, RecursionError, stripe.SignatureVerificationError) as exc:  # bad UTF-8 is a ValueError
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


def webhook_event_process(*, event_pk: int) -> WebhookEvent:
    """Process a stored event once. The row lock makes concurrent runs of the same event wait and then
    see it done; a failure is kept with its message and retried by the task."""
    failure = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return event
        event.attempts += 1
        try:
            with transaction.atomic():  # the handler's writes roll back alone; the failure is kept
                outcome = _dispatch(event)
        except Exception as exc:
            logger.exception("Stripe event %s failed", event.stripe_event_id)
            failure = exc
            event.status = WebhookEvent.Status.FAILED
            event.outcome = f"{type(exc).__name__}: {exc}"
            event.save(update_fields=["status", "outcome", "attempts"])
        else:
            event.status = WebhookEvent.Status.IGNORED if outcome.ignored else WebhookEvent.Status.PROCESSED
            event.outcome = outcome.text
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "outcome", "attempts", "processed_at"])
    if failure is not None:
        raise failure
    return event


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
        obj = gateway.event_object_retrieve(event_type=event.type, object_id=ref)
        if obj is None:
            return _Outcome(f"Stripe does not know {ref}: nothing changed.")
        at = max(at, int(timezone.now().timestamp()))
    return handler(obj, event, at)


def _on_subscription(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    subscription = subscription_sync(data=obj, stripe_time=at)
    if subscription is None:
        return _Outcome(f"Subscription {obj.get('id')} belongs to no customer we know: nothing changed.")
    if subscription.synced_at_stripe != at:
        return _Outcome(f"Older than the state we have for {subscription.stripe_subscription_id}: nothing changed.")
    return _Outcome(f"{subscription.stripe_subscription_id} is now {subscription.status}.")


def _on_trial_will_end(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    subscription = subscription_sync(data=obj, stripe_time=at)
    if subscription is None:
        return _Outcome("Unknown subscription: nothing sent.")
    if subscription.is_final or subscription.cancel_at_period_end:
        return _Outcome("The subscription will not renew: no reminder needed.")
    emails.send(
        template="trial_ending",
        to=[subscription.user.email],
        context={"subscription": subscription, "user": subscription.user, "billing_url": _billing_url()},
    )
    return _Outcome(f"Trial-ending reminder sent to {subscription.user.email}.")


def _on_checkout_completed(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    checkout_id = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("checkout_id")
    checkout = None
    if checkout_id and str(checkout_id).isdigit():
        checkout = Checkout.objects.filter(pk=int(checkout_id)).select_related("user").first()
    if checkout is None:
        return _Outcome("No checkout of ours: nothing changed.", ignored=True)
    customer_id = _id(obj.get("customer"))
    if customer_id:
        Customer.objects.get_or_create(user=checkout.user, defaults={"stripe_customer_id": customer_id})
    Checkout.objects.filter(pk=checkout.pk).update(status=Checkout.Status.COMPLETE)
    subscription_id = _id(obj.get("subscription"))
    if not subscription_id:
        return _Outcome("Checkout completed without a subscription.")
    data = gateway.subscription_retrieve(subscription_id=subscription_id)
    if data is None:
        return _Outcome(f"Stripe does not know {subscription_id}.")
    subscription = subscription_sync(
        data=data, stripe_time=max(at, int(timezone.now().timestamp())), user=checkout.user
    )
    note = ""
    if checkout.with_trial:
        note = _claim_trial(checkout=checkout, subscription=subscription, data=data)
    return _Outcome(f"Checkout {checkout.pk} completed: {subscription_id} is {subscription.status}.{note}")


def _claim_trial(*, checkout: Checkout, subscription: Subscription, data: dict) -> str:
    """Checkout collects the card, so the card check happens here: a card that already had a trial
    with another account ends this trial at once (the learner is charged as a normal subscriber)."""
    pm_id = _id(data.get("default_payment_method"))
    fingerprint = gateway.payment_method_fingerprint(payment_method_id=pm_id) if pm_id else ""
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
        ended = gateway.subscription_end_trial_now(subscription_id=subscription.stripe_subscription_id)
        subscription_sync(data=ended, stripe_time=int(timezone.now().timestamp()))
        return " The card had already had a free trial: trial ended."
    return ""


def _on_invoice_paid(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, became_paid = invoice_sync(data=obj, stripe_time=at, paid=True)
    if became_paid and invoice.amount_paid > 0 and invoice.user:
        emails.send(template="receipt", to=[invoice.user.email], context={"invoice": invoice, "user": invoice.user})
        return _Outcome(f"Invoice {invoice.stripe_invoice_id} paid; receipt sent.")
    return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}.")


def _on_invoice_failed(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, _ = invoice_sync(data=obj, stripe_time=at)
    if invoice.status == "paid" or not invoice.user:
        return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}: no e-mail.")
    emails.send(
        template="payment_failed",
        to=[invoice.user.email],
        context={
            "invoice": invoice,
            "user": invoice.user,
            "billing_url": _billing_url(),
            "grace_days": settings.BILLING_PAST_DUE_GRACE_DAYS,
        },
    )
    return _Outcome(f"Payment failed for {invoice.stripe_invoice_id}; learner told how to update the card.")


def _on_action_required(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, _ = invoice_sync(data=obj, stripe_time=at)
    if invoice.status == "paid" or not invoice.user:
        return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}: no e-mail.")
    emails.send(
        template="action_required",
        to=[invoice.user.email],
        context={"invoice": invoice, "user": invoice.user, "confirm_url": invoice.hosted_invoice_url or _billing_url()},
    )
    return _Outcome(f"3-D Secure confirmation link sent for {invoice.stripe_invoice_id}.")


def _on_invoice_other(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice, _ = invoice_sync(data=obj, stripe_time=at)
    return _Outcome(f"Invoice {invoice.stripe_invoice_id} is {invoice.status}.")


def _on_charge_refunded(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    invoice = charge_refunded_sync(data=obj)
    if invoice is None:
        return _Outcome(f"Charge {obj.get('id')} is not on an invoice we know: nothing changed.")
    return _Outcome(f"Invoice {invoice.stripe_invoice_id}: {invoice.amount_refunded / 100:.2f} refunded.")


def _on_customer_deleted(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    """Forget the mapping, so the learner's next sign-up creates a new Stripe customer instead of failing
    on the deleted one. Stripe ends the customer's subscriptions with their own events."""
    deleted, _ = Customer.objects.filter(stripe_customer_id=obj["id"]).delete()
    if not deleted:
        return _Outcome(f"Customer {obj['id']} is not one of ours: nothing changed.")
    return _Outcome(f"Customer {obj['id']} deleted in Stripe: forgotten.")


def _on_dispute(obj: dict, event: WebhookEvent, at: int) -> _Outcome:
    dispute = dispute_record(data=obj)
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


# ---- nightly reconciliation ---------------------------------------------------------------------

_COMPARED = (
    "status",
    "trial_end",
    "current_period_end",
    "cancel_at_period_end",
    "ended_at",
    "past_due_since",
)


def _webhook_events_requeue(*, now: datetime.datetime) -> list[str]:
    """A verified event is never lost: one whose task message vanished (status still received) or whose
    retries ran out (failed) is queued again. Processing is idempotent, so a slow one running is harmless."""
    from . import tasks

    stuck = list(
        WebhookEvent.objects.filter(
            status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED],
            received_at__lt=now - datetime.timedelta(minutes=10),
        ).values_list("pk", flat=True)
    )
    for pk in stuck:
        transaction.on_commit(lambda pk=pk: tasks.process_webhook_event.delay(pk))
    return [f"{len(stuck)} unprocessed webhook event(s) queued again"] if stuck else []


def subscriptions_reconcile(*, now: datetime.datetime | None = None) -> ReconciliationRun:
    """Re-read every non-final subscription from Stripe and repair drift (a lost webhook costs at most a day)."""
    now = now or timezone.now()
    run = ReconciliationRun.objects.create()
    lines = []
    for subscription in Subscription.objects.exclude(status__in=Subscription.FINAL_STATUSES).filter(
        ended_at__isnull=True
    ):
        run.checked += 1
        before = {name: getattr(subscription, name) for name in _COMPARED}
        try:
            data = gateway.subscription_retrieve(subscription_id=subscription.stripe_subscription_id)
        except gateway.GatewayError as exc:
            lines.append(f"{subscription.stripe_subscription_id}: could not read ({exc}); will retry tomorrow")
            continue
        if data is None:
            lines.append(f"{subscription.stripe_subscription_id}: unknown to Stripe; left for staff to check")
            continue
        # A fresh read is newer than anything we applied, so it always wins.
        stamp = max(int(now.timestamp()), subscription.synced_at_stripe + 1)
        after = subscription_sync(data=data, stripe_time=stamp)
        changes = [
            f"{name}: {before[name]} → {getattr(after, name)}"
            for name in _COMPARED
            if before[name] != getattr(after, name)
        ]
        if changes:
            run.repaired += 1
            lines.append(f"{subscription.stripe_subscription_id} ({subscription.user.email}): " + "; ".join(changes))
    lines += _webhook_events_requeue(now=now)
    run.report = "\n".join(lines) or "No drift."
    run.finished_at = timezone.now()
    run.save()
    return run
