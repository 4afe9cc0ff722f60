"""The access policy, table-driven: every learner state by every kind of item."""

import datetime

import pytest
from django.utils import timezone

from access import api as access
from access.api import AccessState, Reason
from billing.models import AccessGrant
from billing.state import SubscriptionState, subscription_state
from courses.models import CourseCompletion, ItemKind
from tests.factories import CourseFactory, EnrollmentFactory, ItemFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = datetime.timedelta(days=1)


def make_user(state: str):
    """A learner in the given state, built the way webhooks leave the rows."""
    if state == "anonymous":
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser()
    if state == "staff":
        return UserFactory(is_staff=True)
    if state == "registered":
        return UserFactory()
    if state == "trialing":  # localstripe's "incomplete" with a future trial_end is a trial
        return SubscriptionFactory(status="incomplete", trial_end=NOW + 5 * DAY).user
    if state == "active":
        return SubscriptionFactory().user
    if state == "past_due_grace":
        return SubscriptionFactory(status="past_due", past_due_since=NOW - 2 * DAY).user
    if state == "past_due_over":
        return SubscriptionFactory(status="past_due", past_due_since=NOW - 8 * DAY).user
    if state == "canceled":
        return SubscriptionFactory(status="canceled", ended_at=NOW - DAY).user
    if state == "period_over":  # canceled at period end; the deleted webhook is late
        return SubscriptionFactory(cancel_at_period_end=True, current_period_end=NOW - DAY).user
    raise AssertionError(state)


STATES = {
    "anonymous": AccessState.ANONYMOUS,
    "registered": AccessState.REGISTERED,
    "trialing": AccessState.TRIALING,
    "active": AccessState.ACTIVE,
    "past_due_grace": AccessState.PAST_DUE_GRACE,
    "past_due_over": AccessState.EXPIRED,
    "canceled": AccessState.EXPIRED,
    "period_over": AccessState.EXPIRED,
    "staff": AccessState.STAFF,
}

KINDS = [
    "lecture", "reading", "quiz", "assignment", "peer_review", "preview", "unreleased", "completed",
    "week_not_released", "released_after_start",
    # complimentary access (financial aid, staff, partners): a grant for this course, one for the whole
    # specialization, one that ended yesterday, one revoked by staff
    "granted", "granted_whole", "grant_over", "grant_revoked",
]  # fmt: skip
GRANTED = {"granted", "granted_whole"}
# Parts that have not opened: only staff open them, whatever the subscription.
NOT_OPEN = {"unreleased", "week_not_released", "released_after_start"}

# state: kinds it may VIEW ... and SUBMIT (graded kinds only count for submit)
OPEN = set(KINDS) - NOT_OPEN
VIEW = {
    "anonymous": {"preview"},
    "registered": {"preview", "completed", *GRANTED},
    "trialing": OPEN,
    "active": OPEN,
    "past_due_grace": OPEN,
    "past_due_over": {"preview", "completed", *GRANTED},
    "canceled": {"preview", "completed", *GRANTED},
    "period_over": {"preview", "completed", *GRANTED},
    "staff": set(KINDS),
}
SUBMIT = {state: (OPEN if STATES[state] in access.FULL_ACCESS else set()) for state in STATES}
SUBMIT["staff"] = set(KINDS)
for _state in ("registered", "past_due_over", "canceled", "period_over"):
    SUBMIT[_state] = set(GRANTED)  # a grant opens graded work like a subscription


