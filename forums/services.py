"""The only place that writes forum state. Each function checks first (rules.check_*, which ask the
access policy) and raises ForumError with a sentence for the user, then changes the rows, the
denormalised counts and the search index in one transaction, and hands what others should hear about
to events.py (notifications, sent after the commit by the notifications app's outbox).
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.text import slugify

from courses import api as courses

from . import events, rendering, search
from .models import (
    Flag,
    FlagReason,
    FlagStatus,
    Follow,
    Forum,
    Post,
    PostKind,
    PostRevision,
    Profile,
    Sanction,
    SanctionKind,
    Thread,
    ThreadKind,
    Topic,
    TopicKind,
    Visibility,
    Vote,
)
from .rules import (
    HELD_MESSAGE,
    ForumError,
    can_see_thread,
    check_can_accept,
    check_can_delete,
    check_can_edit,
    check_can_endorse,
    check_can_flag,
    check_can_follow,
    check_can_moderate,
    check_can_post,
    check_can_reply,
    check_can_vote,
    is_moderator,
    is_trusted,
    trust_reached,
)

TITLE_MIN, TITLE_MAX = 10, 200
BODY_MIN = 2
GRADED_KINDS = {"assignment", "peer_review"}
GENERAL_SLUG = "general"

__all__ = ["HELD_MESSAGE", "ForumError"]


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


# ---- forums and topics ---------------------------------------------------------------------------


def _signature(structure: list[courses.WeekFacts]) -> str:
    parts = []
    for week in structure:
        parts.append(f"w{week.week_id}:{week.number}:{week.title}")
        parts += [f"i{i.item_id}:{i.title}" for i in week.items if i.kind in GRADED_KINDS]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


STRUCTURE_TTL_SECONDS = 60


def structure_of(course_id: int, *, fresh: bool = False) -> list[courses.WeekFacts]:
    """The course's weeks and items, cached for a minute: every forum page needs them (topics, filters)
    and they change only when a content pack is imported."""
    key = f"forums:structure:{course_id}"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    structure = courses.course_structure(course_id=course_id)
    cache.set(key, structure, STRUCTURE_TTL_SECONDS)
    return structure


def forum_ensure(*, course_id: int, fresh: bool = False) -> Forum:
    """The course's forum, created on first use, with its topics following the course structure (one
    per week, one per graded assignment, and a general one): re-synced when the structure changed
    (noticed within STRUCTURE_TTL_SECONDS, or at once with fresh=True)."""
    forum = Forum.objects.filter(course_id=course_id).first()
    structure = structure_of(course_id, fresh=fresh)
    signature = _signature(structure)
    if forum is not None and forum.structure_signature == signature:
        return forum
    with transaction.atomic():
        forum, _ = Forum.objects.select_for_update().get_or_create(course_id=course_id)
        if forum.structure_signature != signature:
            _topics_sync(forum, structure)
            forum.structure_signature = signature
            forum.save(update_fields=["structure_signature"])
    return forum


def _topics_sync(forum: Forum, structure: list[courses.WeekFacts]) -> None:
    existing = {topic.slug: topic for topic in forum.topics.all()}
    wanted: dict[str, dict] = {
        GENERAL_SLUG: {
            "kind": TopicKind.FREE,
            "title": "General discussion",
            "description": "Anything about the course that is not about one week or assignment.",
            "order": 0,
        }
    }
    order = 10
    for week in structure:
        wanted[f"week-{week.number}"] = {
            "kind": TopicKind.WEEK,
            "title": f"Week {week.number}: {week.title}",
            "description": f"Lectures, readings and quizzes of week {week.number}.",
            "week_id": week.week_id,
            "week_number": week.number,
            "order": order,
        }
        order += 10
        for item in week.items:
            if item.kind in GRADED_KINDS:
                wanted[f"assignment-{item.slug}"[:80]] = {
                    "kind": TopicKind.ASSIGNMENT,
                    "title": item.title,
                    "description": f"Help with the week {week.number} assignment (no full solutions, please).",
                    "week_id": week.week_id,
                    "week_number": week.number,
                    "item_id": item.item_id,
                    "order": order,
                }
                order += 10
    for slug, fields in wanted.items():
        topic = existing.get(slug)
        if topic is None:
            Topic.objects.create(forum=forum, slug=slug, **fields)
        elif topic.kind != TopicKind.FREE or slug == GENERAL_SLUG:
            for name, value in fields.items():
                setattr(topic, name, value)
            topic.is_archived = False
            topic.save()
    for slug, topic in existing.items():
        if slug not in wanted and topic.kind != TopicKind.FREE and not topic.is_archived:
            topic.is_archived = True
            topic.save(update_fields=["is_archived"])


def topic_create(*, actor, forum: Forum, title: str, description: str = "") -> Topic:
    """A free topic (study groups, tools and set-up, ...), added by a moderator."""
    check_can_moderate(actor, forum).require()
    title = " ".join((title or "").split())
    if not 3 <= len(title) <= 120:
        raise ForumError("A topic needs a title of 3 to 120 characters.")
    base = slugify(title)[:60] or "topic"
    slug, n = base, 2
    while forum.topics.filter(slug=slug).exists() or slug == GENERAL_SLUG or slug.startswith(("week-", "assignment-")):
        slug, n = f"{base}-{n}", n + 1
    last = forum.topics.aggregate(m=Max("order"))["m"] or 0
    return Topic.objects.create(
        forum=forum, kind=TopicKind.FREE, slug=slug, title=title, description=description[:300], order=last + 10
    )


# ---- member profiles ----------------------------------------------------------------------------


def profile_ensure(user) -> Profile:
    """The member's forum profile, with a unique @handle from their display name."""
    profile = Profile.objects.filter(user_id=user.pk).first()
    if profile:
        return profile
    base = (slugify(user.display_name) or "member")[:30].strip("-") or "member"
    if len(base) < 3:
        base = f"{base}-member"
    handle, n = base, 2
    while True:
        try:
            with transaction.atomic():
                return Profile.objects.create(user=user, handle=handle)
        except IntegrityError:
            existing = Profile.objects.filter(user_id=user.pk).first()
            if existing:
                return existing
            handle, n = f"{base}-{n}", n + 1


