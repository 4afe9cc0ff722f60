"""Starting a subscription (Stripe Checkout, or the local card page against localstripe) and cards."""

from __future__ import annotations

import datetime
import re

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .. import gateway, selectors
from ..models import Checkout, Customer, Plan, Subscription, TrialClaim
from ..state import subscription_state
from .customers import customer_ensure, customer_lock
from .errors import BillingError, TrialRefused
from .subscriptions import subscription_sync


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
    """Start a sign-up: the learner's customer, and the page where they give their card (the gateway's:
    Stripe Checkout, or the local card page against localstripe)."""
    plan = checkout_check(user=user, with_trial=with_trial)
    gw = gateway.current()
    checkout = Checkout.objects.create(
        user=user, plan=plan, with_trial=with_trial, mode=gw.checkout_mode, stripe_price_id=plan.stripe_price_id
    )
    customer = customer_ensure(user=user)
    session = gw.checkout_session_create(
        checkout_id=checkout.pk,
        customer_id=customer.stripe_customer_id,
        price_id=plan.stripe_price_id,
        trial_days=plan.trial_days if with_trial else None,
        success_url=success_url,
        cancel_url=cancel_url,
        user_id=user.pk,
    )
    checkout.stripe_session_id, checkout.url = session.id, session.url
    checkout.save(update_fields=["url", "stripe_session_id"])
    return checkout


_CARD_NUMBER = re.compile(r"^\d{16}$")
_STRIPE_KEY_LIFETIME = datetime.timedelta(hours=24)


def checkout_complete_local(
    *, checkout: Checkout, number: str, exp_month: int, exp_year: int, cvc: str, now: datetime.datetime | None = None
) -> Subscription:
    """The local card page's submit: card and subscription (with the trial) through the SDK.

    One critical section per learner: the "already subscribed" check and the create run under the
    learner's row lock, held across the Stripe calls, so two tabs (or a double click) make one
    subscription. The webhooks localstripe sends afterwards go through the same handlers as Stripe's."""
    now = now or timezone.now()
    gw = gateway.current()
    if not gw.takes_card_details:
        raise BillingError("The local card page is only available against localstripe.")
    number = re.sub(r"[\s-]", "", number or "")
    if not _CARD_NUMBER.match(number):
        raise BillingError("Enter the 16-digit card number.")
    if not re.fullmatch(r"\d{3}", cvc or ""):
        raise BillingError("Enter the 3-digit security code.")
    user = checkout.user
    customer_ensure(user=user)
    checkout = _checkout_fix_parameters(checkout=checkout, now=now)
    key = f"checkout-{checkout.pk}"
    with transaction.atomic():
        customer = customer_lock(user=user)
        checkout = Checkout.objects.select_related("plan").get(pk=checkout.pk)
        if checkout.status == Checkout.Status.COMPLETE:
            done = selectors.subscription_current(user=user, now=now)
            if done is not None:
                return done  # the same page submitted twice: the first submit's subscription
        if checkout.status != Checkout.Status.OPEN:
            raise BillingError(checkout.message or "This sign-up is no longer open. Start again from the billing page.")
        checkout_check(user=user, with_trial=checkout.with_trial)
        card = gw.card_create(key=key, number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
        if checkout.with_trial and TrialClaim.objects.filter(card_fingerprint=card.fingerprint).exists():
            raise TrialRefused(
                "This card has already been used for a free trial. Subscribe without a trial, or use another card."
            )
        gw.card_make_default(customer_id=customer.stripe_customer_id, payment_method_id=card.payment_method_id)
        if checkout.with_trial:
            try:
                with transaction.atomic():
                    TrialClaim.objects.create(user=user, card_fingerprint=card.fingerprint)
            except IntegrityError as exc:
                raise TrialRefused("A free trial has already been used by this account or this card.") from exc
        data = gw.subscription_create(
            key=key,
            customer_id=customer.stripe_customer_id,
            price_id=checkout.stripe_price_id,
            trial_end=int(checkout.trial_end.timestamp()) if checkout.trial_end else None,
            metadata={"user_id": str(user.pk), "checkout_id": str(checkout.pk)},
        )
        subscription = subscription_sync(data=data, stripe_time=int(now.timestamp()), user=user, plan=checkout.plan)
        TrialClaim.objects.filter(user=user).update(stripe_subscription_id=data["id"])
        Checkout.objects.filter(pk=checkout.pk).update(status=Checkout.Status.COMPLETE)
    return subscription


def _checkout_fix_parameters(*, checkout: Checkout, now: datetime.datetime) -> Checkout:
    """Fix what the subscription create sends, at the first attempt, and keep it (committed before any
    Stripe call): a retry reuses the idempotency key, and Stripe refuses a key whose parameters changed.
    Stripe forgets a key after 24 hours, so a learner back after longer (a declined card, a closed tab)
    gets a full trial from then rather than one shortened by the wait."""
    # Conditional updates: of two concurrent first attempts, whichever writes first fixes them for both.
    if checkout.with_trial:
        trial = datetime.timedelta(days=checkout.plan.trial_days)
        Checkout.objects.filter(pk=checkout.pk).filter(
            Q(trial_end__isnull=True) | Q(trial_end__lt=now + trial - _STRIPE_KEY_LIFETIME)
        ).update(trial_end=now + trial)
    Checkout.objects.filter(pk=checkout.pk, stripe_price_id="").update(stripe_price_id=checkout.plan.stripe_price_id)
    checkout.refresh_from_db()
    return checkout


def card_update_local(*, user, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
    """The local stand-in for the Customer Portal's card update. Returns the new card's last four digits."""
    gw = gateway.current()
    customer = Customer.objects.filter(user=user).exclude(stripe_customer_id=None).first()
    if not gw.takes_card_details:
        raise BillingError("Cards are updated on Stripe's own page.")
    if customer is None:
        raise BillingError("There is no card on file to update yet.")
    number = re.sub(r"[\s-]", "", number or "")
    if not _CARD_NUMBER.match(number) or not re.fullmatch(r"\d{3}", cvc or ""):
        raise BillingError("Enter the 16-digit card number and the 3-digit security code.")
    card = gw.card_create(
        key=f"card-update-{customer.pk}-{int(timezone.now().timestamp())}",
        number=number,
        exp_month=exp_month,
        exp_year=exp_year,
        cvc=cvc,
    )
    gw.card_make_default(customer_id=customer.stripe_customer_id, payment_method_id=card.payment_method_id)
    return card.last4


def card_update_url(*, user, return_url: str, now: datetime.datetime | None = None) -> str:
    """Where the learner updates their card: Stripe's Customer Portal, or the local card page."""
    customer = Customer.objects.filter(user=user).exclude(stripe_customer_id=None).first()
    if customer is None:
        raise BillingError("There is no card on file yet.")
    now = now or timezone.now()
    # Portal sessions are short-lived: one per customer per minute is the same request retried.
    key = f"portal-{customer.pk}-{int(now.timestamp()) // 60}"
    return gateway.current().card_update_url(key=key, customer_id=customer.stripe_customer_id, return_url=return_url)