def make_item(kind: str, user):
    released = datetime.date(2026, 1, 1)
    if kind == "unreleased":
        course = CourseFactory(release_date=timezone.localdate() + 30 * DAY)
        return ItemFactory(week__course=course, kind=ItemKind.LECTURE)
    if kind == "completed":
        course = CourseFactory(release_date=released)
        if user.is_authenticated:
            CourseCompletion.objects.create(user=user, course=course, completed_at=NOW - 30 * DAY)
        return ItemFactory(week__course=course, kind=ItemKind.QUIZ)
    if kind == "preview":
        return ItemFactory(kind=ItemKind.LECTURE, is_preview=True)
    if kind in ("granted", "granted_whole", "grant_over", "grant_revoked"):
        item = ItemFactory(week__course=CourseFactory(release_date=released), kind=ItemKind.QUIZ)
        if user.is_authenticated:
            today = timezone.localdate()
            AccessGrant.objects.create(
                user=user,
                whole_specialization=kind == "granted_whole",
                course_ids=[] if kind == "granted_whole" else [item.course_id],
                until=today - DAY if kind == "grant_over" else today + 10 * DAY,
                revoked_at=NOW if kind == "grant_revoked" else None,
                reason="test",
            )
        return item
    if kind == "week_not_released":  # week 2 of an open course opens on a date to come (a preview item, even)
        return ItemFactory(
            kind=ItemKind.QUIZ, is_preview=True, week__number=2, week__release_date=timezone.localdate() + 3 * DAY
        )
    if kind == "released_after_start":  # opens 3 days after the learner's start; they start today
        if user.is_authenticated:
            item = ItemFactory(kind=ItemKind.QUIZ, release_after_days=3)
            EnrollmentFactory(user=user, course=item.course)
            return item
        return ItemFactory(kind=ItemKind.QUIZ, release_after_days=3)
    return ItemFactory(kind=kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", list(STATES))
def test_policy_table(state, kind):
    user = make_user(state)
    item = make_item(kind, user)
    access.forget(user)
    assert access.access_state(user) is STATES[state]
    assert bool(access.can_view_item(user, item)) is (kind in VIEW[state]), "view"
    assert bool(access.can_download(user, item)) is (kind in VIEW[state]), "download"
    assert bool(access.can_submit(user, item)) is (kind in SUBMIT[state]), "submit"
    assert bool(access.can_take_quiz(user, item)) is (kind in SUBMIT[state]), "quiz"
    assert bool(access.can_track_progress(user, item)) is (kind in VIEW[state] and state != "anonymous")
    for decision in (access.can_view_item(user, item), access.can_submit(user, item)):
        if not decision:
            assert decision.message  # a sentence for the learner, never empty
            assert decision.reason is not Reason.ALLOWED
            with pytest.raises(access.AccessDenied) as denied:
                decision.require()
            assert str(denied.value) == decision.message
    for decision in (access.can_view_item(user, item), access.can_submit(user, item)):
        if kind in NOT_OPEN and state != "anonymous" and not decision:
            # the lock says when it opens, whatever else the learner lacks
            assert decision.opens_on is not None and decision.opens_on > timezone.localdate()
            assert str(decision.opens_on.day) in decision.message
            if kind == "released_after_start":
                assert decision.reason is Reason.RELEASED_AFTER_START and decision.after_days == 3
            else:
                assert decision.reason is Reason.NOT_RELEASED
    full = STATES[state] in access.FULL_ACCESS
    course_id = item.course_id
    released = kind != "unreleased"
    granted = kind in GRANTED and state != "anonymous"
    may_post = (full or granted) and (released or state == "staff")
    assert bool(access.can_post_in_forum(user, course_id=course_id)) is may_post
    week_open = kind not in {"unreleased", "week_not_released"}
    assert bool(access.can_post_in_forum(user, course_id=course_id, week_id=item.week_id)) is (
        (full or granted) and (week_open or state == "staff")
    )
    assert bool(access.can_read_forum(user, course_id=course_id)) is (state != "anonymous")
    assert bool(access.can_read_forum(user, course_id=course_id, public=True)) is True
    assert bool(access.can_moderate_forum(user, course_id=course_id)) is (state == "staff")
    assert bool(access.can_see_anonymous_authors(user, course_id=course_id)) is (state == "staff")
    assert bool(access.can_earn_certificate(user, course_id=course_id)) is (
        full or granted or (kind == "completed" and state != "anonymous")
    )
    if granted and not full:
        decision = access.can_view_item(user, item)
        assert decision.reason is Reason.COMPLIMENTARY and decision.message.startswith("Free access until")
    assert bool(access.can_revoke_certificate(user)) is (state == "staff")
    assert bool(access.can_manage(user)) is (state == "staff")
    assert bool(access.can_review_peer(user, item)) is (kind in SUBMIT[state])


def test_expired_subscription_keeps_completed_course_open_read_only():
    learner = SubscriptionFactory(status="canceled", ended_at=NOW).user
    done = CourseFactory()
    CourseCompletion.objects.create(user=learner, course=done, completed_at=NOW - DAY)
    quiz = ItemFactory(week__course=done, kind=ItemKind.QUIZ)
    other = ItemFactory(kind=ItemKind.LECTURE)
    assert access.can_view_item(learner, quiz) and not access.can_view_item(learner, other)
    decision = access.can_submit(learner, quiz)
    assert decision.reason is Reason.COMPLETED_READ_ONLY
    with pytest.raises(access.AccessDenied, match="stays open to read, but not to submit"):
        decision.require()


def test_resubscribing_reopens_everything():
    learner = SubscriptionFactory(status="canceled", ended_at=NOW - 10 * DAY).user
    lecture = ItemFactory(kind=ItemKind.LECTURE)
    assert not access.can_view_item(learner, lecture)
    SubscriptionFactory(user=learner)
    access.forget(learner)
    assert access.can_view_item(learner, lecture) and access.can_submit(learner, lecture)


def test_trial_is_read_from_trial_end_whatever_the_status_says():
    sub = SubscriptionFactory(status="incomplete", trial_end=NOW + DAY)
    assert subscription_state(sub, now=NOW) is SubscriptionState.TRIALING
    assert subscription_state(sub, now=NOW + 2 * DAY) is SubscriptionState.NONE


def test_grace_period_is_a_setting(settings):
    sub = SubscriptionFactory(status="past_due", past_due_since=NOW - 4 * DAY)
    settings.BILLING_PAST_DUE_GRACE_DAYS = 3
    assert subscription_state(sub, now=NOW) is SubscriptionState.ENDED
    settings.BILLING_PAST_DUE_GRACE_DAYS = 7
    assert subscription_state(sub, now=NOW) is SubscriptionState.PAST_DUE_GRACE


def test_state_is_read_once_per_user_object(django_assert_num_queries):
    learner = SubscriptionFactory(status="canceled", ended_at=NOW).user
    items = [ItemFactory(kind=ItemKind.LECTURE) for _ in range(5)]
    access.forget(learner)
    with django_assert_num_queries(3):  # the subscription, the completed course ids, the running grants
        for item in items:
            access.can_view_item(learner, item)
            access.can_submit(learner, item)


def test_a_late_event_for_an_old_subscription_does_not_close_the_new_one():
    learner = SubscriptionFactory().user  # the live subscription
    SubscriptionFactory(user=learner, status="canceled", ended_at=NOW - 40 * DAY)  # its row made later
    access.forget(learner)
    assert access.access_state(learner) is AccessState.ACTIVE


def test_mentors_moderate_forums_without_seeing_who_posted_anonymously():
    mentor = UserFactory(is_mentor=True)
    course = CourseFactory()
    assert access.can_moderate_forum(mentor, course_id=course.pk)
    assert access.can_endorse(mentor, course_id=course.pk)
    decision = access.can_see_anonymous_authors(mentor, course_id=course.pk)
    assert not decision and decision.reason is Reason.STAFF_ONLY and decision.message
