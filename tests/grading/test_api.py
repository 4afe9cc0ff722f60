"""grading.api additions the REST API reads: keyset pages of submissions, feedback, grades per item."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading import api
from grading.models import Submission
from tests.factories import SubscriptionFactory
from tests.grading.conftest import make_assignment

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _submission(assignment, learner, attempt, *, at, **fields):
    return Submission.objects.create(
        assignment=assignment, learner=learner, attempt=attempt, notebook_sha256="x", notebook_path="x",
        size_bytes=1, submitted_at=at, **fields,
    )  # fmt: skip


def test_submissions_page_walks_newest_first_without_gaps_or_repeats_even_with_equal_times():
    learner = SubscriptionFactory().user
    assignment = make_assignment()
    rows = [_submission(assignment, learner, n + 1, at=T0 + datetime.timedelta(minutes=n // 2)) for n in range(7)]
    seen, after = [], None
    while True:
        page = api.submissions_page(learner_id=learner.pk, after=after, limit=3)
        if not page:
            break
        seen += [f.submission_id for f in page]
        after = (page[-1].submitted_at, page[-1].submission_id)
    expected = [s.pk for s in sorted(rows, key=lambda s: (s.submitted_at, s.pk), reverse=True)]
    assert seen == expected


def test_submissions_page_filters_by_item_and_costs_one_query():
    learner = SubscriptionFactory().user
    first, second = make_assignment(slug="a"), make_assignment(slug="b")
    _submission(first, learner, 1, at=T0)
    _submission(second, learner, 1, at=T0)
    with CaptureQueriesContext(connection) as queries:
        page = api.submissions_page(learner_id=learner.pk, item_id=second.item_id, limit=10)
    assert [f.item_id for f in page] == [second.item_id]
    assert len(queries) == 1


def test_assignment_grades_keep_the_best_graded_attempt_and_the_pass_mark():
    learner = SubscriptionFactory().user
    assignment = make_assignment(pass_percent=70)
    untouched = make_assignment(slug="other")
    _submission(assignment, learner, 1, at=T0, status="graded", score=1, max_score=4)
    _submission(assignment, learner, 2, at=T0, status="graded", score=3, max_score=4)
    _submission(assignment, learner, 3, at=T0, status="error")
    grades = api.assignment_grades(learner_id=learner.pk, item_ids=[assignment.item_id, untouched.item_id])
    assert grades[assignment.item_id] == api.AssignmentGrade(
        item_id=assignment.item_id, attempts=3, best_percent=75.0, pass_percent=70, passed=True
    )
    assert grades[untouched.item_id].attempts == 0 and grades[untouched.item_id].passed is False


def test_feedback_of_an_unknown_submission_is_none():
    assert api.submission_feedback(submission_id=123456) is None


def test_feedback_of_a_failed_grading_gives_the_learners_message_not_the_log():
    learner = SubscriptionFactory().user
    assignment = make_assignment()
    submission = _submission(assignment, learner, 1, at=timezone.now())
    from grading import services

    services.submission_mark_failed(submission_id=submission.pk, reason="engine down: secret host detail")
    feedback = api.submission_feedback(submission_id=submission.pk)
    assert (feedback.status, feedback.finished, feedback.passed) == ("error", True, None)
    assert "could not grade" in feedback.error_message
    assert "secret host detail" not in repr(feedback)
