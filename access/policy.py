"""The access policy: who may view, download, submit, take a quiz, read or post in a forum, review a
peer, earn or revoke a certificate, or manage. See ARCHITECTURE.md for the table and
access/docs/decisions/0001-one-access-module.md for why it lives here.

Facts come from the apps below: billing says what the learner's subscription gives at this instant,
courses says what an item is, when its course opens and which courses the learner completed, accounts
says which roles a user holds. Nothing here writes, and nothing below imports this module.

A course page asks once per item, so the facts about a user are read at most once per user object
(cached on it; `forget(user)` after a change in the same request).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum

from django.utils import timezone

from accounts import api as accounts_api
from billing import api as billing_api
from courses import api as courses_api

from .decisions import ALLOW, Decision, Reason, deny, granted

_CACHE_ATTR = "_access_facts"


class AccessState(enum.StrEnum):
    """The learner's standing, from their subscription and their account."""

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

_FROM_SUBSCRIPTION = {
    billing_api.SubscriptionState.NONE: AccessState.REGISTERED,
    billing_api.SubscriptionState.TRIALING: AccessState.TRIALING,
    billing_api.SubscriptionState.ACTIVE: AccessState.ACTIVE,
    billing_api.SubscriptionState.PAST_DUE_GRACE: AccessState.PAST_DUE_GRACE,
    billing_api.SubscriptionState.ENDED: AccessState.EXPIRED,
}


@dataclasses.dataclass
class _Facts:
    state: AccessState
    user_id: int | None
    _completed: set[int] | None = None
    _complimentary: billing_api.ComplimentaryAccess | None = None

    @property
    def completed_course_ids(self) -> set[int]:
        if self._completed is None:
            self._completed = courses_api.completed_course_ids(user_id=self.user_id) if self.user_id else set()
        return self._completed

    def granted_until(self, course_id: int) -> datetime.date | None:
        """The last day a complimentary grant opens this course (read once, only when asked)."""
        if self.user_id is None:
            return None
        if self._complimentary is None:
            self._complimentary = billing_api.complimentary_access_of(user_id=self.user_id, today=timezone.localdate())
        return self._complimentary.until_for(course_id)


def _facts(user) -> _Facts:
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False):
        facts = _Facts(state=AccessState.ANONYMOUS, user_id=None, _completed=set())
    elif user.is_staff:
        facts = _Facts(state=AccessState.STAFF, user_id=user.pk)
    else:
        state = billing_api.subscription_state_of(user=user, now=timezone.now())
        facts = _Facts(state=_FROM_SUBSCRIPTION[state], user_id=user.pk)
    try:
        setattr(user, _CACHE_ATTR, facts)
    except AttributeError:  # AnonymousUser instances are shared; they are cheap to recompute
        pass
    return facts


