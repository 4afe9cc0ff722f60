"""The access policy: the one place that decides who may see or do what.

Views, templates (through the flags selectors compute with it), the media server, downloads, the
forums and the API all ask these functions; nothing else decides. See ARCHITECTURE.md for the table.

The learner's billing state and completed course ids are read at most once per user object (they
are cached on it), because a course page asks once per item.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum

from django.conf import settings
from django.utils import timezone

from courses.models import Course, Interview, Item

_CACHE_ATTR = "_billing_access_context"


class AccessState(enum.StrEnum):
    ANONYMOUS = "anonymous"
    REGISTERED = "registered"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE_GRACE = "past_due_grace"
    EXPIRED = "expired"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return {
            "anonymous": "Not signed in",
            "registered": "No subscription",
            "trialing": "Free trial",
            "active": "Active",
            "past_due_grace": "Payment overdue",
            "expired": "Canceled or expired",
            "staff": "Staff",
        }[self.value]


# States that open every released course and graded work.
FULL_ACCESS = frozenset({AccessState.TRIALING, AccessState.ACTIVE, AccessState.PAST_DUE_GRACE, AccessState.STAFF})


class AccessDenied(Exception):
    """A learner tried something the policy forbids. The message is written for them."""


@dataclasses.dataclass
class _Context:
    state: AccessState
    subscription: object | None
    _user: object
    _completed: set[int] | None = None

    @property
    def completed_course_ids(self) -> set[int]:
        if self._completed is None:
            from courses.selectors import completed_course_ids

            self._completed = completed_course_ids(user=self._user)
        return self._completed


def subscription_state(subscription, *, now: datetime.datetime) -> AccessState:
    """The state a subscription gives its learner at `now` (pure; no queries)."""
    if subscription is None:
        return AccessState.REGISTERED
    if subscription.is_final:
        return AccessState.EXPIRED
    if subscription.is_trialing(now):
        return AccessState.TRIALING
    period_over = subscription.current_period_end is not None and subscription.current_period_end < now
    if subscription.cancel_at_period_end and period_over:
        # Stripe ends it at the period's end; do not wait for a webhook that may be late.
        return AccessState.EXPIRED
    if subscription.status in ("active", "trialing"):
        return AccessState.ACTIVE
    if subscription.status == "past_due":
        since = subscription.past_due_since or subscription.current_period_start or now
        grace = datetime.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
        return AccessState.PAST_DUE_GRACE if now < since + grace else AccessState.EXPIRED
    if subscription.status in ("unpaid", "paused"):  # paused: the trial ended without a card
        return AccessState.EXPIRED
    # incomplete (never paid) and no trial running: as if never subscribed
    return AccessState.REGISTERED


def _context(user) -> _Context:
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False):
        context = _Context(state=AccessState.ANONYMOUS, subscription=None, _user=user, _completed=set())
    elif user.is_staff:
        context = _Context(state=AccessState.STAFF, subscription=None, _user=user)
    else:
        from billing.selectors import subscription_current

        now = timezone.now()
        subscription = subscription_current(user=user, now=now)
        context = _Context(state=subscription_state(subscription, now=now), subscription=subscription, _user=user)
    try:
        setattr(user, _CACHE_ATTR, context)
    except AttributeError:  # AnonymousUser instances are shared; they are cheap to recompute
        pass
    return context


def forget(user) -> None:
    """Drop the cached state (after a change to this user's subscription or completions)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def access_state(user) -> AccessState:
    return _context(user).state


def has_full_access(user) -> bool:
    return _context(user).state in FULL_ACCESS


def _is_staff(user) -> bool:
    return _context(user).state is AccessState.STAFF


def can_view_course_outline(user, course: Course) -> bool:
    """The course page and syllabus titles are public, including for coming-soon courses."""
    return True


def can_view_item(user, item: Item, *, today=None) -> bool:
    context = _context(user)
    if context.state is AccessState.STAFF:
        return True
    course = item.course
    if not course.is_released(today or timezone.localdate()):
        return False
    if item.is_preview or context.state in FULL_ACCESS:
        return True
    # Completed courses stay open forever, read-only, whatever happened to the subscription.
    return context.state is not AccessState.ANONYMOUS and course.pk in context.completed_course_ids


def can_track_progress(user, item: Item) -> bool:
    return bool(user.is_authenticated) and can_view_item(user, item)


def can_view_interview(user, interview: Interview) -> bool:
    return bool(user.is_authenticated)


def can_submit(user, item: Item, *, today=None) -> bool:
    """Graded work (quizzes, notebooks, peer reviews): trialing, active, past due within grace, staff."""
    context = _context(user)
    if context.state is AccessState.STAFF:
        return True
    return context.state in FULL_ACCESS and item.course.is_released(today or timezone.localdate())


def submit_denied_message(user, item: Item) -> str:
    state = access_state(user)
    if state is AccessState.ANONYMOUS:
        return "Log in to submit your work."
    if not item.course.is_released(timezone.localdate()):
        return "This course has not opened yet."
    if state is AccessState.EXPIRED:
        if item.course_id in _context(user).completed_course_ids:
            return "Your subscription has ended: this completed course stays open to read, but not to submit."
        return "Your subscription has ended. Resubscribe to submit graded work; your progress is kept."
    return "Start your free trial to submit graded work."


def require_can_submit(user, item: Item) -> None:
    if not can_submit(user, item):
        raise AccessDenied(submit_denied_message(user, item))


def can_read_forums(user, *, public: bool = False) -> bool:
    """Anonymous visitors read public forums only; everyone signed in reads all."""
    return public or bool(user.is_authenticated)


def can_post_in_forums(user) -> bool:
    return has_full_access(user)


def can_moderate_forums(user) -> bool:
    return _is_staff(user)


def can_earn_certificate(user, course: Course) -> bool:
    """Earn a new certificate while subscribed; keep the ones of completed courses forever."""
    context = _context(user)
    if context.state in FULL_ACCESS:
        return True
    return context.state is not AccessState.ANONYMOUS and course.pk in context.completed_course_ids


def can_manage_certificates(user) -> bool:
    return _is_staff(user)
