"""forums.api: the two functions other apps and outside checks call, with exactly these signatures."""

import inspect

import pytest

from forums import api
from forums.models import Thread, Visibility

from .conftest import member, newcomer

pytestmark = pytest.mark.django_db


def test_signatures_are_exactly_as_published():
    ask = inspect.signature(api.ask_question)
    assert str(ask) == "(*, author, course_slug: 'str', title: 'str', body: 'str', week: 'int | None' = None) -> 'int'"
    similar = inspect.signature(api.similar_questions)
    assert str(similar) == (
        "(*, user, course_slug: 'str', title: 'str', body: 'str' = '', limit: 'int' = 5) -> 'list[tuple[int, float]]'"
    )


def test_ask_question_goes_through_the_same_rules_sanitising_and_indexing(course, forum, learner):
    thread_id = api.ask_question(
        author=learner,
        course_slug=course.slug,
        title="Why do we initialise the weights randomly instead of with zeros?",
        body="<script>alert(1)</script> all hidden units stay the same",
        week=2,
    )
    thread = Thread.objects.get(pk=thread_id)
    assert thread.topic.slug == "week-2" and thread.week_number == 2
    assert "<script" not in thread.posts.get().body_html
    found = api.similar_questions(
        user=member(), course_slug=course.slug, title="What goes wrong if all weights start at zero?"
    )
    assert found and found[0][0] == thread_id and isinstance(found[0][1], float)


def test_ask_question_refusals_are_forum_errors(course, forum):
    from tests.factories import UserFactory

    with pytest.raises(api.ForumError, match="Start your free trial"):
        api.ask_question(author=UserFactory(), course_slug=course.slug, title="A fine question title", body="ok")
    with pytest.raises(api.ForumError, match="no week 9"):
        api.ask_question(author=member(), course_slug=course.slug, title="A fine question title", body="ok", week=9)
    with pytest.raises(api.ForumError, match="no course"):
        api.ask_question(author=member(), course_slug="nope", title="A fine question title", body="ok")
    assert not Thread.objects.exists()


def test_a_new_members_question_is_stored_held_like_on_the_page(course, forum):
    thread_id = api.ask_question(author=newcomer(), course_slug=course.slug, title="A fine question title", body="ok")
    assert Thread.objects.get(pk=thread_id).state == Visibility.PENDING
    assert api.similar_questions(user=member(), course_slug=course.slug, title="A fine question title") == []


def test_similar_questions_is_empty_for_who_may_not_read(course, forum, learner):
    from django.contrib.auth.models import AnonymousUser

    api.ask_question(
        author=learner, course_slug=course.slug, title="Dropout keep_prob at test time", body="What happens?"
    )
    assert api.similar_questions(user=AnonymousUser(), course_slug=course.slug, title="dropout keep_prob") == []
    assert api.similar_questions(user=member(), course_slug=course.slug, title="dropout keep_prob", limit=0) == []
