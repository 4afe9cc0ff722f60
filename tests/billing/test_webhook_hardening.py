"""Hostile and unusual webhook streams: malformed bodies, lost task messages, several subscriptions per
learner, deleted customers, refunds and disputes seen before their invoice, thin objects."""

import datetime
import json
import time

import pytest
from django.core import mail

from access import api as access
from access.api import AccessState
from billing import gateway
from billing.models import Customer, Dispute, Invoice, Subscription, WebhookEvent
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/billing/stripe/webhook/"
T0 = int(time.time()) - 10 * h.DAY


@pytest.fixture
def learner(db):
    user = UserFactory(email="grace@example.com")
    Customer.objects.create(user=user, stripe_customer_id="cus_grace")
    return user


def post_raw(client, body: bytes, secret: str):
    return client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=h.signature(body, secret))


def sub(sub_id="sub_grace", **overrides):
    values = {"status": "active", "created": T0, "period_start": T0, "period_end": T0 + 30 * h.DAY}
    values.update(overrides)
    return h.subscription(sub_id, "cus_grace", **values)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"evt_1"',
        b"null",
        b"42",
        json.dumps({"id": "evt_1", "type": "customer.subscription.updated", "created": T0}).encode(),
        json.dumps({"id": "evt_1", "type": "invoice.paid", "created": T0, "data": {}}).encode(),
        json.dumps({"id": "evt_1", "type": "invoice.paid", "created": T0, "data": []}).encode(),
        json.dumps({"id": "evt_1", "type": "invoice.paid", "created": "yesterday", "data": {"object": {}}}).encode(),
        json.dumps({"id": 7, "type": "invoice.paid", "created": T0, "data": {"object": {"id": "in_1"}}}).encode(),
        json.dumps({"id": "evt_1", "type": ["x"], "created": T0, "data": {"object": {"id": "in_1"}}}).encode(),
        json.dumps({"id": "evt_" + "x" * 200, "type": "invoice.paid", "created": T0, "data": {"object": {}}}).encode(),
        json.dumps({"id": "evt_1", "type": "invoice.paid", "created": T0, "data": {"object": {"amount": 1}}}).encode(),
        b"\xff\xfe not utf-8",
        b"{not json",
    ],
    # Stable ids: T0 comes from the clock, and pytest-xdist refuses workers whose collected ids differ.
    ids=[
        "array",
        "string",
        "null",
        "number",
        "no-data",
        "empty-data",
        "data-not-object",
        "created-not-int",
        "id-not-string",
        "type-not-string",
        "id-too-long",
        "object-without-id",
        "not-utf8",
        "not-json",
    ],
)
def test_a_signed_body_that_is_not_an_event_is_a_400_and_stores_nothing(client, secret, body):
    assert post_raw(client, body, secret).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_garbled_signature_header_is_a_400(client, secret):
    body = json.dumps(h.event("invoice.paid", {"id": "in_1"}, created=T0)).encode()
    for header in ("t=abc,v1=zz", "v1=", "garbage", "t=,v1=", "t=1"):
        response = client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
        assert response.status_code == 400, header
    assert not WebhookEvent.objects.exists()


def test_a_huge_body_is_refused_without_a_server_error(client, secret):
    payload = h.event("customer.tax_id.created", {"id": "txi_1", "blob": "x" * 3_000_000}, created=T0)
    assert post_raw(client, json.dumps(payload).encode(), secret).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_unknown_event_with_any_object_shape_is_accepted_and_ignored(client, secret):
    balance = {"object": "balance", "available": [{"amount": 0, "currency": "usd"}]}  # Stripe's balance has no id
    assert h.post_event(client, h.event("balance.available", balance, created=T0), secret).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "ignored" and event.attempts == 1


def test_a_redelivered_event_whose_task_was_never_run_is_queued_again(client, secret, learner, monkeypatch):
    """The broker was down when the first delivery was stored: the task message was lost. Stripe's retry
    must get the event processed, not answered 'already have it' forever."""
    from billing import tasks

    payload = h.event("customer.subscription.created", sub(), created=T0)
    monkeypatch.setattr(tasks.process_webhook_event, "delay", lambda pk: None)  # the message is lost
    assert h.post_event(client, payload, secret).status_code == 200
    assert WebhookEvent.objects.get().status == "received"
    monkeypatch.undo()
    assert h.post_event(client, payload, secret).status_code == 200
    assert WebhookEvent.objects.get().status == "processed"
    assert Subscription.objects.get().status == "active"


def test_an_older_live_subscription_keeps_access_when_a_newer_one_is_incomplete(client, secret, learner):
    h.post_event(client, h.event("customer.subscription.created", sub("sub_one"), created=T0), secret)
    second = sub("sub_two", status="incomplete", created=T0 + h.DAY)
    h.post_event(client, h.event("customer.subscription.created", second, created=T0 + h.DAY), secret)
    access.forget(learner)
    assert access.access_state(learner) is AccessState.ACTIVE


