"""Stripe itself: Checkout for sign-up, the Customer Portal for cards, Prices for plans."""

from __future__ import annotations

import stripe

from . import GatewayError, client
from .base import Card, CheckoutSession, Gateway, as_dict, call, listed, opts


class StripeGateway(Gateway):
    checkout_mode = "stripe"
    takes_card_details = False

    def price_create(self, *, plan_id: int, version: int, product_id: str, amount_cents: int, currency: str) -> str:
        price = call(
            client().v1.prices.create,
            params={
                "product": product_id,
                "unit_amount": amount_cents,
                "currency": currency,
                "recurring": {"interval": "month"},
            },
            options=opts(f"plan-{plan_id}-price-v{version}"),
        )
        return price.id

    def price_usable(self, *, price_id: str) -> bool:
        try:
            price = client().v1.prices.retrieve(price_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return False
            raise GatewayError("Could not read the price from our payment provider.") from exc
        except stripe.StripeError as exc:
            raise GatewayError("Could not read the price from our payment provider.") from exc
        return bool(getattr(price, "active", True))

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
        subscription_data: dict = {"metadata": {"user_id": str(user_id), "checkout_id": str(checkout_id)}}
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
            subscription_data["trial_settings"] = {"end_behavior": {"missing_payment_method": "cancel"}}
        session = as_dict(
            call(
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
                options=opts(f"checkout-{checkout_id}"),
            )
        )
        return CheckoutSession(id=session["id"], url=session["url"])

    def card_update_url(self, *, key: str, customer_id: str, return_url: str) -> str:
        session = call(
            client().v1.billing_portal.sessions.create,
            params={"customer": customer_id, "return_url": return_url},
            options=opts(key),
        )
        return session.url

    def card_create(self, *, key: str, number: str, exp_month: int, exp_year: int, cvc: str) -> Card:
        raise GatewayError("Card details are entered on Stripe's own page, never on ours.")

    def webhook_register(self, *, url: str, secret: str) -> None:
        raise GatewayError("Add the webhook endpoint in the Stripe dashboard; Stripe has no API for our secret.")

    def disputes_list(self, *, since: int) -> list[dict]:
        return listed(client().v1.disputes.list, {"created": {"gte": since}}, what="disputes")
