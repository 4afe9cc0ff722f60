"""What the billing app tells other pages: the subscribe offer, trial eligibility, and days left."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from access import api as access
from billing import selectors
from billing.models import TrialClaim
from tests.factories import PlanFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def offer_for(user):
    """The offer as the course pages ask for it: billing's offer, given the access policy's answer."""
    return selectors.subscribe_offer(user=user, has_full_access=access.has_full_access(user))


T0 = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (7 * DAY, 7),
        (7 * DAY - datetime.timedelta(seconds=1), 7),  # right after starting a 7-day trial
        (6 * DAY + datetime.timedelta(seconds=1), 7),
        (6 * DAY, 6),
        (datetime.timedelta(hours=12), 1),  # the last hours count as a day
        (datetime.timedelta(seconds=1), 1),
        (datetime.timedelta(0), 0),
        (-DAY, 0),
    ],
)
def test_days_left_rounds_up(remaining, expected):
    assert selectors.days_left(until=T0 + remaining, now=T0) == expected


def test_trial_started_a_moment_ago_has_all_seven_days_left():
    PlanFactory()
    started = T0
    sub = SubscriptionFactory(status="trialing", trial_start=started, trial_end=started + 7 * DAY)
    overview = selectors.billing_overview(user=sub.user, now=started + datetime.timedelta(seconds=5))
    assert overview.trial_days_left == 7
    overview = selectors.billing_overview(user=sub.user, now=started + 6 * DAY + datetime.timedelta(hours=23))
    assert overview.trial_days_left == 1


def test_billing_page_right_after_starting_a_trial_says_seven_days(client):
    from django.utils import timezone

    sub = SubscriptionFactory(status="trialing", trial_end=timezone.now() + 7 * DAY)
    client.force_login(sub.user)
    html = client.get(reverse("billing:overview")).content.decode()
    assert "<strong>7</strong> days left in your free trial" in html


def test_a_visitor_is_offered_the_trial_at_the_active_plans_price():
    PlanFactory(amount_cents=3900, trial_days=14)
    offer = offer_for(AnonymousUser())
    assert offer.signed_in is False and offer.trial_available is True and offer.trial_days == 14
    assert offer.plan.amount_cents == 3900


def test_a_learner_who_used_the_trial_is_offered_a_plain_subscription():
    PlanFactory()
    learner = UserFactory()
    TrialClaim.objects.create(user=learner)
    offer = offer_for(learner)
    assert offer.signed_in and not offer.trial_available and offer.trial_days == 0 and not offer.resubscribe


def test_an_expired_subscriber_is_offered_to_resubscribe():
    sub = SubscriptionFactory(status="canceled", ended_at=T0)
    TrialClaim.objects.create(user=sub.user)
    offer = offer_for(sub.user)
    assert offer.resubscribe and not offer.trial_available


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_subscribers_and_staff_are_offered_nothing(status):
    sub = SubscriptionFactory(status=status)
    assert offer_for(sub.user) is None
    assert offer_for(UserFactory(is_staff=True)) is None


def test_no_offer_without_a_plan_on_sale():
    assert offer_for(UserFactory()) is None


def test_perks_do_not_promise_features_that_do_not_exist(client):
    PlanFactory()
    client.force_login(UserFactory())
    html = client.get(reverse("billing:overview")).content.decode().lower()
    assert "peer review" not in html  # (the forums exist since issue 12: a perk may name them)
