"""Every call to Stripe, behind one interface with two implementations, chosen once from settings.

- `production.StripeGateway`: Stripe itself. Sign-up through Stripe Checkout, card updates through the
  Customer Portal, plans as Stripe Prices; card numbers never reach our server.
- `local.LocalStripeGateway`: localstripe, a Stripe-compatible fake on a loopback address (`make run`,
  the tests). It has no Checkout, Portal or Prices: our own test-card page stands in for the first two
  and plans stand in for prices.

`current()` picks one when the app starts: localstripe when STRIPE_API_BASE is a loopback address and
the settings are not production's; Stripe otherwise. Services call `gateway.current()` and never ask
which one they got. Every creating call carries an Idempotency-Key derived from our own record, so a
retried request never creates a second customer, subscription or refund.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

import stripe
from django.conf import settings
from django.core.signals import setting_changed


class GatewayError(Exception):
    """Stripe refused or could not be reached. The message is fit for the learner."""


# Tests that record production-shaped calls put a stripe.HTTPClient here.
http_client_override: stripe.HTTPClient | None = None


def client() -> stripe.StripeClient:
    options = {"max_network_retries": settings.STRIPE_MAX_NETWORK_RETRIES}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    if http_client_override is not None:
        options["http_client"] = http_client_override
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


from .base import Card, CheckoutSession, Gateway  # noqa: E402 - they use client() and GatewayError above
from .local import LocalStripeGateway  # noqa: E402
from .production import StripeGateway  # noqa: E402


def points_at_localstripe() -> bool:
    """The selection rule: the API base is a loopback address, and the settings are not production's."""
    if settings.SETTINGS_MODULE == "config.settings.production" or not settings.STRIPE_API_BASE:
        return False
    host = urlparse(settings.STRIPE_API_BASE).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


_current: Gateway | None = None


def current() -> Gateway:
    """The gateway for these settings, chosen once (again only when a test changes the settings)."""
    global _current
    if _current is None:
        _current = LocalStripeGateway() if points_at_localstripe() else StripeGateway()
    return _current


def _forget_on_settings_change(*, setting: str, **kwargs) -> None:
    global _current
    if setting in ("STRIPE_API_BASE", "SETTINGS_MODULE"):
        _current = None


setting_changed.connect(_forget_on_settings_change, dispatch_uid="billing-gateway-settings")

__all__ = [
    "Card",
    "CheckoutSession",
    "Gateway",
    "GatewayError",
    "LocalStripeGateway",
    "StripeGateway",
    "client",
    "current",
    "points_at_localstripe",
]