def test_two_live_subscriptions_the_one_giving_access_decides(client, secret, learner):
    h.post_event(client, h.event("customer.subscription.created", sub("sub_one"), created=T0), secret)
    unpaid = sub("sub_two", status="unpaid", created=T0 + h.DAY)
    h.post_event(client, h.event("customer.subscription.updated", unpaid, created=T0 + 2 * h.DAY), secret)
    access.forget(learner)
    assert access.access_state(learner) is AccessState.ACTIVE
    # The learner's billing page and cancel act on that same subscription.
    from billing import selectors

    assert selectors.subscription_current(user=learner).stripe_subscription_id == "sub_one"


def test_a_deleted_customer_is_forgotten_so_the_learner_can_subscribe_again(client, secret, learner):
    deleted = {"id": "cus_grace", "object": "customer", "deleted": True, "email": "grace@example.com"}
    assert h.post_event(client, h.event("customer.deleted", deleted, created=T0), secret).status_code == 200
    customer = Customer.objects.get(user=learner)
    assert customer.stripe_customer_id is None and customer.generation == 1
    assert WebhookEvent.objects.get().status == "processed"


def test_a_deleted_customer_of_someone_else_changes_nothing(client, secret, learner):
    deleted = {"id": "cus_other", "object": "customer", "deleted": True}
    h.post_event(client, h.event("customer.deleted", deleted, created=T0), secret)
    assert Customer.objects.get(user=learner).stripe_customer_id == "cus_grace"


def paid_invoice(charge="ch_grace_1"):
    return h.invoice(
        "in_grace_1",
        "cus_grace",
        "sub_grace",
        status="paid",
        created=T0 + h.DAY,
        amount=4900,
        charge=charge,
        billing_reason="subscription_cycle",
        period_start=T0,
        period_end=T0 + 30 * h.DAY,
    )


def test_a_refund_reported_without_its_list_before_the_invoice_is_not_lost(client, secret, learner):
    """Since API 2022-11-15 a charge's refunds are not included: only amount_refunded says how much."""
    charge = h.charge_refunded("ch_grace_1", amount=4900, refunds=[("re_1", 1500)], payment_intent="pi_1")
    del charge["refunds"]
    h.post_event(client, h.event("charge.refunded", charge, created=T0 + 2 * h.DAY), secret)
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + h.DAY), secret)
    assert Invoice.objects.get().amount_refunded == 1500


def test_a_dispute_seen_before_its_invoice_is_tied_to_the_learner(client, secret, learner):
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_grace_1", "amount": 4900, "status": "needs_response"}
    h.post_event(client, h.event("charge.dispute.created", dispute, created=T0 + 2 * h.DAY), secret)
    h.post_event(client, h.event("invoice.paid", paid_invoice(), created=T0 + h.DAY), secret)
    assert Dispute.objects.get().user == learner


def test_an_event_naming_its_object_by_id_is_read_from_stripe(client, stripe_local, celery_eager):
    """data.object as a bare id (not a snapshot): the object is read from Stripe as it is now."""
    from tests.billing.test_localstripe import start_trial

    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    # The change we were not told of:
    gateway.current().subscription_cancel_now(subscription_id=sub.stripe_subscription_id)
    payload = h.event("customer.subscription.deleted", sub.stripe_subscription_id, created=int(time.time()) - 60)
    assert h.post_event(client, payload, _secret()).status_code == 200
    event = WebhookEvent.objects.get(stripe_event_id=payload["id"])
    assert event.status == "processed", event.outcome
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.is_final
    access.forget(learner)
    assert access.access_state(learner) is AccessState.EXPIRED
    # An id Stripe does not know is kept with what happened, not retried for ever.
    unknown = h.event("invoice.paid", "in_nobody", created=int(time.time()))
    assert h.post_event(client, unknown, _secret()).status_code == 200
    event = WebhookEvent.objects.get(stripe_event_id=unknown["id"])
    assert event.status == "processed" and "does not know in_nobody" in event.outcome
    assert not Invoice.objects.exists()


def _secret():
    from django.conf import settings

    return settings.STRIPE_WEBHOOK_SECRET


@pytest.mark.parametrize(
    "status,expected",
    [
        ("trialing", AccessState.TRIALING),
        ("active", AccessState.ACTIVE),
        ("past_due", AccessState.PAST_DUE_GRACE),
        ("unpaid", AccessState.EXPIRED),
        ("canceled", AccessState.EXPIRED),
        ("incomplete", AccessState.REGISTERED),
        ("incomplete_expired", AccessState.EXPIRED),
        ("paused", AccessState.EXPIRED),  # the trial ended without a card
    ],
)
def test_every_stripe_status_maps_to_an_access_state(client, secret, learner, status, expected):
    now = int(time.time())
    trial = {"trial_start": now - h.DAY, "trial_end": now + 6 * h.DAY} if status == "trialing" else {}
    snapshot = sub(status=status, created=now - h.DAY, period_start=now - h.DAY, period_end=now + 29 * h.DAY, **trial)
    h.post_event(client, h.event("customer.subscription.updated", snapshot, created=now), secret)
    access.forget(learner)
    assert access.access_state(learner) is expected