# ---- writing posts ------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) < TITLE_MIN:
        raise ForumError(f"Give your post a title of at least {TITLE_MIN} characters: what are you asking about?")
    if len(title) > TITLE_MAX:
        raise ForumError(f"Keep the title under {TITLE_MAX} characters; the details go in the body.")
    return title


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) < BODY_MIN:
        raise ForumError("Write something in the body of your post.")
    if len(body) > rendering.MAX_BODY_CHARS:
        raise ForumError(f"A post can hold at most {rendering.MAX_BODY_CHARS:,} characters.")
    return body


def _render(body: str) -> tuple[str, list[int]]:
    """The post's HTML, and the ids of the members it @mentions."""
    handles = rendering.mentioned_handles(body)
    found = dict(Profile.objects.filter(handle__in=handles).values_list("handle", "user_id")) if handles else {}
    return rendering.render(body, handles=set(found)), sorted(set(found.values()))


def thread_create(
    *,
    author,
    forum: Forum,
    title: str,
    body: str,
    kind: str = ThreadKind.QUESTION,
    topic: Topic | None = None,
    item_id: int | None = None,
    anonymous: bool = False,
    now: datetime.datetime | None = None,
) -> Thread:
    """Start a thread. A new member's thread is held for review (HELD_MESSAGE); the asker follows it."""
    now = _now(now)
    check_can_post(author, forum, kind="thread", now=now).require()
    title, body = _clean_title(title), _clean_body(body)
    if kind not in ThreadKind.values:
        raise ForumError("Choose whether this is a question or a discussion.")
    item = None
    if item_id is not None:
        item = courses.item_facts(item_id)
        if item.course.course_id != forum.course_id:
            raise ForumError("That lecture or assignment belongs to another course.")
    if topic is None:
        topic = _topic_for(forum, item)
    elif topic.forum_id != forum.pk or topic.is_archived:
        raise ForumError("Choose one of this course's topics.")
    if topic.week_id:
        check_can_post(author, forum, kind="thread", now=now, week_id=topic.week_id, rate_limit=False).require()
    if item is None and topic.item_id:
        item = courses.item_facts(topic.item_id)
    html, mentioned = _render(body)
    held = not is_trusted(author, forum, now=now)
    state = Visibility.PENDING if held else Visibility.VISIBLE
    with transaction.atomic():
        profile_ensure(author)
        thread = Thread.objects.create(
            forum=forum,
            topic=topic,
            kind=kind,
            title=title,
            author=author,
            is_anonymous=bool(anonymous),
            item_id=item.item_id if item else None,
            week_number=topic.week_number or _week_number_of(item),
            state=state,
            created_at=now,
            last_activity_at=now,
        )
        post = Post.objects.create(
            thread=thread,
            kind=PostKind.OPENING,
            author=author,
            is_anonymous=bool(anonymous),
            body=body,
            body_html=html,
            state=state,
            created_at=now,
        )
        Follow.objects.get_or_create(user=author, thread=thread)
        if not held:
            _published(post, mentioned=mentioned, now=now)
        else:
            search.reindex_thread(thread.pk)
            events.post_held(post)
    return thread


