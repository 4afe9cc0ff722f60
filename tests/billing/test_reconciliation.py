"""The nightly reconciliation repairs everything a lost webhook can leave wrong: subscriptions (also ones
we hold no row for), invoices, refunds and disputes; and it re-tries the events it may, boundedly."""

import datetime
import time

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from access import api as access
from access.api import AccessState
from billing import gateway, services
from billing.models import Customer, Dispute, Invoice, Refund, Subscription, WebhookEvent
from tests.billing import helpers as h
from tests.billing.test_localstripe import start_trial
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VISA = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def reconcile():
    with TestCase.captureOnCommitCallbacks(execute=True):  # the e-mails and tasks it queues
        return services.billing_reconcile()


def test_a_subscription_we_hold_no_row_for_is_found_per_customer(client, stripe_local):
    learner = UserFactory()
    start_trial(client, learner)
    lost = Subscription.objects.get(user=learner)
    stripe_id = lost.stripe_subscription_id
    lost.delete()  # its creation reached Stripe, but no webhook or answer ever reached us

    run = reconcile()

    found = Subscription.objects.get(user=learner)
    assert found.stripe_subscription_id == stripe_id and found.trial_end is not None
    assert f"{stripe_id} ({learner.email}): new" in run.report
    access.forget(learner)
    assert access.access_state(learner) is AccessState.TRIALING


def test_an_invoice_left_draft_and_a_refund_never_heard_of_are_repaired(client, stripe_local):
    learner = UserFactory()
    from billing.models import TrialClaim

    TrialClaim.objects.create(user=learner)
    assert start_trial(client, learner, trial="0").status_code == 302  # charged $49 at once
    customer_id = Customer.objects.get(user=learner).stripe_customer_id
    remote = gateway.client().v1.invoices.list(params={"customer": customer_id}).data[0]
    # We saw invoice.created, then lost invoice.paid; a refund made in the dashboard was lost too.
    Invoice.objects.create(stripe_invoice_id=remote.id, user=learner, stripe_customer_id=customer_id, status="draft")
    gateway.client().v1.refunds.create(params={"charge": remote.charge, "amount": 1000})

    run = reconcile()

    invoice = Invoice.objects.get(stripe_invoice_id=remote.id)
    assert (invoice.status, invoice.amount_paid, invoice.amount_refunded) == ("paid", 4900, 1000)
    refund = Refund.objects.get()
    assert refund.invoice == invoice and refund.amount_cents == 1000 and refund.stripe_refund_id
    assert f"{remote.id} ({learner.email}): status: draft → paid" in run.report
    assert "refunded 0.00 → 10.00" in run.report
    assert any(m.subject == "[Deep Learning] Receipt for your payment" for m in mail.outbox)
    again = reconcile()
    assert again.repaired == 0 and again.report == "No drift."  # its live subscription checked, unchanged


def test_a_dispute_no_webhook_brought_is_flagged_for_staff(client, stripe_prod, settings):
    settings.BILLING_STAFF_EMAILS = ["staff@example.com"]
    learner = UserFactory()
    Customer.objects.create(user=learner, stripe_customer_id="cus_prod_1")
    Invoice.objects.create(
        stripe_invoice_id="in_d", user=learner, status="paid", amount_paid=4900, stripe_charge_id="ch_d"
    )
    empty = {"object": "list", "data": [], "has_more": False}
    dispute = {
        "id": "dp_lost",
        "object": "dispute",
        "charge": "ch_d",
        "amount": 4900,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
        "created": int(time.time()) - h.DAY,
    }
    stripe_prod.responses |= {
        ("GET", "/v1/subscriptions"): empty,
        ("GET", "/v1/invoices"): empty,
        ("GET", "/v1/disputes"): {"object": "list", "data": [dispute], "has_more": False},
    }

    run = reconcile()

    flagged = Dispute.objects.get()
    assert flagged.stripe_dispute_id == "dp_lost" and flagged.user == learner and not flagged.handled
    assert "dp_lost" in run.report
    assert mail.outbox[-1].to == ["staff@example.com"] and "Dispute" in mail.outbox[-1].subject
    assert "created[gte]" in stripe_prod.call("GET", "/v1/disputes").params


