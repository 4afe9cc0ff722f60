"""localstripe on a loopback address (`make run`, the tests): our test-card page instead of Checkout
and the Portal, plans instead of prices, webhooks registered through localstripe's own endpoint."""

from __future__ import annotations

import urllib.request

import stripe
from django.conf import settings
from django.urls import reverse

from . import GatewayError, client
from .base import CheckoutSession, Gateway, call, opts


class LocalStripeGateway(Gateway):
    checkout_mode = "local"
    takes_card_details = True

    def price_create(self, *, plan_id: int, version: int, product_id: str, amount_cents: int, currency: str) -> str:
        # localstripe has plans, not prices; the id says what it costs, so an existing one is the same plan.
        key = f"plan-{plan_id}-price-v{version}"
        local_id = f"{key}-{amount_cents}{currency}"
        if self.price_usable(price_id=local_id):
            return local_id
        plan = call(
            client().v1.plans.create,
            params={
                "id": local_id,
                "product": product_id,
                "amount": amount_cents,
                "currency": currency,
                "interval": "month",
            },
            options=opts(key),
        )
        return plan.id

    def price_usable(self, *, price_id: str) -> bool:
        # A fresh localstripe (restarted without its state file) has forgotten every plan.
        try:
            client().v1.plans.retrieve(price_id)
        except stripe.InvalidRequestError:
            return False
        except stripe.StripeError as exc:
            raise GatewayError("Could not reach localstripe.") from exc
        return True

    def checkout_session_create(
        self,
        *,
        checkout_id: int,
        customer_id: str,
        price_id: str,
        trial_days: int | None,
        success_url: str,
        cancel_url: str,
        user_id: int,
    ) -> CheckoutSession:
        return CheckoutSession(id="", url=reverse("billing:local_checkout", args=[checkout_id]))

    def card_update_url(self, *, key: str, customer_id: str, return_url: str) -> str:
        return reverse("billing:local_card")

    def webhook_register(self, *, url: str, secret: str, hook_id: str = "mooc") -> None:
        """localstripe's own endpoint for webhook destinations (Stripe has none: use its dashboard)."""
        body = f"url={url}&secret={secret}".encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback address: the gateway is chosen for it
            f"{settings.STRIPE_API_BASE.rstrip('/')}/_config/webhooks/{hook_id}", data=body, method="POST"
        )
        request.add_header("Authorization", f"Bearer {settings.STRIPE_SECRET_KEY}")
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            response.read()

    def disputes_list(self, *, since: int) -> list[dict]:
        return []  # localstripe has no disputes
