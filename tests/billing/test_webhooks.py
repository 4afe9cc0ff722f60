"""The webhook endpoint: signatures, idempotency, out-of-order and concurrent delivery, each event type."""

import datetime
import threading
import time

import pytest
from django.core import mail
from django.db import connection

from billing import services
from billing.models import Customer, Dispute, Invoice, Refund, Subscription, WebhookEvent
from billing.state import SubscriptionState, subscription_state
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 10 * h.DAY  # the trial ended three days ago


@pytest.fixture
def learner(db):
    user = UserFactory(email="ada@example.com")
    Customer.objects.create(user=user, stripe_customer_id="cus_ada")
    return user


def trialing(**overrides):
    values = {
        "status": "trialing",
        "created": T0,
        "period_start": T0,
        "period_end": T0 + 7 * h.DAY,
        "trial_start": T0,
        "trial_end": T0 + 7 * h.DAY,
    }
    values.update(overrides)
    return h.subscription("sub_ada", "cus_ada", **values)


def test_missing_or_bad_signature_is_rejected_and_changes_nothing(client, secret, learner):
    payload = h.event("customer.subscription.created", trialing(), created=T0)
    assert h.post_event(client, payload, "whsec_wrong").status_code == 400
    import json

    body = json.dumps(payload).encode()
    url = "/billing/stripe/webhook/"
    assert client.post(url, data=body, content_type="application/json").status_code == 400
    stale = h.signature(body, secret, timestamp=int(time.time()) - 3600)  # replayed from an hour ago
    assert client.post(url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=stale).status_code == 400
    assert not WebhookEvent.objects.exists() and not Subscription.objects.exists()


def test_trial_start_is_stored_processed_and_e_mailed_once(client, secret, learner):
    now = int(time.time())
    payload = h.event(
        "customer.subscription.created", trialing(trial_start=now, trial_end=now + 7 * h.DAY), created=now
    )
    for _ in range(3):  # Stripe retries; a replayed event changes nothing
        assert h.post_event(client, payload, secret).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "processed" and "sub_ada is now trialing" in event.outcome and event.attempts == 1
    sub = Subscription.objects.get()
    assert sub.user == learner and sub.amount_cents == 4900
    assert subscription_state(sub, now=sub.trial_start) is SubscriptionState.TRIALING
    assert [m.subject for m in mail.outbox] == ["[Deep Learning] Your free trial has started"]


def test_an_older_event_never_overwrites_newer_state(client, secret, learner):
    canceled = trialing(status="canceled", canceled_at=T0 + h.DAY, ended_at=T0 + h.DAY)
    h.post_event(client, h.event("customer.subscription.deleted", canceled, created=T0 + h.DAY), secret)
    h.post_event(client, h.event("customer.subscription.created", trialing(), created=T0), secret)
    sub = Subscription.objects.get()
    assert sub.status == "canceled" and sub.is_final
    assert [m.subject for m in mail.outbox] == ["[Deep Learning] Your subscription has ended"]
    assert "stay open to you, forever" in mail.outbox[0].body
    older = WebhookEvent.objects.get(type="customer.subscription.created")
    assert older.status == "processed" and "Older than the state we have" in older.outcome


def test_unknown_events_are_stored_and_ignored(client, secret):
    assert (
        h.post_event(client, h.event("customer.tax_id.created", {"id": "txi_1"}, created=T0), secret).status_code == 200
    )
    assert WebhookEvent.objects.get().status == "ignored"


@pytest.mark.django_db(transaction=True)
def test_concurrent_delivery_of_one_event_processes_it_once(secret, learner):
    body = h.event("invoice.paid", paid_invoice(), created=T0)
    stored = WebhookEvent.objects.create(stripe_event_id=body["id"], type=body["type"], stripe_created=T0, payload=body)
    errors = []

    def worker():
        try:
            services.webhook_event_process(event_pk=stored.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stored.refresh_from_db()
    assert stored.attempts == 1 and stored.status == "processed"
    assert len(mail.outbox) == 1 and "Receipt" in mail.outbox[0].subject


def paid_invoice(**overrides):
    values = {
        "status": "paid",
        "created": T0 + 7 * h.DAY,
        "amount": 4900,
        "charge": "ch_ada_1",
        "billing_reason": "subscription_cycle",
        "period_start": T0 + 7 * h.DAY,
        "period_end": T0 + 37 * h.DAY,
    }
    values.update(overrides)
    return h.invoice("in_ada_1", "cus_ada", "sub_ada", **values)


def test_receipt_goes_out_once_for_paid_and_payment_succeeded(client, secret, learner):
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + 7 * h.DAY), secret)
    h.post_event(client, h.event("invoice.payment_succeeded", paid_invoice(), created=T0 + 7 * h.DAY), secret)
    invoice = Invoice.objects.get()
    assert invoice.user == learner and invoice.status == "paid" and invoice.stripe_charge_id == "ch_ada_1"
    assert invoice.stripe_subscription_id == "sub_ada" and invoice.amount_paid == 4900
    assert [m.subject for m in mail.outbox] == ["[Deep Learning] Receipt for your payment"]
    assert "$49.00" in mail.outbox[0].body