def _week_number_of(item) -> int | None:
    if item is None:
        return None
    for week in structure_of(item.course.course_id):
        if any(i.item_id == item.item_id for i in week.items):
            return week.number
    return None


def _topic_for(forum: Forum, item) -> Topic:
    """Where a thread about an item goes: its assignment's topic, else its week's, else General."""
    topics = forum.topics.filter(is_archived=False)
    if item is not None:
        topic = topics.filter(item_id=item.item_id).first()
        if topic:
            return topic
        number = _week_number_of(item)
        topic = topics.filter(kind=TopicKind.WEEK, week_number=number).first()
        if topic:
            return topic
    return topics.filter(slug=GENERAL_SLUG).first() or topics.first()


def topic_for_week(forum: Forum, week: int | None) -> Topic:
    topics = forum.topics.filter(is_archived=False)
    if week is not None:
        topic = topics.filter(kind=TopicKind.WEEK, week_number=week).first()
        if topic is None:
            raise ForumError(f"This course has no week {week}.")
        return topic
    return topics.filter(slug=GENERAL_SLUG).first() or topics.first()


def reply_create(
    *, author, thread: Thread, body: str, anonymous: bool = False, now: datetime.datetime | None = None
) -> Post:
    now = _now(now)
    check_can_reply(author, thread, now=now).require()
    return _post_create(author=author, thread=thread, parent=None, body=body, anonymous=anonymous, now=now)


def comment_create(
    *, author, reply: Post, body: str, anonymous: bool = False, now: datetime.datetime | None = None
) -> Post:
    """A comment on a reply (one level: a comment on a comment goes under the same reply)."""
    now = _now(now)
    if reply.kind == PostKind.COMMENT:
        reply = reply.parent
    if reply.kind != PostKind.REPLY:
        raise ForumError("Comments go under replies; answer the question with a reply.")
    if reply.state != Visibility.VISIBLE:
        raise ForumError("That reply is not open for comments.")
    check_can_reply(author, reply.thread, now=now).require()
    return _post_create(author=author, thread=reply.thread, parent=reply, body=body, anonymous=anonymous, now=now)


def _post_create(*, author, thread: Thread, parent: Post | None, body: str, anonymous: bool, now) -> Post:
    body = _clean_body(body)
    html, mentioned = _render(body)
    held = not is_trusted(author, thread.forum, now=now)
    with transaction.atomic():
        profile_ensure(author)
        post = Post.objects.create(
            thread=thread,
            kind=PostKind.COMMENT if parent else PostKind.REPLY,
            parent=parent,
            author=author,
            is_anonymous=bool(anonymous),
            body=body,
            body_html=html,
            state=Visibility.PENDING if held else Visibility.VISIBLE,
            created_at=now,
        )
        if held:
            events.post_held(post)
        else:
            _published(post, mentioned=mentioned, now=now)
    return post


def _published(post: Post, *, mentioned: list[int], now) -> None:
    """A post became visible to learners (at once, or when a moderator approved it): counts, response
    times, the search index, the vocabulary and the notifications."""
    thread = post.thread
    post.published_at = now
    post.state = Visibility.VISIBLE
    post.save(update_fields=["published_at", "state"])
    if post.kind == PostKind.OPENING:
        thread.state = Visibility.VISIBLE
        thread.last_activity_at = now
        thread.save(update_fields=["state", "last_activity_at"])
    else:
        updates: dict = {"last_activity_at": now}
        if post.author_id != thread.author_id and thread.first_response_at is None:
            updates["first_response_at"] = now
        Thread.objects.filter(pk=thread.pk).update(**updates)
        for name, value in updates.items():
            setattr(thread, name, value)
        _counts_refresh(thread)
        Follow.objects.get_or_create(user_id=post.author_id, thread=thread)
    search.reindex_thread(thread.pk)
    search.remember_words([thread.title if post.kind == PostKind.OPENING else "", post.body])
    if post.kind == PostKind.OPENING:
        events.thread_published(thread, post)
    else:
        events.reply_published(post)
    if mentioned:
        events.mentioned(post, mentioned)


def _counts_refresh(thread: Thread) -> None:
    """Recount what lists show from the rows (replies and comments that learners see)."""
    count = Post.objects.filter(thread=thread, state=Visibility.VISIBLE).exclude(kind=PostKind.OPENING).count()
    Thread.objects.filter(pk=thread.pk).update(reply_count=count)
    thread.reply_count = count


