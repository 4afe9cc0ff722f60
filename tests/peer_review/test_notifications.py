"""Peer review's notifications through the outbox: grade ready, reminders before the review deadline,
staff alerts when the queue grows."""

import datetime

import pytest

from notifications.models import Notification
from peer_review import events, services
from tests.peer_review.conftest import GOOD, subscriber

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
pytestmark = pytest.mark.django_db


def test_the_author_hears_their_grade_is_ready(make_assignment):
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=1)
    a, b = subscriber(), subscriber()
    for learner in (a, b):
        services.submission_submit(author=learner, assignment=assignment, text="Work", now=T0)
    for learner in (a, b):
        got = services.review_request(reviewer=learner, assignment=assignment, now=T0)
        services.review_submit(reviewer=learner, submission_id=got.pk, scores=GOOD, now=T0)
    note = Notification.objects.get(recipient=a, kind=events.GRADE_READY)
    assert "is ready" in note.title and note.url == assignment.item.get_absolute_url()


def test_reminders_the_day_before_the_review_deadline_go_to_those_who_owe_reviews(make_assignment):
    deadline = T0 + datetime.timedelta(days=3)
    assignment = make_assignment(review_deadline=deadline.isoformat(), reviews_to_give=1)
    owing, done, other = subscriber(), subscriber(), subscriber()
    for learner in (owing, done, other):
        services.submission_submit(author=learner, assignment=assignment, text="Work", now=T0)
    got = services.review_request(reviewer=done, assignment=assignment, now=T0)
    services.review_submit(reviewer=done, submission_id=got.pk, scores=GOOD, now=T0)
    assert events.review_reminders(assignment=assignment, now=T0) == 0  # too early
    sent = events.review_reminders(assignment=assignment, now=deadline - datetime.timedelta(hours=20))
    assert sent == 2
    assert set(Notification.objects.filter(kind=events.REMINDER).values_list("recipient", flat=True)) == {
        owing.pk,
        other.pk,
    }
    assert events.review_reminders(assignment=assignment, now=deadline - datetime.timedelta(hours=19)) == 0  # once


def test_staff_hear_when_the_queue_reaches_each_step(make_assignment, staff, settings):
    settings.PEER_REVIEW_STAFF_ALERT_EVERY = 2
    assignment = make_assignment(short_after_days=1)
    for _ in range(3):
        services.submission_submit(author=subscriber(), assignment=assignment, text="Alone", now=T0)
    services.short_of_reviews_sweep(assignment=assignment, now=T0 + datetime.timedelta(days=3))
    alerts = Notification.objects.filter(kind=events.STAFF_ALERT)
    assert list(alerts.values_list("recipient", flat=True)) == [staff.pk]  # staff only, once for this step
    assert "3 waiting for staff" in alerts.get().title
    services.submission_submit(author=subscriber(), assignment=assignment, text="Late", now=T0)
    services.short_of_reviews_sweep(assignment=assignment, now=T0 + datetime.timedelta(days=3))
    assert alerts.count() == 1  # 4 waiting: still the second step of two
    services.submission_submit(author=subscriber(), assignment=assignment, text="Later", now=T0)
    services.short_of_reviews_sweep(assignment=assignment, now=T0 + datetime.timedelta(days=3))
    assert alerts.count() == 2 and "5 waiting" in alerts.order_by("-id").first().title


def test_the_reminder_states_the_deadline_in_each_readers_time_zone(make_assignment):
    deadline = datetime.datetime(2026, 12, 10, 17, 0, tzinfo=datetime.UTC)
    assignment = make_assignment(review_deadline=deadline.isoformat(), reviews_to_give=1)
    paris, unset = subscriber(), subscriber()
    type(paris).objects.filter(pk=paris.pk).update(time_zone="Europe/Paris")
    for learner in (paris, unset):
        services.submission_submit(author=learner, assignment=assignment, text="Work", now=T0)
    assert events.review_reminders(assignment=assignment, now=deadline - datetime.timedelta(hours=20)) == 2
    titles = dict(Notification.objects.filter(kind=events.REMINDER).values_list("recipient", "title"))
    assert titles[paris.pk].endswith("due 10 Dec, 18:00 (Europe/Paris)")
    assert titles[unset.pk].endswith("due 10 Dec, 17:00 (UTC)")
