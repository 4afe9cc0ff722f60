"""Against a real Stripe-compatible server (localstripe on 127.0.0.1): plans, the local card page,
trials, cancel/resume, refunds, reconciliation, the end-on-completion rule, and real webhooks."""

import datetime
import time

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from access import api as access
from access.api import AccessState
from billing import gateway, services
from billing.models import (
    Checkout,
    Customer,
    Invoice,
    ReconciliationRun,
    Refund,
    Subscription,
    TrialClaim,
    WebhookEvent,
)
from courses import services as course_services
from tests.billing import helpers as h
from tests.factories import CourseFactory, SpecializationFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

VISA = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def start_trial(client, learner, card=VISA, trial="1"):
    client.force_login(learner)
    start = client.post(reverse("billing:start"), {"trial": trial})
    assert start.status_code == 302, start
    with TestCase.captureOnCommitCallbacks(execute=True):  # the e-mails sent after commit
        return client.post(start["Location"], card)


def test_plan_sync_creates_a_product_and_monthly_plan(stripe_local):
    stripe = gateway.client()
    plan = stripe.v1.plans.retrieve(stripe_local.stripe_price_id)
    assert (plan.amount, plan.currency, plan.interval) == (4900, "usd", "month")
    assert plan.product == stripe_local.stripe_product_id