def post_edit(
    *, editor, post: Post, body: str, title: str | None = None, reason: str = "", now: datetime.datetime | None = None
) -> Post:
    """Edit a post (and, for the opening post, the thread's title). The text before is kept as a
    revision: who, when, and for a moderator editing someone else's post, why (required)."""
    now = _now(now)
    check_can_edit(editor, post, now=now).require()
    body = _clean_body(body)
    thread = post.thread
    new_title = _clean_title(title) if (title is not None and post.kind == PostKind.OPENING) else thread.title
    by_moderator = editor.pk != post.author_id
    reason = " ".join((reason or "").split())[:300]
    if by_moderator and not reason:
        raise ForumError("Say why you are editing someone else's post; the author and other moderators see it.")
    if body == post.body and new_title == thread.title:
        return post
    html, mentioned = _render(body)
    already = set(_render(post.body)[1])
    with transaction.atomic():
        PostRevision.objects.create(
            post=post,
            editor=editor,
            edited_at=now,
            title=thread.title if post.kind == PostKind.OPENING else "",
            body=post.body,
            reason=reason,
            by_moderator=by_moderator,
        )
        post.body, post.body_html, post.edited_at = body, html, now
        post.save(update_fields=["body", "body_html", "edited_at"])
        if new_title != thread.title:
            thread.title = new_title
            thread.save(update_fields=["title"])
        search.reindex_thread(thread.pk)
        if post.state == Visibility.VISIBLE:
            search.remember_words([new_title, body])
            fresh = [user_id for user_id in mentioned if user_id not in already]
            if fresh:
                events.mentioned(post, fresh)
    return post


def post_delete(*, actor, post: Post, reason: str = "", now: datetime.datetime | None = None) -> None:
    """Authors delete their own posts (soft: kept for moderators); moderators delete any, with a reason.
    Deleting the opening post deletes the thread."""
    check_can_delete(actor, post).require()
    by_moderator = actor.pk != post.author_id
    if by_moderator and not (reason or "").strip():
        raise ForumError("Say why you are deleting this post.")
    _set_state(post, Visibility.DELETED, actor=actor, reason=(reason or "Deleted by its author").strip()[:300], now=now)


def post_hide(*, actor, post: Post, reason: str, now: datetime.datetime | None = None) -> None:
    check_can_moderate(actor, post.thread.forum).require()
    if not (reason or "").strip():
        raise ForumError("Say why you are hiding this post; its author sees the reason.")
    _set_state(post, Visibility.HIDDEN, actor=actor, reason=reason.strip()[:300], now=now)


def post_unhide(*, actor, post: Post, now: datetime.datetime | None = None) -> None:
    """Show a hidden (or restore a deleted) post again; open flags on it are dismissed."""
    check_can_moderate(actor, post.thread.forum).require()
    if post.state not in (Visibility.HIDDEN, Visibility.DELETED):
        raise ForumError("This post is not hidden.")
    with transaction.atomic():
        _flags_close(post, status=FlagStatus.DISMISSED, actor=actor, now=_now(now))
        _set_state(post, Visibility.VISIBLE, actor=actor, reason="", now=now)


def _set_state(post: Post, state: str, *, actor, reason: str, now) -> None:
    now = _now(now)
    thread = post.thread
    with transaction.atomic():
        post.state, post.hidden_reason, post.moderated_by = state, reason, actor
        update = ["state", "hidden_reason", "moderated_by"]
        if state == Visibility.VISIBLE and post.published_at is None:
            post.published_at = now
            update.append("published_at")
        post.save(update_fields=update)
        if post.kind == PostKind.OPENING:
            thread.state = state
            thread.save(update_fields=["state"])
        elif state != Visibility.VISIBLE and post.accepted_at:
            post.accepted_at = None
            post.save(update_fields=["accepted_at"])
            _answers_refresh(thread)
        _counts_refresh(thread)
        _answers_refresh(thread)
        search.reindex_thread(thread.pk)


def _answers_refresh(thread: Thread) -> None:
    visible = Post.objects.filter(thread=thread, kind=PostKind.REPLY, state=Visibility.VISIBLE)
    accepted = visible.filter(accepted_at__isnull=False).values_list("pk", flat=True).first()
    endorsed = visible.filter(endorsed_at__isnull=False).exists()
    Thread.objects.filter(pk=thread.pk).update(accepted_post_id=accepted, has_endorsed=endorsed)
    thread.accepted_post_id, thread.has_endorsed = accepted, endorsed


# ---- votes, accepted and endorsed answers --------------------------------------------------------


def vote_toggle(*, user, post: Post, now: datetime.datetime | None = None) -> bool:
    """Up-vote a post, or take the vote back. Returns whether the user's vote now stands."""
    check_can_vote(user, post, now=now).require()
    with transaction.atomic():
        deleted, _ = Vote.objects.filter(post=post, user=user).delete()
        if deleted:
            delta = -1
        else:
            try:
                with transaction.atomic():
                    Vote.objects.create(post=post, user=user, created_at=_now(now))
            except IntegrityError:  # a double click raced us: the vote already stands
                return True
            delta = 1
        Post.objects.filter(pk=post.pk).update(vote_score=F("vote_score") + delta)
        if post.kind == PostKind.OPENING:
            Thread.objects.filter(pk=post.thread_id).update(vote_score=F("vote_score") + delta)
    post.refresh_from_db(fields=["vote_score"])
    return delta > 0