# ---- events for a customer we do not know yet ------------------------------------------------


def test_an_event_for_an_unknown_customer_is_kept_for_staff_and_processed_once_the_customer_is_known(client, secret):
    now = int(time.time())
    snapshot = h.subscription(
        "sub_later", "cus_later", status="active", created=now - 60, period_start=now - 60, period_end=now + 30 * h.DAY
    )
    paid = h.invoice(
        "in_later",
        "cus_later",
        "sub_later",
        status="paid",
        created=now - 60,
        amount=4900,
        charge="ch_later",
        billing_reason="subscription_create",
        period_start=now - 60,
        period_end=now + 30 * h.DAY,
    )
    h.post_event(client, h.event("customer.subscription.created", snapshot, created=now - 60), secret)
    h.post_event(client, h.event("invoice.paid", paid, created=now - 59), secret)

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"unmatched"}
    assert not Subscription.objects.exists() and not Invoice.objects.exists()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    listing = client.get("/admin/billing/webhookevent/?status__exact=unmatched").content.decode()
    assert "customer.subscription.created" in listing and "cus_later" in listing

    learner = UserFactory()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.customer_link(user=learner, stripe_customer_id="cus_later")  # e.g. their Checkout completed

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert Subscription.objects.get().user == learner and Invoice.objects.get().user == learner
    assert any(m.to == [learner.email] and "Receipt" in m.subject for m in mail.outbox)


def test_the_nightly_run_retries_unmatched_events_whose_customer_is_now_known(client, secret):
    now = int(time.time())
    snapshot = h.subscription(
        "sub_n", "cus_n", status="active", created=now - 60, period_start=now - 60, period_end=now + 30 * h.DAY
    )
    h.post_event(client, h.event("customer.subscription.created", snapshot, created=now - 60), secret)
    h.post_event(
        client,
        h.event("customer.subscription.created", dict(snapshot, id="sub_x", customer="cus_x"), created=now - 60),
        secret,
    )
    WebhookEvent.objects.update(received_at=timezone.now() - datetime.timedelta(hours=1))
    learner = UserFactory()
    Customer.objects.create(user=learner, stripe_customer_id="cus_n")  # known now, without the live requeue

    run = reconcile()

    assert Subscription.objects.get().user == learner
    assert sorted(WebhookEvent.objects.values_list("status", flat=True)) == ["processed", "unmatched"]
    assert "1 event(s) for customers we do not know are kept for staff" in run.report


# ---- the requeue is bounded --------------------------------------------------------------------


def test_the_nightly_requeue_takes_the_oldest_first_up_to_its_batch_and_leaves_old_events_for_staff(
    secret, settings, celery_eager
):
    settings.BILLING_WEBHOOK_REQUEUE_BATCH = 2
    settings.BILLING_WEBHOOK_REQUEUE_MAX_AGE_DAYS = 7
    now = timezone.now()
    ages = {"evt_1h": datetime.timedelta(hours=1), "evt_2h": datetime.timedelta(hours=2)}
    ages |= {"evt_3h": datetime.timedelta(hours=3), "evt_10d": datetime.timedelta(days=10)}
    for event_id, age in ages.items():
        stored = WebhookEvent.objects.create(
            stripe_event_id=event_id,
            type="customer.tax_id.created",
            stripe_created=int((now - age).timestamp()),
            payload=h.event("customer.tax_id.created", {"id": "txi_1"}, created=1, event_id=event_id),
        )
        WebhookEvent.objects.filter(pk=stored.pk).update(received_at=now - age)

    run = reconcile()

    done = set(WebhookEvent.objects.exclude(status="received").values_list("stripe_event_id", flat=True))
    assert done == {"evt_3h", "evt_2h"}
    assert "2 unprocessed webhook event(s) queued again (oldest first; 1 more next run)" in run.report
    assert "1 unprocessed webhook event(s) older than 7 days left for staff" in run.report
