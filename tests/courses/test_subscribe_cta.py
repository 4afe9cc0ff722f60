"""Locked content says what it costs and how to get it; subscribers are not sold to."""

import pytest
from django.urls import reverse

from billing.models import TrialClaim
from tests.factories import ItemFactory, PlanFactory, ReadingFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked_reading():
    PlanFactory()  # $49/month, 7-day trial
    ItemFactory(is_preview=True)
    return ReadingFactory(item__is_preview=False).item


def test_signed_in_learner_on_a_locked_item_gets_price_trial_and_a_link_to_subscribe(client, locked_reading):
    client.force_login(UserFactory())
    response = client.get(locked_reading.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your account does not include this course yet." not in html
    assert "$49/month" in html and "7 days" in html
    assert f'href="{reverse("billing:overview")}">Start your 7-day free trial</a>' in html


def test_the_price_comes_from_the_active_plan(client, db):
    PlanFactory(amount_cents=2900, trial_days=3)
    item = ReadingFactory(item__is_preview=False).item
    client.force_login(UserFactory())
    html = client.get(item.get_absolute_url()).content.decode()
    assert "$29/month" in html and "Start your 3-day free trial" in html and "$49" not in html


def test_a_learner_who_had_the_trial_is_not_promised_another(client, locked_reading):
    learner = UserFactory()
    TrialClaim.objects.create(user=learner)
    client.force_login(learner)
    html = client.get(locked_reading.get_absolute_url()).content.decode()
    assert "free trial" not in html.lower()
    assert "$49/month" in html and ">Subscribe</a>" in html


def test_expired_subscriber_is_asked_to_resubscribe(client, locked_reading):
    sub = SubscriptionFactory(status="canceled")
    TrialClaim.objects.create(user=sub.user)
    client.force_login(sub.user)
    html = client.get(locked_reading.get_absolute_url()).content.decode()
    assert "Your subscription has ended" in html and ">Resubscribe</a>" in html


def test_visitor_on_a_locked_item_is_invited_to_sign_up_for_the_trial(client, locked_reading):
    html = client.get(locked_reading.get_absolute_url()).content.decode()
    assert "Sign up to start your free trial" in html and "$49/month" in html
    assert f"{reverse('account_login')}?next=" in html


def test_course_page_explains_the_locks_with_the_offer(client, locked_reading):
    client.force_login(UserFactory())
    html = client.get(locked_reading.course.get_absolute_url()).content.decode()
    assert "Items with a lock are part of the subscription." in html
    assert "$49/month" in html and "Start your 7-day free trial" in html


@pytest.mark.parametrize("name", ["courses:home", "courses:catalog"])
def test_home_and_catalog_mention_price_and_trial_once(client, locked_reading, name):
    html = client.get(reverse(name)).content.decode()
    assert html.count("$49/month") == 1 and html.count("data-subscribe-cta") == 1
    assert "Sign up to start your free trial" in html


def test_specialization_page_mentions_the_offer_once(client, locked_reading):
    spec = locked_reading.course.specialization
    html = client.get(spec.get_absolute_url()).content.decode()
    assert html.count("$49/month") == 1


@pytest.mark.parametrize("name", ["courses:home", "courses:catalog", "course"])
def test_subscribers_see_nothing_salesy(client, locked_reading, name):
    client.force_login(SubscriptionFactory().user)
    url = locked_reading.course.get_absolute_url() if name == "course" else reverse(name)
    html = client.get(url).content.decode()
    assert "$49" not in html and "free trial" not in html.lower() and "data-subscribe-cta" not in html