def forget(user) -> None:
    """Drop what was read about this user (after their subscription or completions changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def access_state(user) -> AccessState:
    return _facts(user).state


def has_full_access(user) -> bool:
    """Subscribed (trialing, active, or a failed payment within its grace days), or staff."""
    return _facts(user).state in FULL_ACCESS


def is_staff(user) -> bool:
    return _facts(user).state is AccessState.STAFF


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _not_released(course: courses_api.CourseFacts) -> Decision:
    if course.release_date is None:
        return deny(Reason.NOT_RELEASED, f"{course.title} has not opened yet.")
    return deny(
        Reason.NOT_RELEASED,
        f"{course.title} opens on {course.release_date.day} {course.release_date:%B %Y}.",
        opens_on=course.release_date,
    )


# ---- course material ------------------------------------------------------------------------------


def can_view_item(user, item, *, today: datetime.date | None = None) -> Decision:
    """Lectures, readings, quizzes, assignments, their videos, captions and downloads."""
    facts = _facts(user)
    if facts.state is AccessState.STAFF:
        return ALLOW
    item = courses_api.item_facts(item)
    if not item.course.is_released(_today(today)):
        return _not_released(item.course)
    if item.is_preview or facts.state in FULL_ACCESS:
        return ALLOW
    # Completed courses stay open forever, read-only, whatever happened to the subscription.
    if facts.state is not AccessState.ANONYMOUS and item.course.course_id in facts.completed_course_ids:
        return ALLOW
    return _by_grant(facts, item.course.course_id, today) or _locked(facts)


def _by_grant(facts: _Facts, course_id: int, today: datetime.date | None) -> Decision | None:
    """Complimentary access (financial aid, staff, partners) opens a course like a subscription, to its date."""
    until = facts.granted_until(course_id)
    if until is not None and _today(today) <= until:
        return granted(until)
    return None


def _locked(facts: _Facts) -> Decision:
    if facts.state is AccessState.ANONYMOUS:
        return deny(Reason.SIGN_IN, "Log in or create an account to continue.")
    if facts.state is AccessState.EXPIRED:
        return deny(Reason.ACCESS_ENDED, "Your subscription has ended. Resubscribe to continue: your progress is kept.")
    return deny(Reason.NEEDS_SUBSCRIPTION, "Start your free trial to open every lecture, reading, quiz and notebook.")


def can_download(user, item, *, today: datetime.date | None = None) -> Decision:
    """A notebook or other file of an item: the same rule as viewing it."""
    return can_view_item(user, item, today=today)


def can_track_progress(user, item) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(Reason.SIGN_IN, "Log in to save your progress.")
    return can_view_item(user, item)


def can_download_course_archive(user, *, course_id: int) -> Decision:
    """The course to keep (readings, transcripts, notebooks, one's own submissions and feedback): for
    every course the learner completed, forever, whatever happened to their subscription."""
    facts = _facts(user)
    if facts.state is AccessState.ANONYMOUS:
        return deny(Reason.SIGN_IN, "Log in to download your courses.")
    if facts.state is AccessState.STAFF or course_id in facts.completed_course_ids:
        return ALLOW
    return deny(Reason.NOT_COMPLETED, "Complete the course to download it: it is yours to keep from then on.")


def can_view_interview(user) -> Decision:
    """Heroes of Deep Learning: every signed-in learner."""
    if not getattr(user, "is_authenticated", False):
        return deny(Reason.SIGN_IN, "Log in to watch the interviews.")
    return ALLOW


# ---- graded work ----------------------------------------------------------------------------------


def can_submit(user, item, *, today: datetime.date | None = None) -> Decision:
    """Graded work (quizzes, notebooks, peer reviews): trialing, active, past due within grace, staff."""
    facts = _facts(user)
    if facts.state is AccessState.STAFF:
        return ALLOW
    item = courses_api.item_facts(item)
    if facts.state is AccessState.ANONYMOUS:
        return deny(Reason.SIGN_IN, "Log in to submit your work.")
    if not item.course.is_released(_today(today)):
        return _not_released(item.course)
    if facts.state in FULL_ACCESS:
        return ALLOW
    by_grant = _by_grant(facts, item.course.course_id, today)
    if by_grant is not None:
        return by_grant
    if facts.state is AccessState.EXPIRED:
        if item.course.course_id in facts.completed_course_ids:
            return deny(
                Reason.COMPLETED_READ_ONLY,
                "Your subscription has ended: this completed course stays open to read, but not to submit.",
            )
        return deny(
            Reason.ACCESS_ENDED,
            "Your subscription has ended. Resubscribe to submit graded work; your progress is kept.",
        )
    return deny(Reason.NEEDS_SUBSCRIPTION, "Start your free trial to submit graded work.")


def can_take_quiz(user, item, *, today: datetime.date | None = None) -> Decision:
    """Start a quiz attempt, see its questions and answer them: the graded-work rule, asked again on
    every page of an attempt, so one started while subscribed closes when access ends."""
    return can_submit(user, item, today=today)


def can_review_peer(user, item, *, today: datetime.date | None = None) -> Decision:
    """Review another learner's peer-graded work: what may submit graded work may review, and the
    peer-reviewer role reviews without a subscription."""
    if getattr(user, "is_authenticated", False) and accounts_api.roles_of(user).peer_reviewer:
        facts = courses_api.item_facts(item)
        return ALLOW if facts.course.is_released(_today(today)) else _not_released(facts.course)
    return can_submit(user, item, today=today)


def can_manage_peer_review(user, *, course_id: int | None = None) -> Decision:
    """The staff side of peer review: the staff queue, overrides, discarding reviews, resolving
    disputes, the dashboard and its CSV export."""
    return ALLOW if is_staff(user) else deny(Reason.STAFF_ONLY, "Only staff grade from the queue and override grades.")


def can_review_without_submitting(user) -> Decision:
    """Peer reviewers (the role) and staff review without having submitted the work themselves and
    without the training step; learners first submit and train."""
    if is_staff(user) or (getattr(user, "is_authenticated", False) and accounts_api.roles_of(user).peer_reviewer):
        return ALLOW
    return deny(Reason.ROLE_REQUIRED, "Submit your own work first: then you can review your peers.")


def can_see_peer_identities(user) -> Decision:
    """Who wrote a submission and who reviewed it: staff only. Peer review is anonymous both ways."""
    return ALLOW if is_staff(user) else deny(Reason.STAFF_ONLY, "Peer review is anonymous to everyone but staff.")


def can_view_submission(user, *, owner_id: int) -> Decision:
    """A learner's own submissions and feedback, forever; staff see everyone's."""
    if not getattr(user, "is_authenticated", False):
        return deny(Reason.SIGN_IN, "Log in to see your submissions.")
    if user.pk == owner_id or is_staff(user):
        return ALLOW
    return deny(Reason.NOT_YOURS, "This is not your submission.")


# ---- forums ---------------------------------------------------------------------------------------


def can_read_forum(user, *, course_id: int, public: bool = False) -> Decision:
    """Every signed-in learner reads every course forum, whatever their subscription; visitors read
    only what is marked public."""
    if public or getattr(user, "is_authenticated", False):
        return ALLOW
    return deny(Reason.SIGN_IN, "Log in to read the course forums.")


def can_post_in_forum(user, *, course_id: int, today: datetime.date | None = None) -> Decision:
    """Ask, reply, comment and vote: subscribed learners and staff, in courses that have opened."""
    facts = _facts(user)
    if facts.state is AccessState.STAFF:
        return ALLOW
    if facts.state is AccessState.ANONYMOUS:
        return deny(Reason.SIGN_IN, "Log in to post in the forums.")
    course = courses_api.course_facts(course_id=course_id)
    if not course.is_released(_today(today)):
        return _not_released(course)
    if facts.state in FULL_ACCESS or accounts_api.roles_of(user).mentor:
        return ALLOW
    by_grant = _by_grant(facts, course_id, today)
    if by_grant is not None:
        return by_grant
    if facts.state is AccessState.EXPIRED:
        return deny(Reason.ACCESS_ENDED, "Your subscription has ended: you can still read the forums, not post.")
    return deny(Reason.NEEDS_SUBSCRIPTION, "Start your free trial to post in the forums.")


def can_moderate_forum(user, *, course_id: int) -> Decision:
    """Hide, delete, pin, close, move, merge, mark duplicates, review flags: staff and mentors."""
    if is_staff(user) or (getattr(user, "is_authenticated", False) and accounts_api.roles_of(user).mentor):
        return ALLOW
    return deny(Reason.ROLE_REQUIRED, "Only staff and mentors moderate the forums.")


def can_endorse(user, *, course_id: int) -> Decision:
    """Endorse an answer (shown apart from the asker's acceptance): staff and mentors."""
    return can_moderate_forum(user, course_id=course_id)


def can_see_anonymous_authors(user, *, course_id: int) -> Decision:
    """Who wrote a post that is anonymous to peers: staff only. Mentors are learners too, so they
    moderate an anonymous post (hide it, mute its author) without learning the name."""
    if is_staff(user):
        return ALLOW
    return deny(Reason.STAFF_ONLY, "Anonymous posts are anonymous to everyone but staff.")


# ---- certificates and staff work ------------------------------------------------------------------


def can_earn_certificate(user, *, course_id: int) -> Decision:
    """Earn a new certificate while subscribed; the certificates of completed courses are kept forever."""
    facts = _facts(user)
    if facts.state in FULL_ACCESS:
        return ALLOW
    if facts.state is not AccessState.ANONYMOUS and course_id in facts.completed_course_ids:
        return ALLOW
    return _by_grant(facts, course_id, None) or deny(
        Reason.NEEDS_SUBSCRIPTION, "Certificates are earned with a subscription."
    )


def can_revoke_certificate(user) -> Decision:
    return ALLOW if is_staff(user) else deny(Reason.STAFF_ONLY, "Only staff can revoke certificates.")


def can_manage(user) -> Decision:
    """Staff work outside the admin: regrades, grader publishing, staff queues and dashboards."""
    return ALLOW if is_staff(user) else deny(Reason.STAFF_ONLY, "This page is for staff.")