def answer_accept(*, actor, post: Post, now: datetime.datetime | None = None) -> bool:
    """Accept an answer (one per question; accepting another moves the mark), or un-accept it.
    Returns whether the post is accepted now."""
    now = _now(now)
    check_can_accept(actor, post).require()
    thread = post.thread
    with transaction.atomic():
        if post.accepted_at:
            Post.objects.filter(pk=post.pk).update(accepted_at=None, accepted_by=None)
            post.accepted_at = None
            _answers_refresh(thread)
            return False
        Post.objects.filter(thread=thread, accepted_at__isnull=False).update(accepted_at=None, accepted_by=None)
        Post.objects.filter(pk=post.pk).update(accepted_at=now, accepted_by=actor)
        post.accepted_at, post.accepted_by = now, actor
        if thread.answered_at is None:
            Thread.objects.filter(pk=thread.pk).update(answered_at=now)
            thread.answered_at = now
        _answers_refresh(thread)
        events.answer_marked(post, actor=actor, how="accepted")
    return True


def answer_endorse(*, actor, post: Post, now: datetime.datetime | None = None) -> bool:
    """Endorse a reply as a mentor or staff member (shown apart from acceptance), or withdraw it."""
    now = _now(now)
    check_can_endorse(actor, post).require()
    thread = post.thread
    with transaction.atomic():
        if post.endorsed_at:
            Post.objects.filter(pk=post.pk).update(endorsed_at=None, endorsed_by=None)
            post.endorsed_at = None
            _answers_refresh(thread)
            return False
        Post.objects.filter(pk=post.pk).update(endorsed_at=now, endorsed_by=actor)
        post.endorsed_at, post.endorsed_by = now, actor
        if thread.answered_at is None and thread.kind == ThreadKind.QUESTION:
            Thread.objects.filter(pk=thread.pk).update(answered_at=now)
            thread.answered_at = now
        _answers_refresh(thread)
        events.answer_marked(post, actor=actor, how="endorsed")
    return True


# ---- following ----------------------------------------------------------------------------------


def follow_set(
    *, user, on: bool, forum: Forum | None = None, topic: Topic | None = None, thread: Thread | None = None
) -> bool:
    """Follow (on=True) or stop following a whole course forum, a topic or a thread."""
    target = {"forum": forum, "topic": topic, "thread": thread}
    chosen = {name: value for name, value in target.items() if value is not None}
    if len(chosen) != 1:
        raise ValueError("Follow exactly one of forum, topic, thread.")
    owner = forum or (topic.forum if topic else thread.forum)
    check_can_follow(user, owner).require()
    if thread is not None and not can_see_thread(user, thread):
        raise ForumError("There is no such thread.", code="not_found")
    if on:
        Follow.objects.get_or_create(user=user, **chosen)
    else:
        Follow.objects.filter(user=user, **chosen).delete()
    return on


# ---- flags and review ---------------------------------------------------------------------------


def flag_create(*, flagger, post: Post, reason: str, note: str = "", now: datetime.datetime | None = None) -> Flag:
    """Flag a post for the moderators (who are notified). Enough open flags hide it pending review:
    FORUM_AUTO_HIDE_FLAGS, or FORUM_HONOUR_CODE_HIDE_FLAGS for a pasted graded solution; one flag from a
    moderator is enough."""
    now = _now(now)
    check_can_flag(flagger, post, now=now).require()
    if reason not in FlagReason.values:
        raise ForumError("Choose why you are flagging this post.")
    note = " ".join((note or "").split())[:500]
    if reason == FlagReason.OTHER and not note:
        raise ForumError("Tell the moderators what is wrong with this post.")
    forum = post.thread.forum
    with transaction.atomic():
        try:
            with transaction.atomic():
                flag = Flag.objects.create(post=post, flagger=flagger, reason=reason, note=note, created_at=now)
        except IntegrityError:
            raise ForumError("You have already flagged this post; a moderator will look at it.") from None
        open_flags = list(post.flags.filter(status=FlagStatus.OPEN).values_list("reason", flat=True))
        hide = (
            is_moderator(flagger, forum)
            or len(open_flags) >= settings.FORUM_AUTO_HIDE_FLAGS
            or open_flags.count(FlagReason.GRADED_SOLUTION) >= settings.FORUM_HONOUR_CODE_HIDE_FLAGS
        )
        if hide and post.state == Visibility.VISIBLE:
            label = FlagReason(reason).label if reason == FlagReason.GRADED_SOLUTION else "flagged by members"
            _set_state(post, Visibility.HIDDEN, actor=None, reason=f"Hidden pending review: {label}", now=now)
        events.post_flagged(flag, hidden=post.state == Visibility.HIDDEN)
    return flag


