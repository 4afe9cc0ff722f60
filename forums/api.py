"""The forums app's public door: other apps, the API and checks outside the suite import only this.

    from forums import api as forums

    thread_id = forums.ask_question(author=user, course_slug="sequence-models", title=..., body=..., week=2)
    forums.similar_questions(user=user, course_slug="sequence-models", title="why does my LSTM ...")

Both go through exactly the rules, sanitising and indexing of the pages (services.thread_create and
the suggestion box's selector), so what they return is what a learner would see.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Q
from django.http import Http404

from courses import api as courses

from . import selectors, services
from .models import Post, PostKind, Thread, ThreadKind, Visibility
from .rules import ForumError, can_see_post, can_see_thread, check_can_read, is_moderator, sees_anonymous_authors

__all__ = [
    "ForumError",
    "PostFacts",
    "ThreadFacts",
    "ask_question",
    "forum_sync",
    "post_reply",
    "posts_page",
    "similar_questions",
    "start_thread",
    "thread_facts",
    "thread_url",
    "threads_page",
]

Key = tuple[datetime.datetime, int]


@dataclasses.dataclass(frozen=True)
class ThreadFacts:
    """A thread as the viewer may see it: the author is a label (anonymity holds as on the pages)."""

    thread_id: int
    course_slug: str
    kind: str
    title: str
    author: str
    author_is_anonymous: bool
    week: int | None
    item_id: int | None
    state: str
    is_pinned: bool
    is_closed: bool
    duplicate_of_id: int | None
    reply_count: int
    vote_score: int
    answered: bool
    accepted_post_id: int | None
    created_at: datetime.datetime
    last_activity_at: datetime.datetime
    url: str


@dataclasses.dataclass(frozen=True)
class PostFacts:
    post_id: int
    thread_id: int
    kind: str
    parent_id: int | None
    author: str
    author_is_anonymous: bool
    body: str
    body_html: str
    state: str
    vote_score: int
    is_accepted: bool
    is_endorsed: bool
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    url: str


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
    return start_thread(author=author, course_slug=course_slug, title=title, body=body, week=week)


def start_thread(
    *,
    author,
    course_slug: str,
    title: str,
    body: str,
    week: int | None = None,
    kind: str = ThreadKind.QUESTION,
    item_id: int | None = None,
    anonymous: bool = False,
) -> int:
    """Ask a question or start a discussion, in the topic of `week`, of `item_id`'s assignment or week, or
    in General; anonymous to other learners when asked. Returns the thread's id; raises ForumError."""
    forum = _forum(course_slug)
    topic = services.topic_for_week(forum, week) if week is not None or item_id is None else None
    thread = services.thread_create(
        author=author, forum=forum, title=title, body=body, topic=topic, kind=kind, item_id=item_id, anonymous=anonymous
    )
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


# ---- reads and replies for the REST API (the same rules as the pages) ---------------------------------


def _thread_facts(thread: Thread, *, viewer, sees_names: bool, course_slug: str) -> ThreadFacts:
    label = selectors.author_label(
        author=thread.author, is_anonymous=thread.is_anonymous, viewer=viewer, sees_names=sees_names
    )
    return ThreadFacts(
        thread_id=thread.pk,
        course_slug=course_slug,
        kind=thread.kind,
        title=thread.title,
        author=label.name,
        author_is_anonymous=label.is_anonymous,
        week=thread.week_number,
        item_id=thread.item_id,
        state=thread.state,
        is_pinned=thread.is_pinned,
        is_closed=thread.is_closed,
        duplicate_of_id=thread.duplicate_of_id,
        reply_count=thread.reply_count,
        vote_score=thread.vote_score,
        answered=bool(thread.accepted_post_id or thread.has_endorsed),
        accepted_post_id=thread.accepted_post_id,
        created_at=thread.created_at,
        last_activity_at=thread.last_activity_at,
        url=thread.get_absolute_url(),
    )


