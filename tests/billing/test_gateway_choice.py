"""The payment provider is chosen once from the settings; business code never asks which one it got."""

import re
from pathlib import Path

import pytest

from billing import gateway

BILLING = Path(__file__).resolve().parents[2] / "billing"


def test_a_loopback_api_base_chooses_localstripe_and_production_settings_never_do(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    local = gateway.current()
    assert isinstance(local, gateway.LocalStripeGateway) and local.takes_card_details
    assert gateway.current() is local  # chosen once, not per call
    settings.STRIPE_API_BASE = "https://api.stripe.example.com"
    assert isinstance(gateway.current(), gateway.StripeGateway)
    settings.STRIPE_API_BASE = ""
    assert isinstance(gateway.current(), gateway.StripeGateway)
    settings.STRIPE_API_BASE = "http://localhost:8420"
    settings.SETTINGS_MODULE = "config.settings.production"
    assert not gateway.current().takes_card_details


def test_the_production_gateway_refuses_card_numbers_on_our_server(settings):
    settings.STRIPE_API_BASE = ""
    with pytest.raises(gateway.GatewayError, match="Stripe's own page"):
        gateway.current().card_create(key="k", number="4242424242424242", exp_month=12, exp_year=2030, cvc="123")


@pytest.mark.parametrize(
    "path", sorted(str(p.relative_to(BILLING)) for p in [*(BILLING / "services").glob("*.py"), BILLING / "views.py"])
)
def test_business_code_does_not_branch_on_the_payment_provider(path):
    source = (BILLING / path).read_text()
    assert not re.search(r"is_local|points_at_localstripe|STRIPE_API_BASE|LocalStripeGateway|StripeGateway", source)
