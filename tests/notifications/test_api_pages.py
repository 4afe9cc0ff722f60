"""notifications.api.page_for: keyset pages of a user's notifications, newest first."""

import pytest
from django.contrib.auth.models import AnonymousUser

from notifications import api
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_pages_follow_each_other_newest_first_and_show_only_the_users_own():
    user = UserFactory()
    mine = NotificationFactory.create_batch(5, recipient=user)
    NotificationFactory(recipient=UserFactory())
    first = api.page_for(user, limit=3)
    second = api.page_for(user, after=(first[-1].created_at, first[-1].id), limit=3)
    expected = [n.pk for n in sorted(mine, key=lambda n: (n.created_at, n.pk), reverse=True)]
    assert [v.id for v in first + second] == expected


def test_a_visitor_has_no_notifications():
    assert api.page_for(AnonymousUser()) == []