def test_local_card_page_starts_a_seven_day_trial_through_the_sdk(client, stripe_local):
    learner = UserFactory()
    response = start_trial(client, learner)
    assert response.status_code == 302 and response["Location"] == reverse("billing:welcome")

    sub = Subscription.objects.get(user=learner)
    remote = gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote.status == "incomplete"  # localstripe never says trialing ...
    assert access.access_state(learner) is AccessState.TRIALING  # ... a future trial_end does
    assert abs(sub.trial_end - (timezone.now() + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)
    customer = gateway.client().v1.customers.retrieve(Customer.objects.get(user=learner).stripe_customer_id)
    assert customer.invoice_settings.default_payment_method
    welcome = client.get(reverse("billing:welcome")).content.decode()
    assert "Your free trial has started" in welcome and "$49.00" in welcome
    assert f"{sub.trial_end:%-d %B %Y}" in welcome
    assert [m.subject for m in mail.outbox] == ["[Deep Learning] Your free trial has started"]


def test_one_trial_per_learner_and_per_card(client, stripe_local):
    learner = UserFactory()
    start_trial(client, learner)
    Subscription.objects.filter(user=learner).update(status="canceled", ended_at=timezone.now())
    client.force_login(learner)
    again = client.post(reverse("billing:start"), {"trial": "1"}, follow=True)
    assert "already used your free trial" in again.content.decode()

    other = UserFactory()
    refused = start_trial(client, other)  # same card number, so the same fingerprint
    assert refused.status_code == 400
    assert "This card has already been used for a free trial" in refused.content.decode()
    assert not Subscription.objects.filter(user=other).exists() and not TrialClaim.objects.filter(user=other).exists()
    assert start_trial(client, other, card=VISA | {"number": "5555 5555 5555 4444"}).status_code == 302


def test_a_retried_sign_up_never_creates_a_second_customer(client, stripe_local):
    learner = UserFactory()
    first = services.customer_ensure(user=learner)
    second = services.customer_ensure(user=learner)
    assert first == second
    emails = [c.email for c in gateway.client().v1.customers.list().data]
    assert emails.count(learner.email) == 1


def test_cancel_at_period_end_then_resume(client, stripe_local):
    learner = UserFactory()
    start_trial(client, learner)
    trial_end = Subscription.objects.get(user=learner).trial_end
    ends = f"{trial_end:%-d %B %Y}"
    confirm = client.get(reverse("billing:cancel")).content.decode()  # asks first, nothing changes yet
    assert f"Your subscription ends on <strong data-ends-at>{ends}</strong>; completed courses stay open." in confirm
    assert not Subscription.objects.get(user=learner).cancel_at_period_end
    page = client.post(reverse("billing:cancel"), follow=True).content.decode()
    sub = Subscription.objects.get(user=learner)
    assert sub.cancel_at_period_end and f"Your subscription ends on {ends}; completed courses stay open." in page
    assert gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is True
    assert "Resume subscription" in page
    client.post(reverse("billing:resume"))
    sub.refresh_from_db()
    assert not sub.cancel_at_period_end
    assert gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is False


def paid_subscription(client, learner):
    """A learner who already had a trial subscribes and is charged at once; the invoice event that
    Stripe would send is built from localstripe's real invoice and delivered to the endpoint."""
    TrialClaim.objects.create(user=learner)
    assert start_trial(client, learner, trial="0").status_code == 302
    sub = Subscription.objects.get(user=learner)
    remote = gateway.client().v1.invoices.list(params={"customer": sub.stripe_customer_id}).data[0]
    data = remote.to_dict()
    data["subscription"] = sub.stripe_subscription_id
    event = h.event("invoice.payment_succeeded", data, created=int(time.time()))
    assert h.post_event(client, event, stripe_local_secret()).status_code == 200
    return sub, Invoice.objects.get(stripe_invoice_id=remote.id)


def stripe_local_secret():
    from django.conf import settings

    return settings.STRIPE_WEBHOOK_SECRET


def test_admin_refunds_part_of_a_payment_with_a_reason(
    client, stripe_local, celery_eager, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    _, invoice = paid_subscription(client, learner)
    assert invoice.status == "paid" and invoice.amount_paid == 4900 and invoice.stripe_charge_id
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:billing_invoice_changelist")
    form = client.post(url, {"action": "refund", "_selected_action": [invoice.pk]})
    assert "Refund" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # as after the admin request's commit
        done = client.post(
            url,
            {"action": "refund", "_selected_action": [invoice.pk], "apply": "1", "amount": "20.00", "reason": "Outage"},
        )
    assert done.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount_cents == 2000 and refund.stripe_refund_id.startswith("re_")
    charge = gateway.client().v1.charges.retrieve(invoice.stripe_charge_id)
    assert charge.amount_refunded == 2000
    invoice.refresh_from_db()
    assert invoice.amount_refunded == 2000
    assert mail.outbox[-1].to == [learner.email] and "Outage" in mail.outbox[-1].body
    too_much = client.post(
        url, {"action": "refund", "_selected_action": [invoice.pk], "apply": "1", "amount": "30.00", "reason": "x"}
    )
    assert "The amount must be between 0.01 and 29.00" in too_much.content.decode()


def test_canceling_soon_after_the_trial_charge_refunds_it_automatically(client, stripe_local, celery_eager):
    learner = UserFactory()
    sub, invoice = paid_subscription(client, learner)
    # Arrange what localstripe cannot produce: this charge was the first one after a trial.
    Subscription.objects.filter(pk=sub.pk).update(trial_end=timezone.now() - datetime.timedelta(hours=5))
    Invoice.objects.filter(pk=invoice.pk).update(paid_at=timezone.now() - datetime.timedelta(hours=5))
    client.force_login(learner)
    confirm = client.get(reverse("billing:cancel")).content.decode()
    assert "it is refunded in full" in confirm and "$49.00" in confirm
    page = client.post(reverse("billing:cancel"), follow=True).content.decode()
    assert "refunded" in page
    refund = Refund.objects.get()
    assert refund.automatic and refund.amount_cents == 4900
    assert gateway.client().v1.charges.retrieve(invoice.stripe_charge_id).amount_refunded == 4900
    assert gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id).status == "canceled"
    access.forget(learner)
    assert access.access_state(learner) is AccessState.EXPIRED


def test_no_automatic_refund_after_the_window(client, stripe_local, celery_eager, settings):
    learner = UserFactory()
    sub, invoice = paid_subscription(client, learner)
    Subscription.objects.filter(pk=sub.pk).update(trial_end=timezone.now() - datetime.timedelta(hours=50))
    Invoice.objects.filter(pk=invoice.pk).update(paid_at=timezone.now() - datetime.timedelta(hours=49))
    client.force_login(learner)
    client.post(reverse("billing:cancel"))
    assert not Refund.objects.exists()
    assert Subscription.objects.get(pk=sub.pk).cancel_at_period_end


def test_nightly_reconciliation_repairs_a_lost_webhook(client, stripe_local):
    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    gateway.client().v1.subscriptions.cancel(sub.stripe_subscription_id)  # its webhook never reaches us
    run = services.billing_reconcile()
    assert (run.checked, run.repaired) == (1, 1)
    assert f"{sub.stripe_subscription_id} ({learner.email}): status: incomplete → canceled" in run.report
    access.forget(learner)
    assert access.access_state(learner) is AccessState.EXPIRED
    again = services.billing_reconcile()
    assert (again.checked, again.repaired) == (0, 0) and ReconciliationRun.objects.count() == 2


def test_finishing_the_specialization_ends_the_subscription_at_period_end(client, stripe_local, settings):
    learner = UserFactory()
    start_trial(client, learner)
    spec = SpecializationFactory(slug="spec-billing")
    courses = [CourseFactory(specialization=spec) for _ in range(2)]
    with TestCase.captureOnCommitCallbacks(execute=True):
        for course in courses:
            course_services.course_completion_record(user=learner, course=course)
    sub = Subscription.objects.get(user=learner)
    assert sub.cancel_at_period_end and sub.ends_for_completion
    assert gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id).cancel_at_period_end is True
    assert mail.outbox[-1].subject == "[Deep Learning] You finished the specialization: no more charges"
    page = client.get(reverse("billing:overview")).content.decode()
    assert "You finished the whole specialization" in page


