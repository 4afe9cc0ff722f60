"""Idempotency keys that stay valid on retry, and money that moves only after the change it pays for."""

import datetime
import time

import pytest
import stripe
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from access import api as access
from access.api import AccessState
from billing import gateway, services
from billing.models import Checkout, Customer, Invoice, Refund, Subscription
from tests.billing import helpers as h
from tests.billing.test_localstripe import SpyHTTPClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


class LosingSpy(SpyHTTPClient):
    """Passes every request on to localstripe; while `lose` is set, the answer to a subscription create
    is lost on the way back (Stripe did create it), as on a dropped connection."""

    lose = False

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        response = super().request(method, url, headers, post_data)
        if self.lose and method.upper() == "POST" and url.endswith("/v1/subscriptions"):
            raise stripe.APIConnectionError("Connection reset by peer")
        return response


def test_a_retried_sign_up_sends_the_same_trial_end_under_the_same_key(client, stripe_local, monkeypatch):
    spy = LosingSpy()
    monkeypatch.setattr(gateway, "http_client_override", spy)
    learner = UserFactory()
    client.force_login(learner)
    client.post(reverse("billing:start"), {"trial": "1"})
    checkout = Checkout.objects.get(user=learner)
    first_try = timezone.now()

    spy.lose = True
    with pytest.raises(gateway.GatewayError):
        services.checkout_complete_local(checkout=checkout, now=first_try, **CARD)
    spy.lose = False
    checkout.refresh_from_db()
    services.checkout_complete_local(checkout=checkout, now=first_try + datetime.timedelta(minutes=2), **CARD)

    creates = [c for c in spy.calls if (c.method, c.path) == ("POST", "/v1/subscriptions")]
    assert len(creates) == 2
    assert creates[0].headers["Idempotency-Key"] == creates[1].headers["Idempotency-Key"]
    assert creates[0].params == creates[1].params  # real Stripe refuses a key reused with other parameters
    trial_end = int(creates[0].params["trial_end"])
    assert trial_end == int((first_try + datetime.timedelta(days=7)).timestamp())
    assert Subscription.objects.get(user=learner).trial_end.timestamp() == trial_end


def test_a_learner_whose_customer_was_deleted_gets_a_new_customer_under_a_new_key(client, stripe_local, monkeypatch):
    spy = SpyHTTPClient()
    monkeypatch.setattr(gateway, "http_client_override", spy)
    learner = UserFactory()
    client.force_login(learner)
    client.post(reverse("billing:start"), {"trial": "1"})
    deleted_id = Customer.objects.get(user=learner).stripe_customer_id
    gateway.client().v1.customers.delete(deleted_id)
    gone = {"id": deleted_id, "object": "customer", "deleted": True}
    event = h.event("customer.deleted", gone, created=int(time.time()))
    assert h.post_event(client, event, settings.STRIPE_WEBHOOK_SECRET).status_code == 200

    client.post(reverse("billing:start"), {"trial": "1"})

    keys = [c.headers["Idempotency-Key"] for c in spy.calls if (c.method, c.path) == ("POST", "/v1/customers")]
    assert len(keys) == 2 and keys[0] != keys[1]  # Stripe would answer the old key with the deleted customer
    assert Customer.objects.get(user=learner).stripe_customer_id not in ("", None, deleted_id)


# ---- the automatic refund follows a cancel that happened ------------------------------------


@pytest.fixture
def converted(db):
    """A learner charged $49 five hours ago, when the trial ended: canceling now refunds it."""
    learner = UserFactory()
    Customer.objects.create(user=learner, stripe_customer_id="cus_prod_1")
    now = timezone.now()
    sub = Subscription.objects.create(
        user=learner,
        stripe_subscription_id="sub_prod_R",
        stripe_customer_id="cus_prod_1",
        status="active",
        amount_cents=4900,
        trial_end=now - datetime.timedelta(hours=5),
        current_period_start=now - datetime.timedelta(hours=5),
        current_period_end=now + datetime.timedelta(days=30),
    )
    Invoice.objects.create(
        stripe_invoice_id="in_prod_R",
        user=learner,
        stripe_customer_id="cus_prod_1",
        stripe_subscription_id="sub_prod_R",
        status="paid",
        amount_paid=4900,
        stripe_charge_id="ch_prod_R",
        paid_at=now - datetime.timedelta(hours=5),
    )
    return sub


def _canceled_now(sub: Subscription) -> dict:
    now = int(time.time())
    return h.subscription(
        sub.stripe_subscription_id,
        "cus_prod_1",
        status="canceled",
        created=now - 8 * h.DAY,
        period_start=now - 5 * 3600,
        period_end=now + 30 * h.DAY,
        trial_start=now - 8 * h.DAY,
        trial_end=now - 5 * 3600,
        canceled_at=now,
        ended_at=now,
    )


def test_no_refund_when_the_cancel_fails(client, stripe_prod, converted):
    stripe_prod.responses[("DELETE", "/v1/subscriptions/sub_prod_R")] = h.Failure(500)
    stripe_prod.responses[("POST", "/v1/refunds")] = {"id": "re_1", "object": "refund", "status": "succeeded"}
    client.force_login(converted.user)

    page = client.post(reverse("billing:cancel"), follow=True).content.decode()

    assert "could not complete this just now" in page
    assert ("POST", "/v1/refunds") not in [(c.method, c.path) for c in stripe_prod.calls]
    assert not Refund.objects.exists()
    converted.refresh_from_db()
    assert not converted.is_final
    access.forget(converted.user)
    assert access.access_state(converted.user) is AccessState.ACTIVE


def test_a_refund_that_fails_after_the_cancel_is_retried_until_it_is_made(
    client, stripe_prod, converted, django_capture_on_commit_callbacks
):
    stripe_prod.responses[("DELETE", "/v1/subscriptions/sub_prod_R")] = _canceled_now(converted)
    stripe_prod.responses[("POST", "/v1/refunds")] = h.Failure(500)
    stripe_prod.responses[("GET", "/v1/refunds")] = {"object": "list", "data": [], "has_more": False}
    client.force_login(converted.user)

    page = client.post(reverse("billing:cancel"), follow=True).content.decode()

    assert "Your subscription has ended" in page and "refund" in page
    converted.refresh_from_db()
    assert converted.is_final
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED and refund.automatic
    first_key = stripe_prod.call("POST", "/v1/refunds").headers["Idempotency-Key"]

    stripe_prod.responses[("POST", "/v1/refunds")] = {"id": "re_2", "object": "refund", "status": "succeeded"}
    with django_capture_on_commit_callbacks(execute=True):  # e-mails leave the outbox after the commit
        services.refund_retry(refund=refund)

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.stripe_refund_id == "re_2"
    # Stripe keeps a failed request's answer under its key for 24 hours: the retry needs a new one.
    assert stripe_prod.call("POST", "/v1/refunds").headers["Idempotency-Key"] != first_key
    assert Invoice.objects.get().amount_refunded == 4900
    assert any(m.to == [converted.user.email] and "$49.00" in m.body for m in mail.outbox)
