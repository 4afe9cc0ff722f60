"""Staff read a subscription in the admin as the learner experiences it, not only as Stripe labels it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_running_trial_reported_as_incomplete_shows_as_free_trial(client):
    # localstripe (and Stripe, for a moment after checkout) reports a trialing subscription as incomplete.
    sub = SubscriptionFactory(status="incomplete", trial_end=timezone.now() + datetime.timedelta(days=7))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:billing_subscription_changelist")).content.decode()
    detail = client.get(reverse("admin:billing_subscription_change", args=[sub.pk])).content.decode()

    assert "Free trial" in listing and "incomplete" in listing
    assert "Access (what the learner gets now)" in detail and "Free trial" in detail


def test_a_never_paid_subscription_without_a_trial_shows_no_access(client):
    sub = SubscriptionFactory(status="incomplete", trial_end=None)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    detail = client.get(reverse("admin:billing_subscription_change", args=[sub.pk])).content.decode()

    assert "No subscription" in detail


# ---- nothing billing keeps can be deleted from the admin (Stripe would keep charging) -------------


def _billing_admins():
    from django.contrib import admin

    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label == "billing"
        ),
        key=lambda pair: pair[0]._meta.model_name,
    )


def _a_row_of(model):
    from billing.models import (
        AccessGrant,
        Checkout,
        Customer,
        Dispute,
        FinancialAidApplication,
        Invoice,
        ReconciliationRun,
        Refund,
        StaffAction,
        TrialClaim,
        WebhookEvent,
    )

    sub = SubscriptionFactory()
    invoice = Invoice.objects.create(stripe_invoice_id="in_del", user=sub.user, status="paid", amount_paid=4900)
    rows = {
        "plan": lambda: sub.plan,
        "subscription": lambda: sub,
        "customer": lambda: Customer.objects.create(user=sub.user, stripe_customer_id="cus_del"),
        "trialclaim": lambda: TrialClaim.objects.create(user=sub.user, card_fingerprint="fp_del"),
        "checkout": lambda: Checkout.objects.create(user=sub.user, plan=sub.plan, mode="stripe"),
        "invoice": lambda: invoice,
        "refund": lambda: Refund.objects.create(invoice=invoice, amount_cents=100, reason="x"),
        "dispute": lambda: Dispute.objects.create(stripe_dispute_id="dp_del"),
        "webhookevent": lambda: WebhookEvent.objects.create(stripe_event_id="evt_del", type="x", payload={}),
        "reconciliationrun": lambda: ReconciliationRun.objects.create(),
        "accessgrant": lambda: AccessGrant.objects.create(
            user=sub.user, whole_specialization=True, until=timezone.localdate(), reason="x"
        ),
        "financialaidapplication": lambda: FinancialAidApplication.objects.create(
            user=sub.user, circumstances="x", goals="y"
        ),
        "staffaction": lambda: StaffAction.objects.create(subscription=sub, staff=sub.user, kind="end_now", reason="x"),
    }
    return rows[model._meta.model_name]()


@pytest.mark.parametrize(
    "model_name",
    [
        "plan",
        "subscription",
        "customer",
        "trialclaim",
        "checkout",
        "invoice",
        "refund",
        "dispute",
        "webhookevent",
        "reconciliationrun",
        "staffaction",
        "accessgrant",
        "financialaidapplication",
    ],
)
def test_no_billing_row_can_be_deleted_from_the_admin(client, model_name):
    model = next(m for m, _ in _billing_admins() if m._meta.model_name == model_name)
    row = _a_row_of(model)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    changelist = reverse(f"admin:billing_{model_name}_changelist")

    listing = client.get(changelist).content.decode()
    page = client.get(reverse(f"admin:billing_{model_name}_change", args=[row.pk])).content.decode()
    delete_page = client.get(reverse(f"admin:billing_{model_name}_delete", args=[row.pk]))
    bulk = client.post(changelist, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})

    assert 'value="delete_selected"' not in listing
    assert reverse(f"admin:billing_{model_name}_delete", args=[row.pk]) not in page
    assert delete_page.status_code == 403
    assert bulk.status_code in (200, 302)
    assert model.objects.filter(pk=row.pk).exists()


def test_every_billing_model_in_the_admin_is_covered_by_the_deletion_test():
    assert {m._meta.model_name for m, _ in _billing_admins()} == {
        "plan",
        "subscription",
        "customer",
        "trialclaim",
        "checkout",
        "invoice",
        "refund",
        "dispute",
        "webhookevent",
        "reconciliationrun",
        "staffaction",
        "accessgrant",
        "financialaidapplication",
    }