def test_the_end_on_completion_rule_is_a_setting(client, stripe_local, settings):
    settings.BILLING_END_ON_SPECIALIZATION_COMPLETE = False
    learner = UserFactory()
    start_trial(client, learner)
    course = CourseFactory(specialization=SpecializationFactory(slug="spec-off"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        course_services.course_completion_record(user=learner, course=course)
    assert not Subscription.objects.get(user=learner).cancel_at_period_end


@pytest.mark.django_db(transaction=True)
def test_localstripe_webhooks_reach_the_endpoint_and_drive_the_state(live_server, stripe_local, celery_eager):
    from django.test import Client

    time.sleep(1.5)  # localstripe sends 1 s late: let earlier tests' events drain to the discard URL first
    gateway.current().webhook_register(url=f"{live_server.url}/billing/stripe/webhook/", secret=stripe_local_secret())
    learner = UserFactory()
    TrialClaim.objects.create(user=learner)
    client = Client()
    assert start_trial(client, learner, trial="0").status_code == 302
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not Invoice.objects.filter(status="paid").exists():
        time.sleep(0.2)
    types = set(WebhookEvent.objects.values_list("type", flat=True))
    assert {"customer.subscription.created", "invoice.payment_succeeded"} <= types
    assert not WebhookEvent.objects.filter(status="failed").exists()
    invoice = Invoice.objects.get(
        status="paid", stripe_customer_id=Customer.objects.get(user=learner).stripe_customer_id
    )
    assert invoice.user == learner and invoice.amount_paid == 4900
    assert any(m.subject.endswith("Receipt for your payment") for m in mail.outbox)
    assert Checkout.objects.get(user=learner).status == "complete"
    gateway.current().webhook_register(url="http://127.0.0.1:9/discard", secret=stripe_local_secret())
    time.sleep(1.2)  # no late delivery may reach the live server while the database is flushed


def test_a_new_price_leaves_existing_subscriptions_on_theirs(client, stripe_local):
    first = UserFactory()
    start_trial(client, first)
    old_price = stripe_local.stripe_price_id
    stripe_local.amount_cents = 5900
    stripe_local.save()
    services.plan_sync(plan=stripe_local)
    assert stripe_local.stripe_price_id != old_price and stripe_local.price_version == 2
    assert gateway.client().v1.plans.retrieve(stripe_local.stripe_price_id).amount == 5900

    second = UserFactory()
    start_trial(client, second, card=VISA | {"number": "5555 5555 5555 4444"})
    kept, new = Subscription.objects.get(user=first), Subscription.objects.get(user=second)
    assert (kept.amount_cents, new.amount_cents) == (4900, 5900)
    remote = gateway.client().v1.subscriptions.retrieve(kept.stripe_subscription_id)
    assert remote["items"]["data"][0]["plan"]["amount"] == 4900


class SpyHTTPClient(h.RecordingHTTPClient):
    """Records every request and passes it on to localstripe for real."""

    def __post_init__(self):
        super().__post_init__()
        import stripe

        self.real = stripe.new_default_http_client()

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        super().request(method, url, headers, post_data)
        return self.real.request(method, url, headers, post_data)


def test_every_creating_call_of_the_local_sign_up_carries_a_key_from_our_records(client, stripe_local, monkeypatch):
    spy = SpyHTTPClient()
    monkeypatch.setattr(gateway, "http_client_override", spy)
    learner = UserFactory()
    start_trial(client, learner)
    checkout = Checkout.objects.get(user=learner)
    keys = {c.path: c.headers.get("Idempotency-Key") for c in spy.calls if c.method == "POST"}
    assert keys["/v1/customers"] == f"customer-user-{learner.pk}-g0"
    assert keys["/v1/payment_methods"].startswith(f"checkout-{checkout.pk}-pm-")
    assert keys["/v1/subscriptions"] == f"checkout-{checkout.pk}-subscription"
    assert spy.call("POST", "/v1/subscriptions").params["trial_end"]


def test_update_card_on_the_local_page_sets_the_new_default(client, stripe_local):
    learner = UserFactory()
    start_trial(client, learner)
    customer_id = Customer.objects.get(user=learner).stripe_customer_id
    before = gateway.client().v1.customers.retrieve(customer_id).invoice_settings.default_payment_method
    assert client.post(reverse("billing:card"))["Location"] == reverse("billing:local_card")
    page = client.post(reverse("billing:local_card"), VISA | {"number": "5555 5555 5555 4444"}, follow=True)
    assert "Card ending 4444 saved" in page.content.decode()
    after = gateway.client().v1.customers.retrieve(customer_id).invoice_settings.default_payment_method
    assert after and after != before
