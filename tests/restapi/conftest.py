"""Fixtures for the REST API: learners in each state, a course with every kind of item, tokens, clients."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from restapi import services
from tests.factories import CourseFactory, ItemFactory, LectureFactory, ReadingFactory, SubscriptionFactory, UserFactory

NOW = timezone.now()
DAY = datetime.timedelta(days=1)


def make_learner(state: str):
    """A learner whose subscription rows are as the billing webhooks leave them."""
    if state == "registered":
        return UserFactory()
    if state == "active":
        return SubscriptionFactory().user
    if state == "trialing":
        return SubscriptionFactory(status="incomplete", trial_end=NOW + 5 * DAY).user
    if state == "expired":
        return SubscriptionFactory(status="canceled", ended_at=NOW - DAY).user
    if state == "staff":
        return UserFactory(is_staff=True)
    raise AssertionError(state)


@pytest.fixture
def learner(db):
    """A subscribed learner (active)."""
    return make_learner("active")


@pytest.fixture
def course(db):
    """A released course: week 1 has a preview lecture, a reading and a quiz; week 2 a lecture."""
    course = CourseFactory(slug="neural-networks", title="Neural Networks")
    preview = LectureFactory(
        item__week__course=course, item__week__number=1, item__slug="welcome", item__is_preview=True
    )
    week1 = preview.item.week
    ReadingFactory(item__week=week1, item__course=course, item__slug="notes")
    ItemFactory(week=week1, course=course, kind="quiz", slug="quiz-1", title="Quiz 1")
    LectureFactory(item__week__course=course, item__week__number=2, item__slug="backprop")
    return course


def token_for(user, scope="write", days=30) -> str:
    return services.token_create(user=user, name=f"{scope} token", scope=scope, expires_in_days=days)[1]


def client_for(user=None, *, scope="write") -> APIClient:
    """An API client with a personal token of `user` (or no credentials)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, scope)}")
    return client


@pytest.fixture
def api():
    return client_for


def error_of(response) -> dict:
    """The one error shape: every error answer has exactly these keys."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"status", "code", "message", "reason", "fields"}, body
    assert body["error"]["status"] == response.status_code
    assert body["error"]["message"]
    return body["error"]