def _flags_close(post: Post, *, status: str, actor, now) -> int:
    return post.flags.filter(status=FlagStatus.OPEN).update(status=status, resolved_at=now, resolved_by=actor)


def flags_resolve(*, actor, post: Post, uphold: bool, reason: str = "", now: datetime.datetime | None = None) -> None:
    """Review a flagged post: uphold (the post stays hidden, or is hidden now) or dismiss (it is shown)."""
    now = _now(now)
    check_can_moderate(actor, post.thread.forum).require()
    with transaction.atomic():
        if uphold:
            reasons = sorted(
                {
                    FlagReason(r).label
                    for r in post.flags.filter(status=FlagStatus.OPEN).values_list("reason", flat=True)
                }
            )
            text = (reason or "").strip() or (
                "Hidden by a moderator: " + ", ".join(reasons) if reasons else "Hidden by a moderator"
            )
            _flags_close(post, status=FlagStatus.UPHELD, actor=actor, now=now)
            if post.state != Visibility.DELETED:
                _set_state(post, Visibility.HIDDEN, actor=actor, reason=text[:300], now=now)
        else:
            _flags_close(post, status=FlagStatus.DISMISSED, actor=actor, now=now)
            if post.state == Visibility.HIDDEN and post.hidden_reason.startswith("Hidden pending review"):
                _set_state(post, Visibility.VISIBLE, actor=actor, reason="", now=now)


def post_approve(*, actor, post: Post, now: datetime.datetime | None = None) -> None:
    """Let a held post through. Each approval counts towards its author's trust step."""
    now = _now(now)
    check_can_moderate(actor, post.thread.forum).require()
    if post.state != Visibility.PENDING:
        raise ForumError("This post is not waiting for review.")
    with transaction.atomic():
        post.moderated_by = actor
        post.save(update_fields=["moderated_by"])
        handles = rendering.mentioned_handles(post.body)
        mentioned = (
            list(Profile.objects.filter(handle__in=handles).values_list("user_id", flat=True)) if handles else []
        )
        _published(post, mentioned=sorted(mentioned), now=now)
        profile = profile_ensure(post.author)
        Profile.objects.filter(pk=profile.pk).update(approved_posts=F("approved_posts") + 1)
        profile.refresh_from_db()
        if profile.trusted_at is None and trust_reached(post.author, profile.approved_posts, now=now):
            Profile.objects.filter(pk=profile.pk).update(trusted_at=now)


def post_reject(*, actor, post: Post, reason: str, now: datetime.datetime | None = None) -> None:
    check_can_moderate(actor, post.thread.forum).require()
    if post.state != Visibility.PENDING:
        raise ForumError("This post is not waiting for review.")
    if not (reason or "").strip():
        raise ForumError("Say why this post is not approved; its author sees the reason.")
    _set_state(post, Visibility.DELETED, actor=actor, reason=reason.strip()[:300], now=now)


def member_trust(*, actor, forum: Forum, user) -> None:
    """Trust a member now (their posts appear at once), skipping the approved-posts step."""
    check_can_moderate(actor, forum).require()
    profile = profile_ensure(user)
    Profile.objects.filter(pk=profile.pk, trusted_at__isnull=True).update(trusted_at=timezone.now())


# ---- mutes and bans -----------------------------------------------------------------------------

MAX_SANCTION_DAYS = 365


def sanction_create(
    *,
    actor,
    forum: Forum,
    user,
    kind: str,
    days: int,
    reason: str,
    all_forums: bool = False,
    now: datetime.datetime | None = None,
) -> Sanction:
    """Mute (reads, cannot post) or ban (cannot read) a member for a number of days, in this course's
    forum or in all of them. Moderators cannot be sanctioned."""
    now = _now(now)
    check_can_moderate(actor, forum).require()
    if kind not in SanctionKind.values:
        raise ForumError("Choose mute or ban.")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ForumError("Give the number of days.") from None
    if not 1 <= days <= MAX_SANCTION_DAYS:
        raise ForumError(f"A mute or ban lasts from 1 to {MAX_SANCTION_DAYS} days.")
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise ForumError("Say why; the member sees the reason.")
    if user.pk == actor.pk or is_moderator(user, forum):
        raise ForumError("Moderators and staff cannot be muted or banned here.")
    return Sanction.objects.create(
        user=user,
        forum=None if all_forums else forum,
        kind=kind,
        reason=reason,
        starts_at=now,
        ends_at=now + datetime.timedelta(days=days),
        created_by=actor,
    )


