"""What forum members hear about, and who: followers of a thread (replies), of a topic or a course
(new threads), the asker and the answerer (an answer accepted or endorsed), members @mentioned, and the
moderators (flags, posts held for review). Everything here runs inside the transaction of the change
that caused it; delivery (in-site, e-mail now or in the daily digest) is the notifications app's.

Names follow the anonymity rule: an anonymous post is "An anonymous learner" in every notification
and e-mail, whoever receives it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from access import api as access
from accounts import api as accounts
from notifications import api as notifications

from . import rendering
from .models import Follow, Post, PostKind, Sanction, SanctionKind, Thread

ANONYMOUS_NAME = "An anonymous learner"

# (key, label, description, default e-mail)
KINDS = [
    (
        "forum.reply",
        "Replies in threads you follow",
        "Someone replied or commented in a thread you follow.",
        "immediate",
    ),
    (
        "forum.answer",
        "Answers accepted or endorsed",
        "An answer on your question, or your own answer, was accepted or endorsed.",
        "immediate",
    ),
    ("forum.mention", "Mentions", "Someone @mentioned you in a forum post.", "immediate"),
    (
        "forum.new_thread",
        "New threads in topics and courses you follow",
        "A new question or discussion in a topic or course forum you follow.",
        "digest",
    ),
    ("forum.flag", "Flagged posts (moderators)", "A member flagged a forum post for review.", "immediate"),
    (
        "forum.held",
        "Posts waiting for review (moderators)",
        "A new member's post is held until a moderator approves it.",
        "digest",
    ),
]


def author_name(post: Post) -> str:
    return ANONYMOUS_NAME if post.is_anonymous else accounts.display_name(post.author)


def readers_among(thread: Thread, user_ids: Iterable[int]) -> list[int]:
    """The given members who may read this thread's forum now (signed-in members, not banned)."""
    ids = set(user_ids)
    if not ids:
        return []
    now = timezone.now()
    banned = set(
        Sanction.objects.filter(
            Q(forum_id=thread.forum_id) | Q(forum__isnull=True),
            user_id__in=ids,
            kind=SanctionKind.BAN,
            lifted_at__isnull=True,
            starts_at__lte=now,
            ends_at__gt=now,
        ).values_list("user_id", flat=True)
    )
    users = get_user_model().objects.filter(pk__in=ids - banned, is_active=True)
    forum = thread.forum
    return sorted(
        user.pk for user in users if access.can_read_forum(user, course_id=forum.course_id, public=forum.is_public)
    )


def moderators_of(thread: Thread) -> list[int]:
    candidates = accounts.user_ids_with_roles(staff=True, mentor=True)
    users = get_user_model().objects.filter(pk__in=candidates)
    course_id = thread.forum.course_id
    return [user.pk for user in users if access.can_moderate_forum(user, course_id=course_id)]


_muted = threading.local()


@contextlib.contextmanager
def muted():
    """Send nothing inside the block (loading the demo threads, bulk imports)."""
    previous = getattr(_muted, "on", False)
    _muted.on = True
    try:
        yield
    finally:
        _muted.on = previous


def register_kinds() -> None:
    """Declare the forum's notification kinds (ForumsConfig.ready)."""
    for key, label, description, default_email in KINDS:
        notifications.register_kind(key, label=label, description=description, default_email=default_email)


def _send(*, event_key: str, kind: str, recipient_ids: list[int], title: str, body: str, url: str, actor_id) -> int:
    """Hand one event to the notifications app, in the caller's transaction: in-site at once, e-mail now,
    in the daily digest or not at all per the recipient's choice; the same event_key never notifies the
    same member twice (a retried request, a post approved after being edited)."""
    if getattr(_muted, "on", False) or not recipient_ids:
        return 0
    return notifications.notify(
        event_key=event_key,
        kind=kind,
        recipient_ids=recipient_ids,
        title=title,
        body=body,
        url=url,
        actor_id=actor_id,
    )


def _quote(post: Post) -> str:
    return rendering.plain_text(post.body, limit=280)


def thread_published(thread: Thread, post: Post) -> int:
    followers = Follow.objects.filter(Q(topic_id=thread.topic_id) | Q(forum_id=thread.forum_id)).values_list(
        "user_id", flat=True
    )
    recipients = [uid for uid in readers_among(thread, followers) if uid != post.author_id]
    what = "question" if thread.is_question else "discussion"
    return _send(
        event_key=f"forum.thread:{thread.pk}",
        kind="forum.new_thread",
        recipient_ids=recipients,
        title=f"New {what} in {thread.topic.title}: “{thread.title}”",
        body=f"{author_name(post)} asked:\n\n{_quote(post)}" if thread.is_question else _quote(post),
        url=thread.get_absolute_url(),
        actor_id=post.author_id,
    )


def reply_published(post: Post) -> int:
    thread = post.thread
    followers = Follow.objects.filter(thread=thread).values_list("user_id", flat=True)
    recipients = [uid for uid in readers_among(thread, followers) if uid != post.author_id]
    verb = "commented" if post.kind == PostKind.COMMENT else "replied"
    return _send(
        event_key=f"forum.reply:{post.pk}",
        kind="forum.reply",
        recipient_ids=recipients,
        title=f"{author_name(post)} {verb} in “{thread.title}”",
        body=_quote(post),
        url=post.get_absolute_url(),
        actor_id=post.author_id,
    )


def mentioned(post: Post, user_ids: list[int]) -> int:
    thread = post.thread
    recipients = [uid for uid in readers_among(thread, user_ids) if uid != post.author_id]
    return _send(
        event_key=f"forum.mention:{post.pk}",
        kind="forum.mention",
        recipient_ids=recipients,
        title=f"{author_name(post)} mentioned you in “{thread.title}”",
        body=_quote(post),
        url=post.get_absolute_url(),
        actor_id=post.author_id,
    )


def answer_marked(post: Post, *, actor, how: str) -> int:
    thread = post.thread
    recipients = [uid for uid in readers_among(thread, [thread.author_id, post.author_id]) if uid != actor.pk]
    who = "A mentor" if how == "endorsed" else ("The asker" if actor.pk == thread.author_id else "A moderator")
    return _send(
        event_key=f"forum.{how}:{post.pk}",
        kind="forum.answer",
        recipient_ids=recipients,
        title=f"{who} {how} an answer in “{thread.title}”",
        body=_quote(post),
        url=post.get_absolute_url(),
        actor_id=actor.pk,
    )


def post_flagged(flag, *, hidden: bool) -> int:
    post = flag.post
    thread = post.thread
    state = " It is hidden until a moderator reviews it." if hidden else ""
    return _send(
        event_key=f"forum.flag:{flag.pk}",
        kind="forum.flag",
        recipient_ids=[uid for uid in moderators_of(thread) if uid != flag.flagger_id],
        title=f"Flagged post in “{thread.title}”: {flag.get_reason_display()}",
        body=f"{flag.note}\n\n{_quote(post)}{state}".strip(),
        url=post.get_absolute_url(),
        actor_id=None,
    )


def post_held(post: Post) -> int:
    thread = post.thread
    return _send(
        event_key=f"forum.held:{post.pk}",
        kind="forum.held",
        recipient_ids=moderators_of(thread),
        title=f"A new member's post waits for review in “{thread.title}”",
        body=_quote(post),
        url=post.get_absolute_url(),
        actor_id=None,
    )
