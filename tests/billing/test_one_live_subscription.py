"""One live subscription per learner: two tabs, a double-submitted card page or two Checkout sessions
never leave a learner paying twice, and cancel ends everything that would charge them again."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from access import api as access
from access.api import AccessState
from billing import gateway
from billing.models import Checkout, Customer, Refund, Subscription, TrialClaim
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VISA = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _in_parallel(*calls):
    """Run the calls at the same instant, each in its own thread with its own database connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _remote_subscriptions(learner):
    customer_id = Customer.objects.get(user=learner).stripe_customer_id
    subs = gateway.client().v1.subscriptions.list(params={"customer": customer_id, "status": "all"}).data
    invoices = gateway.client().v1.invoices.list(params={"customer": customer_id}).data
    return [s for s in subs if s.status != "canceled"], [i for i in invoices if i.amount_paid]


def _signed_in_client(learner) -> Client:
    client = Client()
    client.force_login(learner)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_tabs_submitting_the_card_page_at_once_make_one_subscription_and_one_charge(stripe_local):
    learner = UserFactory()
    TrialClaim.objects.create(user=learner)  # no trial: the first charge is at once
    tabs = [_signed_in_client(learner), _signed_in_client(learner)]
    pages = [tab.post(reverse("billing:start"), {"trial": "0"})["Location"] for tab in tabs]
    assert pages[0] != pages[1]  # two Checkouts, one per tab

    submits = [lambda tab=tab, page=page: tab.post(page, VISA) for tab, page in zip(tabs, pages, strict=True)]
    responses = _in_parallel(*submits)

    # One tab lands on the welcome page; the other is sent to the billing page, and told why.
    assert sorted(r["Location"] for r in responses) == [reverse("billing:overview"), reverse("billing:welcome")]
    refused = next(tab for tab, r in zip(tabs, responses, strict=True) if r["Location"] == reverse("billing:overview"))
    assert "You already have an active subscription." in refused.get(reverse("billing:overview")).content.decode()
    live, charged = _remote_subscriptions(learner)
    assert len(live) == 1 and len(charged) == 1
    assert Subscription.objects.filter(user=learner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_card_page_submitted_twice_at_once_makes_one_subscription(stripe_local):
    learner = UserFactory()
    TrialClaim.objects.create(user=learner)
    tab = _signed_in_client(learner)
    page = tab.post(reverse("billing:start"), {"trial": "0"})["Location"]
    other = _signed_in_client(learner)

    responses = _in_parallel(lambda: tab.post(page, VISA), lambda: other.post(page, VISA))

    # The second click waits for the first and lands on the same welcome page.
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {reverse("billing:welcome")}
    live, charged = _remote_subscriptions(learner)
    assert len(live) == 1 and len(charged) == 1


# ---- the production path: two Stripe Checkout sessions completed one after the other ----------


def _subscription(sub_id, *, created, latest_invoice=None):
    now = int(time.time())
    data = h.subscription(
        sub_id, "cus_prod_1", status="active", created=created, period_start=created, period_end=now + 30 * h.DAY
    )
    data["latest_invoice"] = latest_invoice
    return data


def _completed(checkout: Checkout, sub_id: str) -> dict:
    session = {
        "id": f"cs_test_{checkout.pk}",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(checkout.pk),
        "customer": "cus_prod_1",
        "subscription": sub_id,
    }
    return h.event("checkout.session.completed", session, created=int(time.time()))


def test_a_second_completed_checkout_is_canceled_and_refunded_and_the_learner_told(client, stripe_prod, recorded_plan):
    learner = UserFactory()
    Customer.objects.create(user=learner, stripe_customer_id="cus_prod_1")
    first, second = (
        Checkout.objects.create(user=learner, plan=recorded_plan, mode="stripe", with_trial=False) for _ in range(2)
    )
    now = int(time.time())
    extra = _subscription("sub_prod_B", created=now - 5, latest_invoice="in_prod_B")
    stripe_prod.responses |= {
        ("GET", "/v1/subscriptions/sub_prod_A"): _subscription("sub_prod_A", created=now - 60),
        ("GET", "/v1/subscriptions/sub_prod_B"): extra,
        ("DELETE", "/v1/subscriptions/sub_prod_B"): extra | {"status": "canceled", "canceled_at": now, "ended_at": now},
        ("GET", "/v1/invoices/in_prod_B"): h.invoice(
            "in_prod_B",
            "cus_prod_1",
            "sub_prod_B",
            status="paid",
            created=now - 5,
            amount=4900,
            charge="ch_prod_B",
            billing_reason="subscription_create",
            period_start=now - 5,
            period_end=now + 30 * h.DAY,
        ),
        ("POST", "/v1/refunds"): {"id": "re_prod_B", "object": "refund", "status": "succeeded", "amount": 4900},
    }

    assert h.post_event(client, _completed(first, "sub_prod_A"), "whsec_recorded").status_code == 200
    assert h.post_event(client, _completed(second, "sub_prod_B"), "whsec_recorded").status_code == 200

    kept, extra_row = (
        Subscription.objects.get(stripe_subscription_id="sub_prod_A"),
        Subscription.objects.get(stripe_subscription_id="sub_prod_B"),
    )
    assert not kept.is_final and extra_row.is_final
    calls = [(c.method, c.path) for c in stripe_prod.calls]
    assert calls.index(("DELETE", "/v1/subscriptions/sub_prod_B")) < calls.index(("POST", "/v1/refunds"))
    refund = Refund.objects.get()
    assert refund.automatic and refund.amount_cents == 4900 and refund.invoice.stripe_invoice_id == "in_prod_B"
    assert stripe_prod.call("POST", "/v1/refunds").params["charge"] == "ch_prod_B"
    second.refresh_from_db()
    assert second.status == Checkout.Status.REFUSED and "already" in second.message
    told = [m for m in mail.outbox if m.to == [learner.email] and "second subscription" in m.subject]
    assert len(told) == 1 and "$49.00" in told[0].body
    access.forget(learner)
    assert access.access_state(learner) is AccessState.ACTIVE


# ---- cancel ends every live subscription ----------------------------------------------------


def _two_live_subscriptions(client, learner):
    """A learner left with two live subscriptions (what the race used to produce)."""
    from billing import services

    TrialClaim.objects.create(user=learner)
    client.force_login(learner)
    client.post(client.post(reverse("billing:start"), {"trial": "0"})["Location"], VISA)
    older = Subscription.objects.get(user=learner)
    customer_id = Customer.objects.get(user=learner).stripe_customer_id
    data = gateway.current().subscription_create(
        key="the-second-tab",
        customer_id=customer_id,
        price_id=older.plan.stripe_price_id,
        trial_end=None,
        metadata={"user_id": str(learner.pk)},
    )
    newer = services.subscription_sync(data=data, stripe_time=int(time.time()) + 1, user=learner)
    return older, newer


def test_cancel_ends_every_live_subscription_of_the_learner(client, stripe_local):
    learner = UserFactory()
    older, newer = _two_live_subscriptions(client, learner)
    confirm = client.get(reverse("billing:cancel")).content.decode()
    assert "You hold 2 subscriptions (a second sign-up went through): canceling stops every one of them." in confirm

    page = client.post(reverse("billing:cancel"), follow=True).content.decode()

    assert "completed courses stay open" in page
    for sub in (older, newer):
        remote = gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id)
        assert remote.cancel_at_period_end is True, sub.stripe_subscription_id
        sub.refresh_from_db()
        assert sub.cancel_at_period_end
    assert "There is no subscription to cancel." in client.get(reverse("billing:cancel"), follow=True).content.decode()


def test_the_cancel_page_offers_to_cancel_while_any_subscription_still_renews(client, stripe_local):
    learner = UserFactory()
    _older, newer = _two_live_subscriptions(client, learner)
    gateway.current().subscription_set_cancel_at_period_end(subscription_id=newer.stripe_subscription_id, cancel=True)
    Subscription.objects.filter(pk=newer.pk).update(cancel_at_period_end=True)

    confirm = client.get(reverse("billing:cancel"), follow=True).content.decode()

    assert "Yes, cancel my subscription" in confirm and "There is no subscription to cancel." not in confirm


def test_finishing_the_specialization_stops_every_subscription_that_would_renew(
    client, stripe_local, django_capture_on_commit_callbacks
):
    from billing import services

    learner = UserFactory()
    older, newer = _two_live_subscriptions(client, learner)

    with django_capture_on_commit_callbacks(execute=True):  # e-mails leave the outbox after the commit
        services.subscription_end_for_completion(user=learner)

    for sub in (older, newer):
        sub.refresh_from_db()
        assert sub.cancel_at_period_end and sub.ends_for_completion
        assert gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is True
    assert sum("You finished the specialization" in m.subject for m in mail.outbox) == 1
