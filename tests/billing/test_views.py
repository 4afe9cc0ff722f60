"""The billing page in each state, and what a learner can do from it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, TrialClaim
from tests.factories import PlanFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("billing:overview"))
    assert response.status_code == 200
    return response.content.decode()


def test_billing_needs_an_account(client):
    assert client.get(reverse("billing:overview")).status_code == 302


def test_a_new_learner_is_offered_the_trial(client):
    PlanFactory()
    html = page(client, UserFactory())
    assert "Start your 7-day free trial" in html and "$49.00" in html and "No subscription" in html


def test_a_learner_who_had_a_trial_is_offered_to_resubscribe(client):
    sub = SubscriptionFactory(status="canceled", ended_at=NOW - datetime.timedelta(days=3))
    TrialClaim.objects.create(user=sub.user)
    html = page(client, sub.user)
    assert "Resubscribe" in html and "free trial" not in html.split("billing-actions")[1].split("</div>")[0]
    assert "The courses you completed stay open to you, forever." in html


def test_trialing_shows_the_countdown_and_first_charge(client):
    sub = SubscriptionFactory(status="trialing", trial_end=NOW + datetime.timedelta(days=5, hours=1))
    html = page(client, sub.user)
    assert "<strong>6</strong> days left in your free trial" in html  # 5 days and 1 hour, rounded up
    assert f"{sub.trial_end:%-d %B %Y}" in html and "$49.00" in html
    assert "Cancel subscription" in html and "Update card" in html


def test_active_shows_next_charge_and_invoices_with_links(client):
    sub = SubscriptionFactory()
    Invoice.objects.create(
        stripe_invoice_id="in_1",
        user=sub.user,
        status="paid",
        amount_paid=4900,
        amount_refunded=1000,
        hosted_invoice_url="https://invoice.stripe.com/i/in_1",
        invoice_pdf="https://pay.stripe.com/in_1.pdf",
        number="MOOC-0001",
        stripe_created=NOW,
    )
    Invoice.objects.create(stripe_invoice_id="in_other", user=UserFactory(), status="paid", amount_paid=4900)
    html = page(client, sub.user)
    assert f"Next charge <strong>$49.00</strong> on <strong>{sub.current_period_end:%-d %B %Y}</strong>" in html
    assert "MOOC-0001" in html and "https://invoice.stripe.com/i/in_1" in html and "($10.00 refunded)" in html
    assert "in_other" not in html


def test_past_due_warns_with_the_grace_end(client, settings):
    since = NOW - datetime.timedelta(days=2)
    sub = SubscriptionFactory(status="past_due", past_due_since=since)
    html = page(client, sub.user)
    assert "Payment overdue" in html and f"{since + datetime.timedelta(days=7):%-d %B %Y}" in html


def test_cancel_asks_for_confirmation_with_the_exact_end_date(client):
    end = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
    sub = SubscriptionFactory(current_period_end=end)
    client.force_login(sub.user)
    overview = client.get(reverse("billing:overview")).content.decode()
    assert f'href="{reverse("billing:cancel")}">Cancel subscription</a>' in overview
    html = client.get(reverse("billing:cancel")).content.decode()
    assert (
        "Your subscription ends on <strong data-ends-at>30 November 2026</strong>; completed courses stay open." in html
    )
    assert "Yes, cancel my subscription" in html and "Keep my subscription" in html
    sub.refresh_from_db()
    assert not sub.cancel_at_period_end


def test_cancel_page_without_a_subscription_goes_back_to_billing(client):
    client.force_login(UserFactory())
    response = client.get(reverse("billing:cancel"), follow=True)
    assert response.status_code == 200 and "There is no subscription to cancel." in response.content.decode()


def test_cancel_without_a_subscription_is_a_message_not_an_error(client):
    client.force_login(UserFactory())
    response = client.post(reverse("billing:cancel"), follow=True)
    assert response.status_code == 200 and "You have no subscription to change." in response.content.decode()


def test_subscribing_twice_is_refused_with_a_message(client):
    sub = SubscriptionFactory()
    client.force_login(sub.user)
    response = client.post(reverse("billing:start"), {"trial": "1"}, follow=True)
    assert "You already have an active subscription." in response.content.decode()


@pytest.mark.parametrize(
    "model", ["plan", "subscription", "invoice", "refund", "dispute", "webhookevent", "reconciliationrun", "customer"]
)
def test_every_billing_record_is_visible_to_staff_in_the_admin(client, model):
    from billing.models import ReconciliationRun, WebhookEvent

    WebhookEvent.objects.create(
        stripe_event_id="evt_a", type="invoice.paid", payload={}, status="failed", outcome="RuntimeError: boom"
    )
    ReconciliationRun.objects.create(checked=3, repaired=1, report="sub_1 (a@example.com): status: active → canceled")
    SubscriptionFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse(f"admin:billing_{model}_changelist"))
    assert response.status_code == 200
    if model == "webhookevent":
        assert "RuntimeError: boom" in response.content.decode()
