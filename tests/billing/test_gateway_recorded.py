"""Production code paths that localstripe cannot serve (Checkout, Customer Portal, Prices), tested with
Stripe-shaped recorded responses at the HTTP edge: the SDK builds the real requests, we check them."""

import time

import pytest
from django.core import mail
from django.urls import reverse

from access import api as access
from access.api import AccessState
from billing import gateway, services
from billing.models import Checkout, Customer, Invoice, Plan, Subscription, TrialClaim
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(recorded_plan):
    return recorded_plan


def session_json(checkout_id: int) -> dict:
    return {
        "id": "cs_test_a1b2c3",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "open",
        "client_reference_id": str(checkout_id),
        "customer": "cus_prod_1",
        "subscription": None,
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
    }


def test_checkout_session_asks_for_the_card_up_front_with_a_seven_day_trial(client, stripe_prod, plan):
    learner = UserFactory()
    stripe_prod.responses[("POST", "/v1/customers")] = {"id": "cus_prod_1", "object": "customer"}
    next_id = (Checkout.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    stripe_prod.responses[("POST", "/v1/checkout/sessions")] = session_json(next_id)
    client.force_login(learner)

    response = client.post(reverse("billing:start"), {"trial": "1"})

    assert response.status_code == 302 and response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"
    checkout = Checkout.objects.get()
    customer = stripe_prod.call("POST", "/v1/customers")
    assert customer.headers["Idempotency-Key"] == f"customer-user-{learner.pk}-g0"
    session = stripe_prod.call("POST", "/v1/checkout/sessions")
    assert session.headers["Idempotency-Key"] == f"checkout-{checkout.pk}"
    assert session.params["mode"] == "subscription"
    assert session.params["customer"] == "cus_prod_1"
    assert session.params["line_items[0][price]"] == "price_49"
    assert session.params["payment_method_collection"] == "always"
    assert session.params["subscription_data[trial_period_days]"] == "7"
    assert session.params["subscription_data[trial_settings][end_behavior][missing_payment_method]"] == "cancel"
    assert session.params["client_reference_id"] == str(checkout.pk)
    assert "{CHECKOUT_SESSION_ID}" in session.params["success_url"]
    assert Customer.objects.get(user=learner).stripe_customer_id == "cus_prod_1"


def test_the_local_card_page_does_not_exist_against_real_stripe(client, stripe_prod, plan, settings):
    learner = UserFactory()
    checkout = Checkout.objects.create(user=learner, plan=plan, mode=Checkout.Mode.LOCAL)
    client.force_login(learner)
    assert client.get(reverse("billing:local_checkout", args=[checkout.pk])).status_code == 404
    assert client.get(reverse("billing:local_card")).status_code == 404
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    assert isinstance(gateway.current(), gateway.LocalStripeGateway)
    settings.SETTINGS_MODULE = "config.settings.production"
    assert isinstance(gateway.current(), gateway.StripeGateway)


def test_update_card_opens_the_customer_portal(client, stripe_prod):
    learner = UserFactory()
    customer = Customer.objects.create(user=learner, stripe_customer_id="cus_prod_9")
    stripe_prod.responses[("POST", "/v1/billing_portal/sessions")] = {
        "id": "bps_1",
        "object": "billing_portal.session",
        "url": "https://billing.stripe.com/p/session/test_abc",
    }
    client.force_login(learner)
    response = client.post(reverse("billing:card"))
    assert response["Location"] == "https://billing.stripe.com/p/session/test_abc"
    call = stripe_prod.call("POST", "/v1/billing_portal/sessions")
    assert call.params["customer"] == "cus_prod_9" and call.params["return_url"].endswith("/billing/")
    assert call.headers["Idempotency-Key"].startswith(f"portal-{customer.pk}-")


def completed_event(checkout: Checkout, sub_id: str) -> dict:
    session = session_json(checkout.pk) | {"status": "complete", "subscription": sub_id, "payment_status": "paid"}
    return h.event("checkout.session.completed", session, created=int(time.time()))


def trialing_subscription(sub_id: str, pm: str) -> dict:
    now = int(time.time())
    data = h.subscription(
        sub_id,
        "cus_prod_1",
        status="trialing",
        created=now,
        period_start=now,
        period_end=now + 7 * h.DAY,
        trial_start=now,
        trial_end=now + 7 * h.DAY,
        price="price_49",
    )
    data["default_payment_method"] = pm
    return data


def test_checkout_completed_starts_the_trial_and_claims_the_card(client, stripe_prod, plan):
    learner = UserFactory()
    checkout = Checkout.objects.create(user=learner, plan=plan, mode=Checkout.Mode.STRIPE, stripe_session_id="cs_1")
    stripe_prod.responses[("GET", "/v1/subscriptions/sub_prod_1")] = trialing_subscription("sub_prod_1", "pm_1")
    stripe_prod.responses[("GET", "/v1/payment_methods/pm_1")] = {
        "id": "pm_1",
        "object": "payment_method",
        "type": "card",
        "card": {"fingerprint": "fp_AAA", "last4": "4242"},
    }

    assert h.post_event(client, completed_event(checkout, "sub_prod_1"), "whsec_recorded").status_code == 200

    subscription = Subscription.objects.get()
    assert subscription.user == learner and subscription.plan == plan and subscription.amount_cents == 4900
    assert access.access_state(learner) is AccessState.TRIALING
    assert TrialClaim.objects.get(user=learner).card_fingerprint == "fp_AAA"
    checkout.refresh_from_db()
    assert checkout.status == "complete"
    assert "Your free trial has started" in mail.outbox[0].subject
    # The page the learner returns to shows the trial's end and the first charge.
    client.force_login(learner)
    page = client.get(reverse("billing:welcome") + "?session_id=cs_1").content.decode()
    assert "Your free trial has started" in page and "$49.00" in page
    assert f"{subscription.trial_end:%-d %B %Y}" in page


def test_a_card_that_already_had_a_trial_ends_the_new_trial(client, stripe_prod, plan):
    TrialClaim.objects.create(user=UserFactory(), card_fingerprint="fp_AAA")
    learner = UserFactory()
    checkout = Checkout.objects.create(user=learner, plan=plan, mode=Checkout.Mode.STRIPE)
    stripe_prod.responses[("GET", "/v1/subscriptions/sub_prod_2")] = trialing_subscription("sub_prod_2", "pm_2")
    stripe_prod.responses[("GET", "/v1/payment_methods/pm_2")] = {"id": "pm_2", "card": {"fingerprint": "fp_AAA"}}
    ended = trialing_subscription("sub_prod_2", "pm_2") | {"status": "active", "trial_end": int(time.time())}
    stripe_prod.responses[("POST", "/v1/subscriptions/sub_prod_2")] = ended

    h.post_event(client, completed_event(checkout, "sub_prod_2"), "whsec_recorded")

    assert stripe_prod.call("POST", "/v1/subscriptions/sub_prod_2").params == {"trial_end": "now"}
    assert access.access_state(learner) is AccessState.ACTIVE
    assert TrialClaim.objects.get(user=learner).card_fingerprint is None


def test_refund_by_payment_intent_carries_an_idempotency_key(stripe_prod, django_capture_on_commit_callbacks):
    learner = UserFactory()
    invoice = Invoice.objects.create(
        stripe_invoice_id="in_p1", user=learner, status="paid", amount_paid=4900, stripe_payment_intent_id="pi_p1"
    )
    stripe_prod.responses[("POST", "/v1/refunds")] = {"id": "re_p1", "object": "refund", "status": "succeeded"}
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail leaves the outbox after the commit
        refund = services.refund_create(invoice=invoice, amount_cents=1500, reason="Course video was broken")
    call = stripe_prod.call("POST", "/v1/refunds")
    assert call.headers["Idempotency-Key"] == f"refund-{refund.pk}"
    assert call.params["payment_intent"] == "pi_p1" and call.params["amount"] == "1500"
    invoice.refresh_from_db()
    assert invoice.amount_refunded == 1500 and refund.stripe_refund_id == "re_p1"
    assert "Course video was broken" in mail.outbox[-1].body and "$15.00" in mail.outbox[-1].body


def test_plan_uses_the_prices_api_in_production(stripe_prod):
    plan = Plan.objects.create(amount_cents=4900)
    stripe_prod.responses[("POST", "/v1/products")] = {"id": "prod_new", "object": "product"}
    stripe_prod.responses[("POST", "/v1/prices")] = {"id": "price_new", "object": "price"}
    services.plan_sync(plan=plan)
    call = stripe_prod.call("POST", "/v1/prices")
    assert call.params == {
        "product": "prod_new",
        "unit_amount": "4900",
        "currency": "usd",
        "recurring[interval]": "month",
    }
    assert call.headers["Idempotency-Key"] == f"plan-{plan.pk}-price-v1"
    assert plan.stripe_price_id == "price_new"
