"""The forum's own rules, one `check_*` function each, asked after the access policy said yes.

Who may read, post, moderate or endorse at all (subscriptions, roles, course release) is the access
app's decision (access.api); a check here starts by asking it and never re-implements it. What the
forum adds is its own state: mutes and bans, a closed or duplicate thread, posting rate limits, and
the trust step that holds a new account's posts for review. Pages that explain a refusal and the
services that enforce it call the same function, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
import datetime
import math

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from access import api as access

from .models import Flag, Forum, Post, PostKind, Profile, Sanction, SanctionKind, Thread, ThreadKind, Visibility


class ForumError(Exception):
    """Something a user tried that the forum refuses; str() is the sentence written for them."""

    def __init__(self, message: str, *, code: str = "invalid", retry_after: int | None = None):
        self.code = code
        self.retry_after = retry_after  # rate_limited: seconds until the next action is allowed
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Truthy when allowed; otherwise `message` is one sentence for the person refused."""

    allowed: bool
    message: str = ""
    code: str = "allowed"
    retry_after: int | None = None

    def __bool__(self) -> bool:
        return self.allowed

    def require(self) -> None:
        if not self.allowed:
            raise ForumError(self.message, code=self.code, retry_after=self.retry_after)


OK = Verdict(True)


def refuse(code: str, message: str, *, retry_after: int | None = None) -> Verdict:
    return Verdict(False, message, code, retry_after)


def _from_decision(decision) -> Verdict:
    return OK if decision else refuse(str(decision.reason), decision.message)


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


# ---- who is a moderator, who sees names ---------------------------------------------------------


def is_moderator(user, forum: Forum) -> bool:
    return _signed_in(user) and bool(access.can_moderate_forum(user, course_id=forum.course_id))


def sees_anonymous_authors(user, forum: Forum) -> bool:
    return _signed_in(user) and bool(access.can_see_anonymous_authors(user, course_id=forum.course_id))


# ---- sanctions ----------------------------------------------------------------------------------


def active_sanction(user, forum: Forum, *, now: datetime.datetime | None = None) -> Sanction | None:
    """The strongest mute or ban in force for this user in this forum (a ban before a mute)."""
    if not _signed_in(user):
        return None
    now = _now(now)
    rows = Sanction.objects.filter(
        Q(forum=forum) | Q(forum__isnull=True),
        user_id=user.pk,
        lifted_at__isnull=True,
        starts_at__lte=now,
        ends_at__gt=now,
    )
    found = sorted(rows, key=lambda s: (s.kind != SanctionKind.BAN, -s.ends_at.timestamp()))
    return found[0] if found else None


def _sanction_verdict(sanction: Sanction) -> Verdict:
    until = timezone.localtime(sanction.ends_at)
    when = f"{until.day} {until:%B %Y, %H:%M} {until.tzname()}"
    if sanction.kind == SanctionKind.BAN:
        return refuse("banned", f"You are banned from this forum until {when}: {sanction.reason}")
    return refuse("muted", f"You are muted in this forum until {when}: {sanction.reason}. You can still read it.")


# ---- reading -------------------------------------------------------------------------------------


_LOOK_UP = object()  # "find the member's sanction", as opposed to a sanction (or None) a page looked up


def check_can_read(user, forum: Forum, *, now: datetime.datetime | None = None, sanction=_LOOK_UP) -> Verdict:
    """The access policy (signed in, or a public forum), then no ban in force. A page that already
    looked up the member's sanction passes it."""
    verdict = _from_decision(access.can_read_forum(user, course_id=forum.course_id, public=forum.is_public))
    if not verdict:
        return verdict
    if sanction is _LOOK_UP:
        sanction = active_sanction(user, forum, now=now)
    if sanction and sanction.kind == SanctionKind.BAN:
        return _sanction_verdict(sanction)
    return OK


def can_see_thread(user, thread: Thread) -> bool:
    """Beyond reading the forum: a held thread is its author's and the moderators'; a hidden or deleted
    one the moderators' (and a hidden one its author's, with the reason)."""
    if thread.state == Visibility.VISIBLE:
        return True
    if not _signed_in(user):
        return False
    if is_moderator(user, thread.forum):
        return True
    return thread.author_id == user.pk and thread.state in (Visibility.PENDING, Visibility.HIDDEN)


def can_see_post(user, post: Post, *, moderator: bool) -> bool:
    if post.state == Visibility.VISIBLE or moderator:
        return True
    return _signed_in(user) and post.author_id == user.pk and post.state in (Visibility.PENDING, Visibility.HIDDEN)