def sanction_lift(*, actor, sanction: Sanction, forum: Forum, now: datetime.datetime | None = None) -> None:
    check_can_moderate(actor, forum).require()
    if sanction.lifted_at:
        raise ForumError("This was already lifted.")
    sanction.lifted_at, sanction.lifted_by = _now(now), actor
    sanction.save(update_fields=["lifted_at", "lifted_by"])


# ---- thread moderation --------------------------------------------------------------------------


def thread_pin(*, actor, thread: Thread, pinned: bool) -> None:
    check_can_moderate(actor, thread.forum).require()
    Thread.objects.filter(pk=thread.pk).update(is_pinned=pinned)
    thread.is_pinned = pinned


def thread_close(*, actor, thread: Thread, reason: str, now: datetime.datetime | None = None) -> None:
    check_can_moderate(actor, thread.forum).require()
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise ForumError("Say why the thread is closed; it is shown above the thread.")
    thread.closed_at, thread.closed_by, thread.close_reason = _now(now), actor, reason
    thread.save(update_fields=["closed_at", "closed_by", "close_reason"])


def thread_reopen(*, actor, thread: Thread) -> None:
    check_can_moderate(actor, thread.forum).require()
    thread.closed_at, thread.closed_by, thread.close_reason = None, None, ""
    thread.save(update_fields=["closed_at", "closed_by", "close_reason"])


def thread_move(*, actor, thread: Thread, topic: Topic) -> None:
    """Move a thread to another topic, in this course's forum or another one the actor moderates."""
    check_can_moderate(actor, thread.forum).require()
    check_can_moderate(actor, topic.forum).require()
    if topic.is_archived:
        raise ForumError("That topic is archived.")
    with transaction.atomic():
        if topic.item_id:
            thread.item_id = topic.item_id
        elif topic.forum_id != thread.forum_id:
            thread.item_id = None  # a linked item belongs to the old course
        item = courses.item_facts(thread.item_id) if thread.item_id else None
        thread.forum_id, thread.topic = topic.forum_id, topic
        thread.week_number = topic.week_number or _week_number_of(item)
        thread.save(update_fields=["forum", "topic", "item", "week_number"])


def thread_mark_duplicate(*, actor, thread: Thread, original: Thread, now: datetime.datetime | None = None) -> None:
    """Mark a thread as a duplicate of another: it links there and takes no more replies."""
    check_can_moderate(actor, thread.forum).require()
    if original.pk == thread.pk:
        raise ForumError("A thread cannot duplicate itself.")
    if original.forum_id != thread.forum_id:
        raise ForumError("The original must be in the same course's forum.")
    if original.duplicate_of_id == thread.pk:
        raise ForumError("That thread is already marked as a duplicate of this one.")
    if original.state != Visibility.VISIBLE or original.merged_into_id:
        raise ForumError("The original must be a visible thread.")
    # Point at the original's own original, so duplicates never chain.
    target = original.duplicate_of or original
    thread.duplicate_of, thread.marked_duplicate_at = target, _now(now)
    thread.save(update_fields=["duplicate_of", "marked_duplicate_at"])


def thread_unmark_duplicate(*, actor, thread: Thread) -> None:
    check_can_moderate(actor, thread.forum).require()
    thread.duplicate_of, thread.marked_duplicate_at = None, None
    thread.save(update_fields=["duplicate_of", "marked_duplicate_at"])


