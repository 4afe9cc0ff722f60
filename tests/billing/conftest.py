"""Billing tests run Celery tasks in-process (for real, eagerly) unless a test starts its own worker:
nothing here may leave a message in a broker another process reads."""

import pytest


@pytest.fixture(autouse=True)
def _billing_tasks_eager(celery_eager):
    return celery_eager


@pytest.fixture
def secret(settings):
    """The webhook signing secret, set for this test; events are signed with it (tests/billing/helpers.py)."""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_webhooks"
    return settings.STRIPE_WEBHOOK_SECRET


@pytest.fixture
def stripe_prod(settings, celery_eager, monkeypatch):
    """Real-Stripe settings (no API base) with the network replaced by a recorder that answers with
    Stripe-shaped responses (tests/billing/helpers.py: RecordingHTTPClient)."""
    from billing import gateway
    from tests.billing import helpers as h

    settings.STRIPE_API_BASE = ""
    settings.STRIPE_SECRET_KEY = "sk_test_recorded"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_recorded"
    recorder = h.RecordingHTTPClient()
    monkeypatch.setattr(gateway, "http_client_override", recorder)
    return recorder


@pytest.fixture
def recorded_plan(db):
    """The $49 plan as already synced with (recorded) Stripe."""
    from billing.models import Plan

    return Plan.objects.create(
        stripe_product_id="prod_dl", stripe_price_id="price_49", synced_amount_cents=4900, synced_currency="usd"
    )
