"""The forums app's public door: other apps, the API and checks outside the suite import only this.

    from forums import api as forums

    thread_id = forums.ask_question(author=user, course_slug="sequence-models", title=..., body=..., week=2)
    forums.similar_questions(user=user, course_slug="sequence-models", title="why does my LSTM ...")

Both go through exactly the rules, sanitising and indexing of the pages (services.thread_create and
the suggestion box's selector), so what they return is what a learner would see.
"""

from __future__ import annotations

from django.http import Http404

from courses import api as courses

from . import selectors, services
from .rules import ForumError

__all__ = ["ForumError", "ask_question", "forum_sync", "similar_questions", "thread_url"]


def _forum(course_slug: str):
    try:
        course = courses.course_get(slug=course_slug)
    except Http404:
        raise ForumError(f"There is no course {course_slug!r}.", code="no_course") from None
    return services.forum_ensure(course_id=course.pk)


def ask_question(*, author, course_slug: str, title: str, body: str, week: int | None = None) -> int:
    """Ask a question in a course's forum, in the topic of `week` (a week number) or in General.
    Returns the new thread's id. A new member's question is stored but held for review, as on the page.
    Raises ForumError (with the sentence a learner would see) when refused or invalid."""
    forum = _forum(course_slug)
    topic = services.topic_for_week(forum, week)
    thread = services.thread_create(author=author, forum=forum, title=title, body=body, topic=topic)
    return thread.pk


def similar_questions(*, user, course_slug: str, title: str, body: str = "", limit: int = 5) -> list[tuple[int, float]]:
    """The threads the suggestion box would show this user for a question being typed: ids of threads
    they may read, best first, with their similarity scores; an empty list when nothing is similar
    enough (or they may not read the forum)."""
    forum = _forum(course_slug)
    return selectors.similar_for(viewer=user, forum=forum, title=title, body=body, limit=limit)


def forum_sync(*, course_id: int) -> None:
    """Create a course's forum, or bring its topics in line with the course's weeks and assignments."""
    services.forum_ensure(course_id=course_id, fresh=True)


def thread_url(*, thread_id: int) -> str:
    return selectors.thread_get(thread_id=thread_id).get_absolute_url()