def test_a_nul_character_in_a_signed_event_is_dropped_not_a_server_error(client, secret, learner):
    payload = h.event("customer.subscription.created", sub(), created=T0)
    payload["data"]["object"]["metadata"] = {"note": "a\u0000b"}
    assert h.post_event(client, payload, secret).status_code == 200
    assert WebhookEvent.objects.get().payload["data"]["object"]["metadata"]["note"] == "ab"
    assert Subscription.objects.get().status == "active"


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"id": "evt_1", "created": 1e999}'])
def test_pathological_json_is_a_400(client, secret, body):
    assert post_raw(client, body, secret).status_code == 400


def test_an_ended_subscription_is_never_reopened_by_a_later_stamped_live_snapshot(client, secret, learner):
    ended = sub(status="canceled", canceled_at=T0 + h.DAY, ended_at=T0 + h.DAY)
    h.post_event(client, h.event("customer.subscription.deleted", ended, created=T0 + h.DAY), secret)
    late = sub(status="trialing", trial_start=T0, trial_end=int(time.time()) + 3 * h.DAY)
    h.post_event(client, h.event("customer.subscription.trial_will_end", late, created=T0 + 2 * h.DAY), secret)
    stored = Subscription.objects.get()
    assert stored.status == "canceled" and stored.is_final
    access.forget(learner)
    assert access.access_state(learner) is AccessState.EXPIRED
    assert "ends in 3 days" not in " ".join(m.subject for m in mail.outbox)


def test_a_duplicate_id_with_another_payload_keeps_the_first(client, secret, learner):
    first = h.event("customer.subscription.updated", sub(), created=T0, event_id="evt_same")
    forged = h.event(
        "customer.subscription.updated", sub(status="canceled", ended_at=T0), created=T0, event_id="evt_same"
    )
    h.post_event(client, first, secret)
    assert h.post_event(client, forged, secret).status_code == 200
    assert WebhookEvent.objects.get().payload["data"]["object"]["status"] == "active"
    assert Subscription.objects.get().status == "active"


def test_cancel_then_resume_through_events(client, secret, learner):
    now = int(time.time())
    live = {"created": now - 5 * h.DAY, "period_start": now - 5 * h.DAY, "period_end": now + 25 * h.DAY}
    leaving = sub(cancel_at_period_end=True, **live)
    h.post_event(client, h.event("customer.subscription.updated", sub(**live), created=now - 3), secret)
    h.post_event(client, h.event("customer.subscription.updated", sub(**live), created=now - 1), secret)  # resumed
    h.post_event(client, h.event("customer.subscription.updated", leaving, created=now - 2), secret)  # late copy
    assert not Subscription.objects.get().cancel_at_period_end


def test_a_dashboard_subscription_is_linked_only_through_our_metadata(client, secret):
    owner = UserFactory()
    stranger = h.subscription("sub_dash", "cus_dash", status="active", created=T0, period_start=T0, period_end=T0)
    h.post_event(client, h.event("customer.subscription.created", stranger, created=T0), secret)
    assert not Subscription.objects.exists()
    kept = WebhookEvent.objects.get()
    assert kept.status == "unmatched" and "a customer we do not know (cus_dash)" in kept.outcome
    tagged = h.subscription(
        "sub_dash2",
        "cus_dash2",
        status="active",
        created=T0,
        period_start=T0,
        period_end=T0 + 40 * h.DAY,
        user_id=owner.pk,
    )
    h.post_event(client, h.event("customer.subscription.created", tagged, created=T0 + 1), secret)
    assert Subscription.objects.get().user == owner
    assert Customer.objects.get(user=owner).stripe_customer_id == "cus_dash2"


def test_resubscribing_after_the_end_opens_access_again(client, secret, learner):
    now = int(time.time())
    old = sub("sub_old", status="canceled", canceled_at=now - 9 * h.DAY, ended_at=now - 9 * h.DAY)
    h.post_event(client, h.event("customer.subscription.deleted", old, created=now - 9 * h.DAY), secret)
    new = sub("sub_new", created=now - h.DAY, period_start=now - h.DAY, period_end=now + 29 * h.DAY)
    h.post_event(client, h.event("customer.subscription.created", new, created=now - h.DAY), secret)
    # The old one's late copies change nothing.
    h.post_event(client, h.event("customer.subscription.updated", old, created=now - 9 * h.DAY), secret)
    access.forget(learner)
    assert access.access_state(learner) is AccessState.ACTIVE


def test_the_nightly_run_requeues_events_whose_task_never_ran(client, secret, learner, monkeypatch):
    from django.test import TestCase
    from django.utils import timezone

    from billing import services, tasks

    payload = h.event("customer.subscription.created", sub(), created=T0)
    monkeypatch.setattr(tasks.process_webhook_event, "delay", lambda pk: None)  # the message is lost, 200 sent
    h.post_event(client, payload, secret)
    monkeypatch.undo()
    WebhookEvent.objects.update(received_at=timezone.now() - datetime.timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = services.billing_reconcile()
    assert "1 unprocessed webhook event(s) queued again" in run.report
    assert WebhookEvent.objects.get().status == "processed"
    assert Subscription.objects.get(user=learner).status == "active"