def test_payment_failure_e_mails_the_card_link_and_grace_keeps_access(client, secret, learner, settings):
    failed = paid_invoice(status="open", charge="ch_ada_failed")
    h.post_event(client, h.event("invoice.payment_failed", failed, created=T0 + 7 * h.DAY), secret)
    past_due = trialing(status="past_due", trial_end=T0 + 7 * h.DAY, period_start=T0 + 7 * h.DAY)
    h.post_event(client, h.event("customer.subscription.updated", past_due, created=T0 + 7 * h.DAY + 5), secret)
    message = mail.outbox[-1]
    assert "payment failed" in message.subject.lower() and "http://" in message.body and "/billing/" in message.body
    sub = Subscription.objects.get()
    start = sub.past_due_since

    assert subscription_state(sub, now=start + datetime.timedelta(days=6)) is SubscriptionState.PAST_DUE_GRACE
    assert subscription_state(sub, now=start + datetime.timedelta(days=8)) is SubscriptionState.ENDED
    # The payment goes through on a retry: no late failure e-mail, and the state is active again.
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + 9 * h.DAY), secret)
    active = trialing(status="active", trial_end=T0 + 7 * h.DAY, period_start=T0 + 7 * h.DAY)
    h.post_event(client, h.event("customer.subscription.updated", active, created=T0 + 9 * h.DAY + 1), secret)
    sub.refresh_from_db()
    assert sub.status == "active" and sub.past_due_since is None
    h.post_event(client, h.event("invoice.payment_failed", failed, created=T0 + 7 * h.DAY), secret)  # late copy
    assert Invoice.objects.get().status == "paid"
    assert sum("payment failed" in m.subject.lower() for m in mail.outbox) == 1


def test_three_d_secure_sends_the_confirmation_link(client, secret, learner):
    pending = paid_invoice(status="open")
    h.post_event(client, h.event("invoice.payment_action_required", pending, created=T0 + 7 * h.DAY), secret)
    assert "Please confirm your payment" in mail.outbox[-1].subject
    assert "https://invoice.stripe.com/i/acct_test/in_ada_1" in mail.outbox[-1].body


def test_trial_will_end_warns_three_days_ahead_unless_canceled(client, secret, learner):
    now = int(time.time())
    trial = trialing(created=now - 4 * h.DAY, trial_start=now - 4 * h.DAY, trial_end=now + 3 * h.DAY)
    h.post_event(client, h.event("customer.subscription.trial_will_end", trial, created=now), secret)
    started, reminder = mail.outbox[-2:]  # the first sight of the subscription also sends "trial started"
    assert started.subject == "[Deep Learning] Your free trial has started"
    assert reminder.subject == "[Deep Learning] Your free trial ends in 3 days"
    assert "$49.00" in reminder.body and f"{datetime.datetime.fromtimestamp(now + 3 * h.DAY):%-d}" in reminder.body
    count = len(mail.outbox)
    leaving = dict(trial, cancel_at_period_end=True)
    h.post_event(client, h.event("customer.subscription.trial_will_end", leaving, created=now + 9), secret)
    # No second reminder; what the canceled snapshot shows is told as a cancellation instead.
    assert [m.subject.split(":")[0] for m in mail.outbox[count:]] == ["[Deep Learning] Your subscription is canceled"]


def test_dispute_is_flagged_for_staff(client, secret, learner):
    UserFactory(is_staff=True, email="staff@example.com")
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + 7 * h.DAY), secret)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": "ch_ada_1",
        "amount": 4900,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    h.post_event(client, h.event("charge.dispute.created", dispute, created=T0 + 8 * h.DAY), secret)
    flagged = Dispute.objects.get()
    assert flagged.user == learner and not flagged.handled
    assert mail.outbox[-1].to == ["staff@example.com"] and "Dispute" in mail.outbox[-1].subject


def test_refund_made_in_the_dashboard_is_recorded_once(client, secret, learner):
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + 7 * h.DAY), secret)
    charge = h.charge_refunded("ch_ada_1", amount=4900, refunds=[("re_1", 1000)], payment_intent="pi_1")
    for _ in range(2):
        h.post_event(client, h.event("charge.refunded", charge, created=T0 + 8 * h.DAY), secret)
    assert Invoice.objects.get().amount_refunded == 1000
    assert Refund.objects.get().stripe_refund_id == "re_1"


def test_failed_processing_is_kept_with_its_reason_and_retried(client, secret, learner, monkeypatch):
    from django.db import OperationalError

    def boom(**kwargs):
        raise OperationalError("database hiccup")

    monkeypatch.setattr(services.invoices, "invoice_sync", boom)
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + 7 * h.DAY), secret)
    event = WebhookEvent.objects.get()
    assert event.status == "gave_up" and "database hiccup" in event.outcome and event.attempts == 9
    monkeypatch.undo()
    services.webhook_event_process(event_pk=event.pk)
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_for_a_new_subscription_create_one_row(learner):
    snapshots = [trialing(status="trialing"), trialing(status="active", trial_end=T0 + 7 * h.DAY)]
    errors = []

    def worker(data, at):
        try:
            services.subscription_sync(data=data, stripe_time=at)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(data, T0 + i)) for i, data in enumerate(snapshots * 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Subscription.objects.get().status == "active"  # the newest snapshot, whoever came first