def threads_page(
    *,
    viewer,
    course_slug: str,
    after: Key | None = None,
    limit: int = 21,
    week: int | None = None,
    item_id: int | None = None,
    unanswered: bool = False,
) -> list[ThreadFacts]:
    """The threads of a course's forum the viewer may see, latest activity first, keyset-paged after
    (last_activity_at, id). Raises ForumError when the viewer may not read the forum."""
    forum = _forum(course_slug)
    check_can_read(viewer, forum).require()
    rows = selectors.threads_for(viewer, forum, moderator=is_moderator(viewer, forum)).select_related("author")
    if week is not None:
        rows = rows.filter(week_number=week)
    if item_id is not None:
        rows = rows.filter(item_id=item_id)
    if unanswered:
        rows = rows.filter(kind=ThreadKind.QUESTION, accepted_post__isnull=True, has_endorsed=False)
    if after is not None:
        moment, ident = after
        rows = rows.filter(Q(last_activity_at__lt=moment) | Q(last_activity_at=moment, pk__lt=ident))
    sees_names = sees_anonymous_authors(viewer, forum)
    return [
        _thread_facts(thread, viewer=viewer, sees_names=sees_names, course_slug=course_slug)
        for thread in rows.order_by("-last_activity_at", "-pk")[:limit]
    ]


def _visible_thread(viewer, thread_id: int) -> Thread:
    """A thread the viewer may see; Http404 otherwise (never a hint that it exists)."""
    thread = selectors.thread_get(thread_id=thread_id)
    if thread.merged_into_id or not check_can_read(viewer, thread.forum) or not can_see_thread(viewer, thread):
        raise Http404("No such thread.")
    return thread


def thread_facts(*, viewer, thread_id: int) -> ThreadFacts:
    thread = _visible_thread(viewer, thread_id)
    course = courses.course_facts(course_id=thread.forum.course_id)
    sees_names = sees_anonymous_authors(viewer, thread.forum)
    return _thread_facts(thread, viewer=viewer, sees_names=sees_names, course_slug=course.slug)


def _post_facts(post: Post, *, viewer, sees_names: bool) -> PostFacts:
    label = selectors.author_label(
        author=post.author, is_anonymous=post.is_anonymous, viewer=viewer, sees_names=sees_names
    )
    removed = post.state == Visibility.DELETED
    return PostFacts(
        post_id=post.pk,
        thread_id=post.thread_id,
        kind=post.kind,
        parent_id=post.parent_id,
        author=label.name,
        author_is_anonymous=label.is_anonymous,
        body="" if removed else post.body,
        body_html="" if removed else post.body_html,
        state=post.state,
        vote_score=post.vote_score,
        is_accepted=post.is_accepted,
        is_endorsed=post.is_endorsed,
        created_at=post.created_at,
        edited_at=post.edited_at,
        url=post.get_absolute_url(),
    )


def posts_page(*, viewer, thread_id: int, after: Key | None = None, limit: int = 21) -> list[PostFacts]:
    """A thread's posts the viewer may see (opening post, replies, comments), oldest first, keyset-paged
    after (created_at, id). Http404 when the viewer may not see the thread."""
    thread = _visible_thread(viewer, thread_id)
    moderator = is_moderator(viewer, thread.forum)
    sees_names = sees_anonymous_authors(viewer, thread.forum)
    rows = Post.objects.filter(thread=thread).select_related("author")
    if not moderator:
        rows = rows.exclude(state=Visibility.DELETED)
    if after is not None:
        moment, ident = after
        rows = rows.filter(Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=ident))
    found: list[PostFacts] = []
    # Rows the viewer may not see (others' held or hidden posts) are skipped; read on until the page is full.
    for post in rows.order_by("created_at", "pk").iterator(chunk_size=max(limit, 50)):
        if can_see_post(viewer, post, moderator=moderator):
            found.append(_post_facts(post, viewer=viewer, sees_names=sees_names))
            if len(found) >= limit:
                break
    return found


def post_reply(
    *, author, thread_id: int, body: str, parent_id: int | None = None, anonymous: bool = False
) -> PostFacts:
    """Reply to a thread, or comment on one of its replies (`parent_id`), by the page's rules (access,
    sanctions, rate limits, held for review when new). Raises ForumError when refused or invalid."""
    thread = _visible_thread(author, thread_id)
    if parent_id is None:
        post = services.reply_create(author=author, thread=thread, body=body, anonymous=anonymous)
    else:
        parent = Post.objects.select_related("thread__forum", "parent").filter(pk=parent_id, thread=thread).first()
        if parent is None or not can_see_post(author, parent, moderator=is_moderator(author, thread.forum)):
            raise ForumError("There is no such reply in this thread.", code="no_parent")
        if parent.kind == PostKind.OPENING:
            raise ForumError("Comments go under replies; answer the question with a reply.")
        post = services.comment_create(author=author, reply=parent, body=body, anonymous=anonymous)
    post = Post.objects.select_related("author").get(pk=post.pk)
    return _post_facts(post, viewer=author, sees_names=sees_anonymous_authors(author, thread.forum))
