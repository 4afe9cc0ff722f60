"""Every call to Stripe, in one small module.

Production talks to Stripe (Checkout for sign-up, the Customer Portal for cards). Against
localstripe (STRIPE_API_BASE on a loopback address, never under production settings) there is no
Checkout, Portal or Prices API: the local card page creates the customer, payment method and
subscription through the SDK instead, and plans stand in for prices.

Every creating call carries an Idempotency-Key derived from our own record, so a retried request
never creates a second customer, subscription or refund.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from urllib.parse import urlparse

import stripe
from django.conf import settings


class GatewayError(Exception):
    """Stripe refused or could not be reached. The message is fit for the learner."""


def is_local() -> bool:
    """True against localstripe: the API base is a loopback address, and never in production."""
    if settings.SETTINGS_MODULE == "config.settings.production" or not settings.STRIPE_API_BASE:
        return False
    host = urlparse(settings.STRIPE_API_BASE).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


# Tests that record production-shaped calls put a stripe.HTTPClient here.
http_client_override: stripe.HTTPClient | None = None


def client() -> stripe.StripeClient:
    options = {"max_network_retries": 2}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    if http_client_override is not None:
        options["http_client"] = http_client_override
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise GatewayError(exc.user_message or "Your card was declined.") from exc
    except stripe.StripeError as exc:
        raise GatewayError(
            "Our payment provider could not complete this just now. Nothing was charged; please try again."
        ) from exc


def _opts(key: str) -> dict:
    return {"idempotency_key": key}


def as_dict(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


# ---- plans ----------------------------------------------------------------------------------


def product_create(*, plan_id: int, name: str) -> str:
    product = _call(client().v1.products.create, params={"name": name}, options=_opts(f"plan-{plan_id}-product"))
    return product.id


def price_create(*, plan_id: int, version: int, product_id: str, amount_cents: int, currency: str) -> str:
    key = f"plan-{plan_id}-price-v{version}"
    if is_local():
        # localstripe has plans, not prices; the id says what it costs, so an existing one is the same plan.
        local_id = f"{key}-{amount_cents}{currency}"
        if local_plan_exists(plan_id=local_id):
            return local_id
        plan = _call(
            client().v1.plans.create,
            params={
                "id": local_id,
                "product": product_id,
                "amount": amount_cents,
                "currency": currency,
                "interval": "month",
            },
            options=_opts(key),
        )
        return plan.id
    price = _call(
        client().v1.prices.create,
        params={
            "product": product_id,
            "unit_amount": amount_cents,
            "currency": currency,
            "recurring": {"interval": "month"},
        },
        options=_opts(key),
    )
    return price.id


# ---- customers and cards --------------------------------------------------------------------


def customer_create(*, user_id: int, email: str, name: str) -> str:
    customer = _call(
        client().v1.customers.create,
        params={"email": email, "name": name or email, "metadata": {"user_id": str(user_id)}},
        options=_opts(f"customer-user-{user_id}"),
    )
    return customer.id


@dataclasses.dataclass
class Card:
    payment_method_id: str
    fingerprint: str
    last4: str


def card_create(*, key: str, number: str, exp_month: int, exp_year: int, cvc: str) -> Card:
    """Local card page only: create a card payment method, attach it and make it the default."""
    digest = hashlib.sha256(f"{number}|{exp_month}|{exp_year}".encode()).hexdigest()[:16]
    c = client()
    pm = _call(
        c.v1.payment_methods.create,
        params={
            "type": "card",
            "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
        },
        options=_opts(f"{key}-pm-{digest}"),
    )
    return Card(payment_method_id=pm.id, fingerprint=pm.card.fingerprint, last4=pm.card.last4)


def card_make_default(*, customer_id: str, payment_method_id: str) -> None:
    c = client()
    _call(c.v1.payment_methods.attach, payment_method_id, params={"customer": customer_id})
    _call(
        c.v1.customers.update,
        customer_id,
        params={"invoice_settings": {"default_payment_method": payment_method_id}},
    )


def payment_method_fingerprint(*, payment_method_id: str) -> str:
    pm = _call(client().v1.payment_methods.retrieve, payment_method_id)
    card = getattr(pm, "card", None)
    return getattr(card, "fingerprint", "") or ""


# ---- subscriptions --------------------------------------------------------------------------


def subscription_create(*, key: str, customer_id: str, price_id: str, trial_end: int | None, metadata: dict) -> dict:
    """Local card page only (production subscribes through Checkout)."""
    params = {"customer": customer_id, "items": [{"plan": price_id}], "metadata": metadata}
    if trial_end is not None:
        params["trial_end"] = trial_end
    return as_dict(_call(client().v1.subscriptions.create, params=params, options=_opts(f"{key}-subscription")))


def subscription_retrieve(*, subscription_id: str) -> dict | None:
    """The subscription as Stripe has it now; None when Stripe does not know it."""
    try:
        return as_dict(client().v1.subscriptions.retrieve(subscription_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise GatewayError("Could not read the subscription from our payment provider.") from exc
    except stripe.StripeError as exc:
        raise GatewayError("Could not read the subscription from our payment provider.") from exc


# Event type prefix → the SDK service that reads that kind of object (longest prefix first).
_EVENT_OBJECT_SERVICES = (
    ("customer.subscription.", ("subscriptions",)),
    ("checkout.session.", ("checkout", "sessions")),
    ("charge.dispute.", ("disputes",)),
    ("charge.refund.", ("refunds",)),
    ("charge.", ("charges",)),
    ("invoice.", ("invoices",)),
    ("refund.", ("refunds",)),
    ("customer.", ("customers",)),
)


def event_object_retrieve(*, event_type: str, object_id: str) -> dict | None:
    """The object an event names only by id, as Stripe has it now; None when Stripe does not know it."""
    service = client().v1
    for prefix, path in _EVENT_OBJECT_SERVICES:
        if event_type.startswith(prefix):
            for name in path:
                service = getattr(service, name)
            break
    else:
        return None
    try:
        return as_dict(service.retrieve(object_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise GatewayError(f"Could not read {object_id} from our payment provider.") from exc
    except stripe.StripeError as exc:
        raise GatewayError(f"Could not read {object_id} from our payment provider.") from exc


def subscription_set_cancel_at_period_end(*, subscription_id: str, cancel: bool) -> dict:
    return as_dict(_call(client().v1.subscriptions.update, subscription_id, params={"cancel_at_period_end": cancel}))


def subscription_cancel_now(*, subscription_id: str) -> dict:
    return as_dict(_call(client().v1.subscriptions.cancel, subscription_id))


def subscription_end_trial_now(*, subscription_id: str) -> dict:
    return as_dict(_call(client().v1.subscriptions.update, subscription_id, params={"trial_end": "now"}))


# ---- production only: Checkout and the Customer Portal --------------------------------------


def checkout_session_create(
    *,
    checkout_id: int,
    customer_id: str,
    price_id: str,
    trial_days: int | None,
    success_url: str,
    cancel_url: str,
    user_id: int,
) -> dict:
    subscription_data: dict = {"metadata": {"user_id": str(user_id), "checkout_id": str(checkout_id)}}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
        subscription_data["trial_settings"] = {"end_behavior": {"missing_payment_method": "cancel"}}
    session = _call(
        client().v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(checkout_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "payment_method_collection": "always",  # the card up front, even for the free trial
            "subscription_data": subscription_data,
            "metadata": {"user_id": str(user_id), "checkout_id": str(checkout_id)},
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        options=_opts(f"checkout-{checkout_id}"),
    )
    return as_dict(session)


def portal_session_create(*, key: str, customer_id: str, return_url: str) -> str:
    session = _call(
        client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
        options=_opts(key),
    )
    return session.url


# ---- refunds --------------------------------------------------------------------------------


def refund_create(*, refund_id: int, charge_id: str, payment_intent_id: str, amount_cents: int, reason: str) -> dict:
    params: dict = {"amount": amount_cents, "metadata": {"reason": reason[:400], "refund_id": str(refund_id)}}
    if charge_id:
        params["charge"] = charge_id
    else:
        params["payment_intent"] = payment_intent_id
    return as_dict(_call(client().v1.refunds.create, params=params, options=_opts(f"refund-{refund_id}")))


# ---- local set-up (make run, tests) ---------------------------------------------------------


def local_plan_exists(*, plan_id: str) -> bool:
    try:
        client().v1.plans.retrieve(plan_id)
    except stripe.InvalidRequestError:
        return False
    return True


def local_webhook_register(*, url: str, secret: str, hook_id: str = "mooc") -> None:
    """localstripe's own endpoint for webhook destinations (no Stripe equivalent: use the dashboard)."""
    import urllib.request

    if not is_local():
        raise GatewayError("Webhook registration through the API is for localstripe only.")
    body = f"url={url}&secret={secret}".encode()
    request = urllib.request.Request(  # noqa: S310 - loopback only, checked above
        f"{settings.STRIPE_API_BASE.rstrip('/')}/_config/webhooks/{hook_id}", data=body, method="POST"
    )
    request.add_header("Authorization", f"Bearer {settings.STRIPE_SECRET_KEY}")
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        response.read()
