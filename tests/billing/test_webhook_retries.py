"""Webhook tasks retry only what a retry can fix (Stripe or the database unreachable), and end in a
visible "gave up" state with a staff alert instead of failing silently for ever."""

import time

import pytest
from django.core import mail
from django.db import OperationalError

from billing import gateway, services
from billing.models import Customer, WebhookEvent
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner(db):
    user = UserFactory(email="ada@example.com")
    Customer.objects.create(user=user, stripe_customer_id="cus_ada")
    return user


def paid_invoice_event():
    now = int(time.time())
    invoice = h.invoice(
        "in_ada",
        "cus_ada",
        "sub_ada",
        status="paid",
        created=now,
        amount=4900,
        charge="ch_ada",
        billing_reason="subscription_cycle",
        period_start=now,
        period_end=now + 30 * h.DAY,
    )
    return h.event("invoice.paid", invoice, created=now)


def test_a_fault_in_our_code_is_not_retried_and_staff_are_alerted(client, secret, learner, monkeypatch, settings):
    settings.BILLING_STAFF_EMAILS = ["staff@example.com"]
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        raise KeyError("amount_due")

    monkeypatch.setattr(services.invoices, "invoice_sync", broken)

    assert h.post_event(client, paid_invoice_event(), secret).status_code == 200

    event = WebhookEvent.objects.get()
    assert len(calls) == 1 and event.attempts == 1
    assert event.status == "gave_up" and "KeyError" in event.outcome
    alert = [m for m in mail.outbox if m.to == ["staff@example.com"]]
    assert len(alert) == 1 and event.stripe_event_id in alert[0].body and "invoice.paid" in alert[0].body


@pytest.mark.parametrize(
    "fault", [gateway.GatewayError("Stripe is down"), OperationalError("could not connect to server")], ids=str
)
def test_an_infrastructure_fault_is_retried_then_given_up_with_one_staff_alert(
    client, secret, learner, monkeypatch, settings, fault
):
    from billing import tasks

    settings.BILLING_STAFF_EMAILS = ["staff@example.com"]
    calls = []

    def unreachable(**kwargs):
        calls.append(kwargs)
        raise fault

    monkeypatch.setattr(services.invoices, "invoice_sync", unreachable)

    h.post_event(client, paid_invoice_event(), secret)

    event = WebhookEvent.objects.get()
    assert len(calls) == tasks.process_webhook_event.max_retries + 1 == event.attempts
    assert event.status == "gave_up" and type(fault).__name__ in event.outcome
    assert len([m for m in mail.outbox if m.to == ["staff@example.com"]]) == 1
    # Staff (or Stripe's next delivery) process it again once the outage is over.
    monkeypatch.undo()
    services.webhook_event_process(event_pk=event.pk)
    event.refresh_from_db()
    assert event.status == "processed"