# ---- posting -------------------------------------------------------------------------------------

RATE_LIMIT_WORDS = {"thread": "new threads", "post": "posts", "flag": "flags"}


def check_rate_limit(user, kind: str, *, forum: Forum, now: datetime.datetime | None = None) -> Verdict:
    """At most FORUM_RATE_LIMITS[kind] = (count, seconds) actions per rolling window; moderators are not
    limited. Counted from the stored rows, so it holds across processes and restarts."""
    limits = settings.FORUM_RATE_LIMITS.get(kind)
    if not limits or not _signed_in(user) or is_moderator(user, forum):
        return OK
    count, seconds = limits
    since = _now(now) - datetime.timedelta(seconds=seconds)
    if kind == "thread":
        rows = Post.objects.filter(author_id=user.pk, kind=PostKind.OPENING, created_at__gt=since)
    elif kind == "flag":
        rows = Flag.objects.filter(flagger_id=user.pk, created_at__gt=since)
    else:
        rows = Post.objects.filter(author_id=user.pk, created_at__gt=since)
    used = rows.count()
    if used >= count:
        window = (
            f"{seconds // 3600} hour{'s' if seconds >= 7200 else ''}" if seconds >= 3600 else f"{seconds // 60} minutes"
        )
        # The next action is allowed when the oldest one in the window leaves it.
        oldest = rows.order_by("created_at").values_list("created_at", flat=True).first()
        wait = math.ceil((oldest - since).total_seconds()) if oldest else seconds
        return refuse(
            "rate_limited",
            f"You have reached the limit of {count} {RATE_LIMIT_WORDS.get(kind, kind)} in {window}. "
            "Please wait a little before posting again.",
            retry_after=max(1, wait),
        )
    return OK


def check_can_post(
    user,
    forum: Forum,
    *,
    kind: str = "post",
    now: datetime.datetime | None = None,
    sanction=_LOOK_UP,
    rate_limit: bool = True,
) -> Verdict:
    """Start a thread (kind="thread") or reply, comment or edit (kind="post"): the access policy, then
    this forum's mutes and bans, then the rate limit. A page that already looked up the member's
    sanction passes it; a page deciding whether to show a button may skip the rate limit, which the
    service enforces when the button is used."""
    verdict = _from_decision(access.can_post_in_forum(user, course_id=forum.course_id))
    if not verdict:
        return verdict
    if sanction is _LOOK_UP:
        sanction = active_sanction(user, forum, now=now)
    if sanction:
        return _sanction_verdict(sanction)
    return check_rate_limit(user, kind, forum=forum, now=now) if rate_limit else OK


def check_thread_open(thread: Thread) -> Verdict:
    if thread.merged_into_id:
        return refuse("merged", "This thread was merged into another one: reply there.")
    if thread.duplicate_of_id:
        return refuse("duplicate", "This question is a duplicate of another one: reply there.")
    if thread.closed_at:
        reason = f": {thread.close_reason}" if thread.close_reason else "."
        return refuse("closed", f"This thread is closed{reason}")
    if thread.state not in (Visibility.VISIBLE,):
        return refuse("not_visible", "This thread is not open for replies.")
    return OK


def check_can_reply(user, thread: Thread, *, now: datetime.datetime | None = None, **post_options) -> Verdict:
    """Reply or comment: the thread must be open (moderators may still add a note to a closed thread,
    never to a merged or duplicate one, whose answers belong elsewhere), then check_can_post."""
    verdict = check_thread_open(thread)
    if not verdict:
        closed_only = thread.closed_at and not thread.merged_into_id and not thread.duplicate_of_id
        if not (closed_only and thread.state == Visibility.VISIBLE and is_moderator(user, thread.forum)):
            return verdict
    return check_can_post(user, thread.forum, now=now, **post_options)


def check_can_vote(user, post: Post, *, now: datetime.datetime | None = None) -> Verdict:
    if not _signed_in(user):
        return refuse("sign_in", "Log in to vote.")
    if post.author_id == user.pk:
        return refuse("own_post", "You cannot vote for your own post.")
    if post.state != Visibility.VISIBLE or post.thread.state != Visibility.VISIBLE:
        return refuse("not_visible", "This post cannot be voted on.")
    verdict = _from_decision(access.can_post_in_forum(user, course_id=post.thread.forum.course_id))
    if not verdict:
        return verdict
    sanction = active_sanction(user, post.thread.forum, now=now)
    if sanction and sanction.kind == SanctionKind.BAN:
        return _sanction_verdict(sanction)
    return OK


