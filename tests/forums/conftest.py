"""Forum fixtures: a course with two weeks (a lecture each, an assignment in week 2), its forum, and
members in the states the rules care about."""

import datetime

import pytest
from django.utils import timezone

from courses.models import ItemKind
from forums import services
from forums.models import Profile
from tests.factories import CourseFactory, ItemFactory, SubscriptionFactory, UserFactory, WeekFactory

OLD = timezone.now() - datetime.timedelta(days=90)


def member(**kwargs):
    """A subscribed learner whose posts appear at once (past the trust step)."""
    user = SubscriptionFactory(user__date_joined=OLD, **kwargs).user
    services.profile_ensure(user)
    Profile.objects.filter(user=user).update(trusted_at=OLD)
    return user


def newcomer():
    """A subscribed learner who signed up today: their posts are held for review."""
    return SubscriptionFactory().user


@pytest.fixture
def course(db):
    course = CourseFactory(slug="neural-nets", title="Neural Networks")
    week1 = WeekFactory(course=course, number=1, title="Introduction")
    week2 = WeekFactory(course=course, number=2, title="Basics")
    ItemFactory(week=week1, slug="what-is-a-neural-network", title="What is a Neural Network?", kind=ItemKind.LECTURE)
    ItemFactory(week=week2, slug="vectorization", title="Vectorization", kind=ItemKind.LECTURE)
    ItemFactory(week=week2, slug="logistic-regression-lab", title="Logistic Regression Lab", kind=ItemKind.ASSIGNMENT)
    return course


@pytest.fixture
def forum(course):
    return services.forum_ensure(course_id=course.pk)


@pytest.fixture
def learner(db):
    return member()


@pytest.fixture
def other(db):
    return member()


@pytest.fixture
def mentor(db):
    user = UserFactory(is_mentor=True, date_joined=OLD)
    return user


@pytest.fixture
def staff_member(db):
    return UserFactory(is_staff=True, date_joined=OLD)


@pytest.fixture
def ask(forum, learner):
    """ask(title, body, **kwargs) -> Thread, by `learner` unless author= is given."""

    def _ask(title="Why does my cost go up after a few iterations?", body="My cost increases.", **kwargs):
        kwargs.setdefault("author", learner)
        return services.thread_create(forum=forum, title=title, body=body, **kwargs)

    return _ask
