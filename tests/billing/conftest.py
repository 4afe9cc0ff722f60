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