def check_can_edit(user, post: Post, *, now: datetime.datetime | None = None) -> Verdict:
    if not _signed_in(user):
        return refuse("sign_in", "Log in to edit.")
    if post.state == Visibility.DELETED:
        return refuse("deleted", "This post was deleted.")
    if is_moderator(user, post.thread.forum):
        return OK
    if post.author_id != user.pk:
        return refuse("not_yours", "Only its author or a moderator can edit a post.")
    if post.state == Visibility.HIDDEN:
        return refuse("hidden", "A moderator hid this post; it cannot be edited now.")
    if post.thread.merged_into_id:
        return refuse("merged", "This thread was merged into another one.")
    verdict = _from_decision(access.can_post_in_forum(user, course_id=post.thread.forum.course_id))
    if not verdict:
        return verdict
    sanction = active_sanction(user, post.thread.forum, now=now)
    return _sanction_verdict(sanction) if sanction else OK


def check_can_delete(user, post: Post) -> Verdict:
    if not _signed_in(user):
        return refuse("sign_in", "Log in first.")
    if post.state == Visibility.DELETED:
        return refuse("deleted", "This post was already deleted.")
    if post.author_id == user.pk or is_moderator(user, post.thread.forum):
        return OK
    return refuse("not_yours", "Only its author or a moderator can delete a post.")


def check_can_accept(user, post: Post) -> Verdict:
    """Accept an answer: the asker, mentors or staff; replies to questions only."""
    thread = post.thread
    if not _signed_in(user):
        return refuse("sign_in", "Log in first.")
    if thread.kind != ThreadKind.QUESTION:
        return refuse("not_question", "Only answers to questions can be accepted.")
    if post.kind != PostKind.REPLY or post.state != Visibility.VISIBLE:
        return refuse("not_answer", "Only a visible answer can be accepted.")
    if thread.merged_into_id:
        return refuse("merged", "This thread was merged into another one.")
    if is_moderator(user, thread.forum):
        return OK
    if thread.author_id != user.pk:
        return refuse("not_asker", "Only the person who asked, a mentor or staff can accept an answer.")
    sanction = active_sanction(user, thread.forum)
    return _sanction_verdict(sanction) if sanction else OK


def check_can_endorse(user, post: Post) -> Verdict:
    if post.kind != PostKind.REPLY or post.state != Visibility.VISIBLE:
        return refuse("not_answer", "Only a visible reply can be endorsed.")
    return _from_decision(access.can_endorse(user, course_id=post.thread.forum.course_id))


def check_can_moderate(user, forum: Forum) -> Verdict:
    return _from_decision(access.can_moderate_forum(user, course_id=forum.course_id))


def check_can_flag(user, post: Post, *, now: datetime.datetime | None = None) -> Verdict:
    if not _signed_in(user):
        return refuse("sign_in", "Log in to flag a post.")
    if post.author_id == user.pk:
        return refuse("own_post", "You cannot flag your own post.")
    verdict = check_can_read(user, post.thread.forum, now=now)
    if not verdict:
        return verdict
    if Flag.objects.filter(post=post, flagger_id=user.pk).exists():
        return refuse("already_flagged", "You have already flagged this post; a moderator will look at it.")
    return check_rate_limit(user, "flag", forum=post.thread.forum, now=now)


def check_can_follow(user, forum: Forum) -> Verdict:
    if not _signed_in(user):
        return refuse("sign_in", "Log in to follow.")
    return check_can_read(user, forum)


# ---- the trust step ------------------------------------------------------------------------------


def is_trusted(user, forum: Forum, *, now: datetime.datetime | None = None) -> bool:
    """A member's posts appear at once when they are trusted: moderators always; others once they have
    FORUM_TRUST_APPROVED_POSTS posts approved by a moderator and an account FORUM_TRUST_MIN_DAYS old.
    Until then each post is held for review."""
    if is_moderator(user, forum):
        return True
    profile = Profile.objects.filter(user_id=user.pk).only("trusted_at", "approved_posts").first()
    if profile and profile.trusted_at:
        return True
    return trust_reached(user, profile.approved_posts if profile else 0, now=now)


def trust_reached(user, approved_posts: int, *, now: datetime.datetime | None = None) -> bool:
    old_enough = user.date_joined <= _now(now) - datetime.timedelta(days=settings.FORUM_TRUST_MIN_DAYS)
    return old_enough and approved_posts >= settings.FORUM_TRUST_APPROVED_POSTS


HELD_MESSAGE = (
    "Thanks! Posts from new members are checked by a moderator before others see them; yours will appear "
    "as soon as it is approved."
)
