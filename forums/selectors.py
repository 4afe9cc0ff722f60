"""Reads for the forum pages. Each page costs a fixed number of queries, however many posts it shows.

Every name a page shows goes through `author_label`, so anonymity to peers holds in one place: an
anonymous post is "Anonymous learner" to other learners (and mentors), "… (you)" to its author, and
named only to those the access policy lets see anonymous authors (staff).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections import defaultdict

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts import api as accounts
from courses import api as courses

from . import search
from .models import (
    Flag,
    FlagStatus,
    Follow,
    Forum,
    Post,
    PostKind,
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
    Verdict,
    active_sanction,
    can_see_post,
    can_see_thread,
    check_can_post,
    check_can_read,
    check_can_reply,
    is_moderator,
    is_trusted,
    sees_anonymous_authors,
)
from .services import forum_ensure, structure_of

PAGE_SIZE = 20
VECTORS = ("search_vector", "similar_vector")  # never needed on a page; a few KB a row
ANONYMOUS = "Anonymous learner"


# ---- names --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AuthorLabel:
    name: str
    is_anonymous: bool  # anonymous to learners
    is_you: bool
    role: str = ""  # "Staff", "Mentor" (never shown on an anonymous post to learners)
    revealed: bool = False  # the viewer sees who wrote an anonymous post (staff)


def author_label(*, author, is_anonymous: bool, viewer, sees_names: bool) -> AuthorLabel:
    is_you = bool(getattr(viewer, "is_authenticated", False)) and viewer.pk == author.pk
    roles = accounts.roles_of(author)
    role = "Staff" if roles.staff else "Mentor" if roles.mentor else ""
    if not is_anonymous:
        return AuthorLabel(name=accounts.display_name(author), is_anonymous=False, is_you=is_you, role=role)
    if sees_names:
        return AuthorLabel(
            name=accounts.display_name(author), is_anonymous=True, is_you=is_you, role=role, revealed=True
        )
    return AuthorLabel(name=ANONYMOUS, is_anonymous=True, is_you=is_you)


# ---- forums and topics --------------------------------------------------------------------------


def forum_get(*, course_slug: str) -> tuple[Forum, object]:
    """The forum of a course (created, and its topics synced, on first use) and the course."""
    course = courses.course_get(slug=course_slug)
    return forum_ensure(course_id=course.pk), course


@dataclasses.dataclass
class ForumCard:
    course: object
    forum: Forum
    threads: int
    unanswered: int


def forums_index() -> list[ForumCard]:
    spec = courses.specialization_get()
    cards = []
    course_list = list(spec.courses.order_by("order"))
    forums = {course.pk: forum_ensure(course_id=course.pk) for course in course_list}
    counts = {
        row["forum_id"]: row
        for row in Thread.objects.filter(forum__in=forums.values(), state=Visibility.VISIBLE, merged_into__isnull=True)
        .values("forum_id")
        .annotate(
            total=Count("id"),
            unanswered=Count("id", filter=Q(kind=ThreadKind.QUESTION, first_response_at__isnull=True)),
        )
    }
    for course in course_list:
        forum = forums[course.pk]
        row = counts.get(forum.pk, {})
        cards.append(
            ForumCard(course=course, forum=forum, threads=row.get("total", 0), unanswered=row.get("unanswered", 0))
        )
    return cards


def topic_get(*, forum: Forum, slug: str) -> Topic:
    topic = forum.topics.filter(slug=slug).first()
    if topic is None:
        raise Http404("No such topic.")
    return topic


def threads_for(viewer, forum: Forum, *, moderator: bool) -> QuerySet:
    """The threads of a forum a viewer may see in a list: visible ones, their own held or hidden ones,
    and for moderators everything but deleted threads. Merged stubs never."""
    rows = Thread.objects.filter(forum=forum, merged_into__isnull=True).defer(*VECTORS)
    if moderator:
        return rows.exclude(state=Visibility.DELETED)
    own = [Visibility.PENDING, Visibility.HIDDEN]
    if (
        getattr(viewer, "is_authenticated", False)
        and Thread.objects.filter(author_id=viewer.pk, forum=forum, state__in=own).exists()
    ):
        return rows.filter(Q(state=Visibility.VISIBLE) | Q(author_id=viewer.pk, state__in=own))
    # The common case, kept to one condition so the partial listing index serves it.
    return rows.filter(state=Visibility.VISIBLE)


# ---- thread lists -------------------------------------------------------------------------------


@dataclasses.dataclass
class ThreadRow:
    thread: Thread
    author: AuthorLabel
    title_html: str = ""  # with search marks; empty: use the title
    snippet_html: str = ""

    @property
    def answered(self) -> bool:
        return bool(self.thread.accepted_post_id or self.thread.has_endorsed)


@dataclasses.dataclass(frozen=True)
class ListFilters:
    q: str = ""
    week: int | None = None
    item: int | None = None
    unanswered: bool = False
    unaccepted: bool = False
    mine: bool = False
    following: bool = False
    sort: str = "activity"  # activity | newest | votes

    @classmethod
    def from_query(cls, params) -> ListFilters:
        def number(name):
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None

        sort = params.get("sort") or "activity"
        return cls(
            q=" ".join((params.get("q") or "").split())[:200],
            week=number("week"),
            item=number("item"),
            unanswered=params.get("unanswered") == "1",
            unaccepted=params.get("unaccepted") == "1",
            mine=params.get("mine") == "1",
            following=params.get("following") == "1",
            sort=sort if sort in {"activity", "newest", "votes"} else "activity",
        )

    @property
    def active(self) -> bool:
        return any([self.week, self.item, self.unanswered, self.unaccepted, self.mine, self.following])


@dataclasses.dataclass
class ForumPage:
    forum: Forum
    course: object
    topic: Topic | None
    topics: list[Topic]
    weeks: list[int]
    items: list[tuple[int, str]]  # (item id, title) of the course's assignments and lectures, for the filter
    filters: ListFilters
    rows: list[ThreadRow]
    page: int
    pages: int
    total: int
    can_post: Verdict
    moderator: bool
    following_forum: bool
    following_topic: bool
    search: search.SearchResult | None = None
    item_title: str = ""


def _apply_filters(rows: QuerySet, filters: ListFilters, viewer) -> QuerySet:
    if filters.week:
        rows = rows.filter(week_number=filters.week)
    if filters.item:
        rows = rows.filter(item_id=filters.item)
    if filters.unanswered:
        rows = rows.filter(kind=ThreadKind.QUESTION, first_response_at__isnull=True)
    if filters.unaccepted:
        rows = rows.filter(kind=ThreadKind.QUESTION, accepted_post__isnull=True)
    signed_in = getattr(viewer, "is_authenticated", False)
    if filters.mine:
        rows = rows.filter(author_id=viewer.pk) if signed_in else rows.none()
    if filters.following:
        follows = Follow.objects.filter(user_id=viewer.pk, thread=OuterRef("pk")) if signed_in else None
        rows = rows.filter(Exists(follows)) if signed_in else rows.none()
    return rows


def forum_page(*, viewer, forum: Forum, course, topic: Topic | None, filters: ListFilters, page: int = 1) -> ForumPage:
    sanction = active_sanction(viewer, forum)
    check_can_read(viewer, forum, sanction=sanction).require()
    moderator = is_moderator(viewer, forum)
    sees_names = sees_anonymous_authors(viewer, forum)
    rows = threads_for(viewer, forum, moderator=moderator)
    if topic is not None:
        rows = rows.filter(topic=topic)
    rows = _apply_filters(rows, filters, viewer)
    page = max(1, page)
    found: search.SearchResult | None = None
    titles: dict[int, tuple[str, str]] = {}
    if filters.q:
        found = search.search(threads=rows, query=filters.q, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        ids = [hit.thread_id for hit in found.hits]
        titles = {hit.thread_id: (hit.title_html, hit.snippet_html) for hit in found.hits}
        by_id = {t.pk: t for t in Thread.objects.filter(pk__in=ids).select_related("author", "topic").defer(*VECTORS)}
        threads = [by_id[pk] for pk in ids if pk in by_id]
        total = found.total
    else:
        order = {
            "activity": ["-is_pinned", "-last_activity_at", "-pk"],
            "newest": ["-is_pinned", "-created_at", "-pk"],
            "votes": ["-vote_score", "-last_activity_at", "-pk"],
        }[filters.sort]
        total = rows.count()
        start = (page - 1) * PAGE_SIZE
        threads = list(rows.select_related("author", "topic").order_by(*order)[start : start + PAGE_SIZE])
    result_rows = [
        ThreadRow(
            thread=thread,
            author=author_label(
                author=thread.author, is_anonymous=thread.is_anonymous, viewer=viewer, sees_names=sees_names
            ),
            title_html=titles.get(thread.pk, ("", ""))[0],
            snippet_html=titles.get(thread.pk, ("", ""))[1],
        )
        for thread in threads
    ]
    signed_in = getattr(viewer, "is_authenticated", False)
    follows = (
        set(
            Follow.objects.filter(user_id=viewer.pk)
            .filter(Q(forum=forum) | Q(topic=topic) if topic else Q(forum=forum))
            .values_list("forum_id", "topic_id")
        )
        if signed_in
        else set()
    )
    structure = structure_of(forum.course_id)
    items = [(item.item_id, f"Week {week.number} · {item.title}") for week in structure for item in week.items]
    item_title = next((title for item_id, title in items if item_id == filters.item), "")
    return ForumPage(
        forum=forum,
        course=course,
        topic=topic,
        topics=[t for t in forum.topics.all() if not t.is_archived],
        weeks=[week.number for week in structure],
        items=items,
        filters=filters,
        rows=result_rows,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        total=total,
        can_post=check_can_post(viewer, forum, kind="thread", sanction=sanction, rate_limit=False),
        moderator=moderator,
        following_forum=any(forum_id == forum.pk for forum_id, _ in follows),
        following_topic=bool(topic) and any(topic_id == topic.pk for _, topic_id in follows),
        search=found,
        item_title=item_title,
    )


# ---- one thread ---------------------------------------------------------------------------------


@dataclasses.dataclass
class PostView:
    post: Post
    author: AuthorLabel
    is_asker: bool
    voted: bool
    revisions: int
    can_edit: bool
    can_delete: bool
    can_flag: bool
    can_vote: bool
    can_accept: bool
    can_endorse: bool
    can_comment: bool
    endorsed_by: str = ""
    comments: list[PostView] = dataclasses.field(default_factory=list)

    @property
    def state_label(self) -> str:
        return "" if self.post.state == Visibility.VISIBLE else Visibility(self.post.state).label


@dataclasses.dataclass
class ThreadPage:
    thread: Thread
    forum: Forum
    course: object
    opening: PostView
    replies: list[PostView]
    can_reply: Verdict
    moderator: bool
    sees_names: bool
    following: bool
    duplicate_of: Thread | None
    topics: list[Topic]  # where a moderator may move it
    held_note: bool  # the viewer's posts are held for review (shown under the reply box)
    open_flags: int
    item_title: str = ""
    item_url: str = ""


def thread_get(*, thread_id: int) -> Thread:
    thread = Thread.objects.select_related("forum", "topic", "author").defer(*VECTORS).filter(pk=thread_id).first()
    if thread is None:
        raise Http404("No such thread.")
    return thread


def thread_page(*, viewer, thread: Thread, course) -> ThreadPage:
    forum = thread.forum
    if not can_see_thread(viewer, thread):
        raise Http404("No such thread.")
    moderator = is_moderator(viewer, forum)
    sees_names = sees_anonymous_authors(viewer, forum)
    signed_in = getattr(viewer, "is_authenticated", False)
    sanction = active_sanction(viewer, forum) if signed_in else None
    check_can_read(viewer, forum, sanction=sanction).require()
    posts = list(
        Post.objects.filter(thread=thread)
        .select_related("author", "endorsed_by")
        .annotate(revision_count=Count("revisions"))
        .order_by("created_at", "pk")
    )
    posts = [post for post in posts if can_see_post(viewer, post, moderator=moderator)]
    voted = (
        set(Vote.objects.filter(user_id=viewer.pk, post__in=posts).values_list("post_id", flat=True))
        if signed_in
        else set()
    )
    can_reply = check_can_reply(viewer, thread, sanction=sanction, rate_limit=False)
    may_post = bool(signed_in and check_can_post(viewer, forum, sanction=sanction, rate_limit=False))
    is_asker = signed_in and thread.author_id == viewer.pk
    views: dict[int, PostView] = {}
    for post in posts:
        own = signed_in and post.author_id == viewer.pk
        visible = post.state == Visibility.VISIBLE
        views[post.pk] = PostView(
            post=post,
            author=author_label(
                author=post.author, is_anonymous=post.is_anonymous, viewer=viewer, sees_names=sees_names
            ),
            is_asker=post.author_id == thread.author_id and post.kind != PostKind.OPENING,
            voted=post.pk in voted,
            revisions=post.revision_count,
            can_edit=post.state != Visibility.DELETED
            and (moderator or (own and may_post and post.state != Visibility.HIDDEN)),
            can_delete=post.state != Visibility.DELETED and (own or moderator),
            can_flag=signed_in and not own and visible,
            can_vote=signed_in
            and not own
            and visible
            and (may_post or moderator)
            and thread.state == Visibility.VISIBLE,
            can_accept=(
                thread.kind == ThreadKind.QUESTION
                and post.kind == PostKind.REPLY
                and visible
                and not thread.merged_into_id
                and (moderator or (is_asker and not sanction))
            ),
            can_endorse=moderator and post.kind == PostKind.REPLY and visible,
            can_comment=bool(can_reply) and post.kind == PostKind.REPLY and visible,
            endorsed_by=accounts.display_name(post.endorsed_by) if post.endorsed_by_id else "",
        )
    opening = next((view for view in views.values() if view.post.kind == PostKind.OPENING), None)
    if opening is None:
        raise Http404("No such thread.")
    replies = [view for view in views.values() if view.post.kind == PostKind.REPLY]
    for view in views.values():
        if view.post.kind == PostKind.COMMENT and view.post.parent_id in views:
            views[view.post.parent_id].comments.append(view)
    # Accepted first, then endorsed, then the most votes, then the oldest.
    replies.sort(
        key=lambda v: (
            v.post.accepted_at is None,
            v.post.endorsed_at is None,
            -v.post.vote_score,
            v.post.created_at,
            v.post.pk,
        )
    )
    following = signed_in and Follow.objects.filter(user_id=viewer.pk, thread=thread).exists()
    item_title = item_url = ""
    if thread.item_id:
        item = courses.item_get(item_id=thread.item_id)
        item_title, item_url = item.title, item.get_absolute_url()
    open_flags = Flag.objects.filter(post__thread=thread, status=FlagStatus.OPEN).count() if moderator else 0
    return ThreadPage(
        thread=thread,
        forum=forum,
        course=course,
        opening=opening,
        replies=replies,
        can_reply=can_reply,
        moderator=moderator,
        sees_names=sees_names,
        following=following,
        duplicate_of=thread.duplicate_of if thread.duplicate_of_id else None,
        topics=list(Topic.objects.filter(forum=forum, is_archived=False)) if moderator else [],
        held_note=bool(signed_in and can_reply and not moderator and not is_trusted(viewer, forum)),
        open_flags=open_flags,
        item_title=item_title,
        item_url=item_url,
    )


def post_get(*, post_id: int) -> Post:
    post = Post.objects.select_related("thread__forum", "thread__topic", "author", "parent").filter(pk=post_id).first()
    if post is None:
        raise Http404("No such post.")
    return post


def post_for_viewer(*, viewer, post_id: int) -> Post:
    """A post the viewer may see (404 otherwise, never a hint that it exists)."""
    post = post_get(post_id=post_id)
    forum = post.thread.forum
    if not check_can_read(viewer, forum) or not can_see_thread(viewer, post.thread):
        raise Http404("No such post.")
    if not can_see_post(viewer, post, moderator=is_moderator(viewer, forum)):
        raise Http404("No such post.")
    return post


@dataclasses.dataclass
class RevisionView:
    editor: AuthorLabel
    edited_at: datetime.datetime
    title: str
    body_html: str
    reason: str
    by_moderator: bool


def post_history(*, viewer, post: Post) -> list[RevisionView]:
    """The earlier versions of a post, newest first, rendered as they were."""
    from . import rendering

    sees_names = sees_anonymous_authors(viewer, post.thread.forum)
    rows = post.revisions.select_related("editor")
    return [
        RevisionView(
            editor=author_label(
                author=rev.editor,
                is_anonymous=post.is_anonymous and rev.editor_id == post.author_id,
                viewer=viewer,
                sees_names=sees_names,
            ),
            edited_at=rev.edited_at,
            title=rev.title,
            body_html=rendering.render(rev.body),
            reason=rev.reason,
            by_moderator=rev.by_moderator,
        )
        for rev in rows
    ]


# ---- the ask page and the suggestion box --------------------------------------------------------


@dataclasses.dataclass
class Suggestion:
    thread: Thread
    score: float
    answered: bool


def suggestions(*, viewer, forum: Forum, title: str, body: str = "", limit: int = 5) -> list[Suggestion]:
    pairs = similar_for(viewer=viewer, forum=forum, title=title, body=body, limit=limit)
    by_id = {t.pk: t for t in Thread.objects.filter(pk__in=[pk for pk, _ in pairs])}
    return [
        Suggestion(thread=by_id[pk], score=score, answered=bool(by_id[pk].accepted_post_id or by_id[pk].has_endorsed))
        for pk, score in pairs
        if pk in by_id
    ]


def similar_for(*, viewer, forum: Forum, title: str, body: str = "", limit: int = 5) -> list[tuple[int, float]]:
    """What the suggestion box shows: visible, unmerged threads that are not themselves duplicates,
    in a forum the viewer may read."""
    if not check_can_read(viewer, forum):
        return []
    threads = Thread.objects.filter(
        forum=forum, state=Visibility.VISIBLE, merged_into__isnull=True, duplicate_of__isnull=True
    )
    return search.similar(threads=threads, title=title, body=body, limit=limit)


@dataclasses.dataclass
class AskPage:
    forum: Forum
    course: object
    topics: list[Topic]
    topic: Topic | None
    item_id: int | None
    item_title: str
    can_post: Verdict
    held: bool  # the viewer's first posts are held for review


def ask_page(*, viewer, forum: Forum, course, topic_slug: str = "", item_id: int | None = None) -> AskPage:
    topics = [t for t in forum.topics.all() if not t.is_archived]
    topic = next((t for t in topics if t.slug == topic_slug), None)
    item_title = ""
    if item_id:
        try:
            item = courses.item_facts(item_id)
        except Http404:
            item = None
        if item is None or item.course.course_id != forum.course_id:
            item_id = None
        else:
            item_title = item.title
            if topic is None:
                topic = next((t for t in topics if t.item_id == item_id), None)
    can_post = check_can_post(viewer, forum, kind="thread")
    held = bool(getattr(viewer, "is_authenticated", False)) and not is_trusted(viewer, forum)
    return AskPage(
        forum=forum,
        course=course,
        topics=topics,
        topic=topic,
        item_id=item_id,
        item_title=item_title,
        can_post=can_post,
        held=held,
    )


# ---- item pages ---------------------------------------------------------------------------------


@dataclasses.dataclass
class ItemPanel:
    course_slug: str
    item_id: int
    item_kind: str
    rows: list[ThreadRow]
    total: int
    can_post: Verdict


def item_panel(
    *, viewer, course_id: int, course_slug: str, item_id: int, item_kind: str, limit: int = 5
) -> ItemPanel | None:
    """Questions linked to one lecture, reading, quiz or assignment, unanswered first, then the latest;
    None when the viewer may not read the course's forum. Every item page of every app shows it, so it
    costs three queries (the member's sanctions, the threads, the posting decision's course facts) and
    never creates the forum: an item whose course has no forum yet simply has no questions."""
    signed_in = getattr(viewer, "is_authenticated", False)
    sanction = None
    if signed_in:
        now = _now()
        sanctions = Sanction.objects.filter(
            Q(forum__isnull=True) | Q(forum__course_id=course_id),
            user_id=viewer.pk,
            lifted_at__isnull=True,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        found = sorted(sanctions, key=lambda s: (s.kind != SanctionKind.BAN, -s.ends_at.timestamp()))
        sanction = found[0] if found else None
        if sanction and sanction.kind == SanctionKind.BAN:
            return None
    elif not Forum.objects.filter(course_id=course_id, is_public=True).exists():
        return None  # visitors read only public forums
    rows = Thread.objects.filter(
        forum__course_id=course_id, item_id=item_id, state=Visibility.VISIBLE, merged_into__isnull=True
    ).defer(*VECTORS)
    threads = list(
        rows.annotate(waiting=Q(kind=ThreadKind.QUESTION, first_response_at__isnull=True)).order_by(
            "-waiting", "-last_activity_at", "-pk"
        )[:limit]
    )
    total = rows.count() if len(threads) == limit else len(threads)
    forum_stub = Forum(course_id=course_id)  # the rules need only the course
    return ItemPanel(
        course_slug=course_slug,
        item_id=item_id,
        item_kind=item_kind,
        rows=[ThreadRow(thread=t, author=AuthorLabel(name="", is_anonymous=True, is_you=False)) for t in threads],
        total=total,
        can_post=check_can_post(viewer, forum_stub, kind="thread", sanction=sanction, rate_limit=False),
    )


# ---- moderation ---------------------------------------------------------------------------------


@dataclasses.dataclass
class FlaggedPost:
    post: Post
    author: AuthorLabel
    flags: list[Flag]


@dataclasses.dataclass
class ReviewPage:
    forum: Forum
    course: object
    held: list[tuple[Post, AuthorLabel]]
    flagged: list[FlaggedPost]
    sanctions: list[Sanction]
    sees_names: bool


def review_page(*, viewer, forum: Forum, course) -> ReviewPage:
    sees_names = sees_anonymous_authors(viewer, forum)

    def label(post):
        return author_label(author=post.author, is_anonymous=post.is_anonymous, viewer=viewer, sees_names=sees_names)

    held = list(
        Post.objects.filter(thread__forum=forum, state=Visibility.PENDING)
        .select_related("author", "thread")
        .order_by("created_at")[:100]
    )
    flags = list(
        Flag.objects.filter(post__thread__forum=forum, status=FlagStatus.OPEN)
        .select_related("post__author", "post__thread", "flagger")
        .order_by("created_at")[:300]
    )
    grouped: dict[int, FlaggedPost] = {}
    for flag in flags:
        entry = grouped.setdefault(flag.post_id, FlaggedPost(post=flag.post, author=label(flag.post), flags=[]))
        entry.flags.append(flag)
    sanctions = list(
        Sanction.objects.filter(Q(forum=forum) | Q(forum__isnull=True), lifted_at__isnull=True)
        .select_related("user", "created_by")
        .order_by("ends_at")[:200]
    )
    return ReviewPage(
        forum=forum,
        course=course,
        held=[(post, label(post)) for post in held],
        flagged=list(grouped.values()),
        sanctions=[s for s in sanctions if s.ends_at > _now()],
        sees_names=sees_names,
    )


def _now():
    from django.utils import timezone

    return timezone.now()


@dataclasses.dataclass
class QueueRow:
    thread: Thread
    author: AuthorLabel
    age_hours: float


def unanswered_queue(
    *, viewer, forum: Forum, week: int | None = None, item: int | None = None, limit: int = 50
) -> list[QueueRow]:
    """Questions nobody but the asker has answered, oldest first (the staff queue)."""
    sees_names = sees_anonymous_authors(viewer, forum)
    rows = Thread.objects.filter(
        forum=forum,
        kind=ThreadKind.QUESTION,
        state=Visibility.VISIBLE,
        first_response_at__isnull=True,
        merged_into__isnull=True,
        duplicate_of__isnull=True,
        closed_at__isnull=True,
    )
    if week:
        rows = rows.filter(week_number=week)
    if item:
        rows = rows.filter(item_id=item)
    now = _now()
    return [
        QueueRow(
            thread=t,
            author=author_label(author=t.author, is_anonymous=t.is_anonymous, viewer=viewer, sees_names=sees_names),
            age_hours=(now - t.created_at).total_seconds() / 3600,
        )
        for t in rows.select_related("author", "topic").order_by("created_at", "pk")[:limit]
    ]


def member_handle(user) -> str:
    profile = Profile.objects.filter(user_id=user.pk).first()
    return profile.handle if profile else ""


def topics_with_counts(forum: Forum) -> list[tuple[Topic, int]]:
    counts = defaultdict(int)
    for row in (
        Thread.objects.filter(forum=forum, state=Visibility.VISIBLE, merged_into__isnull=True)
        .values("topic_id")
        .annotate(n=Count("id"))
    ):
        counts[row["topic_id"]] = row["n"]
    return [(topic, counts[topic.pk]) for topic in forum.topics.filter(is_archived=False)]


__all__ = ["ANONYMOUS", "PAGE_SIZE", "TopicKind"]