def thread_merge(*, actor, source: Thread, target: Thread, now: datetime.datetime | None = None) -> None:
    """Merge `source` into `target`: its opening post and replies become replies of the target (their
    comments, votes and authors kept), its followers follow the target, and the source points there."""
    now = _now(now)
    check_can_moderate(actor, source.forum).require()
    if source.pk == target.pk:
        raise ForumError("A thread cannot be merged into itself.")
    if target.forum_id != source.forum_id:
        raise ForumError("Threads can be merged within one course's forum only.")
    if target.merged_into_id or target.state != Visibility.VISIBLE:
        raise ForumError("Merge into a visible thread that was not merged itself.")
    if source.merged_into_id:
        raise ForumError("This thread was already merged.")
    with transaction.atomic():
        moved = Post.objects.filter(thread=source)
        moved.filter(kind=PostKind.OPENING).update(kind=PostKind.REPLY)
        moved.update(thread=target, accepted_at=None, accepted_by=None)
        for follow in Follow.objects.filter(thread=source):
            Follow.objects.get_or_create(user_id=follow.user_id, thread=target)
        Follow.objects.filter(thread=source).delete()
        # The source keeps a visible stub that points to the target.
        source.merged_into, source.closed_at, source.closed_by = target, now, actor
        source.close_reason = f"Merged into “{target.title}”"
        source.reply_count, source.vote_score, source.accepted_post = 0, 0, None
        source.save(
            update_fields=[
                "merged_into",
                "closed_at",
                "closed_by",
                "close_reason",
                "reply_count",
                "vote_score",
                "accepted_post",
            ]
        )
        Thread.objects.filter(merged_into=source).update(merged_into=target)
        Thread.objects.filter(duplicate_of=source).update(duplicate_of=target)
        earliest = (
            Post.objects.filter(thread=target, state=Visibility.VISIBLE, kind__in=[PostKind.REPLY, PostKind.COMMENT])
            .exclude(author_id=target.author_id)
            .aggregate(earliest=Min("published_at"))["earliest"]
        )
        if earliest and (target.first_response_at is None or earliest < target.first_response_at):
            target.first_response_at = earliest
        target.last_activity_at = max(target.last_activity_at, source.last_activity_at)
        target.save(update_fields=["first_response_at", "last_activity_at"])
        _counts_refresh(target)
        _answers_refresh(target)
        search.reindex_thread(target.pk)
        search.reindex_thread(source.pk)


# ---- loading threads that already happened (the demo pack) --------------------------------------


def thread_import(
    *,
    forum: Forum,
    topic: Topic,
    author,
    title: str,
    body: str,
    created_at: datetime.datetime,
    kind: str = ThreadKind.QUESTION,
    item_id: int | None = None,
    anonymous: bool = False,
) -> Thread:
    """Store a thread written elsewhere (the demo pack's forums.yaml), with its original time. An operator
    action like importing a content pack: no posting rules, no notifications; the same rendering,
    counts and index as a thread posted on the page."""
    title, body = _clean_title(title), _clean_body(body)
    html, _ = _render(body)
    item = courses.item_facts(item_id) if item_id else None
    with transaction.atomic(), events.muted():
        profile_ensure(author)
        thread = Thread.objects.create(
            forum=forum,
            topic=topic,
            kind=kind,
            title=title,
            author=author,
            is_anonymous=anonymous,
            item_id=item_id,
            week_number=topic.week_number or _week_number_of(item),
            created_at=created_at,
            last_activity_at=created_at,
        )
        post = Post.objects.create(
            thread=thread,
            kind=PostKind.OPENING,
            author=author,
            is_anonymous=anonymous,
            body=body,
            body_html=html,
            created_at=created_at,
        )
        Follow.objects.get_or_create(user=author, thread=thread)
        _published(post, mentioned=[], now=created_at)
    return thread


def reply_import(
    *, thread: Thread, author, body: str, created_at: datetime.datetime, parent: Post | None = None, anonymous=False
) -> Post:
    body = _clean_body(body)
    html, _ = _render(body)
    with transaction.atomic(), events.muted():
        profile_ensure(author)
        post = Post.objects.create(
            thread=thread,
            kind=PostKind.COMMENT if parent else PostKind.REPLY,
            parent=parent,
            author=author,
            is_anonymous=anonymous,
            body=body,
            body_html=html,
            created_at=created_at,
        )
        _published(post, mentioned=[], now=created_at)
    return post


def votes_import(*, post: Post, users) -> None:
    with transaction.atomic():
        for user in users:
            if user.pk != post.author_id:
                Vote.objects.get_or_create(post=post, user=user)
        score = post.votes.count()
        Post.objects.filter(pk=post.pk).update(vote_score=score)
        if post.kind == PostKind.OPENING:
            Thread.objects.filter(pk=post.thread_id).update(vote_score=score)


def mark_import(*, post: Post, actor, how: str, at: datetime.datetime) -> None:
    """Accept or endorse an imported answer, at its original time, without notifications."""
    with events.muted():
        if how == "accepted":
            answer_accept(actor=actor, post=post, now=at)
        else:
            answer_endorse(actor=actor, post=post, now=at)


def posts_rerender(*, course_slug: str | None = None, batch: int = 500) -> tuple[int, int]:
    """Render stored posts again (the renderer or sanitiser changed). Returns (changed, total)."""
    rows = Post.objects.order_by("pk")
    if course_slug:
        rows = rows.filter(thread__forum__course_id=courses.course_get(slug=course_slug).pk)
    changed = total = 0
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).only("pk", "body", "body_html")[:batch])
        if not chunk:
            return changed, total
        updates = []
        for post in chunk:
            html, _ = _render(post.body)
            if html != post.body_html:
                post.body_html = html
                updates.append(post)
        Post.objects.bulk_update(updates, ["body_html"])
        changed, total, last = changed + len(updates), total + len(chunk), chunk[-1].pk
