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
