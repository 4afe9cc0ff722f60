"""peer_review.api: the door the REST API and outside checks call, with exactly these signatures."""

import inspect

import pytest

from peer_review import api
from peer_review.models import Review, ReviewStatus
from tests.factories import ItemFactory, WeekFactory
from tests.peer_review.conftest import GOOD, RUBRIC, subscriber

pytestmark = pytest.mark.django_db


def test_the_signatures_are_exactly_the_published_ones():
    assert str(inspect.signature(api.assignment_ids)) == "(*, course_slug: 'str') -> 'list[int]'"
    assert str(inspect.signature(api.submit_work)) == "(*, author, assignment_id: 'int', text: 'str') -> 'int'"
    assert str(inspect.signature(api.request_review)) == "(*, reviewer, assignment_id: 'int') -> 'int | None'"
    assert str(inspect.signature(api.submit_review)) == (
        "(*, reviewer, submission_id: 'int', scores: 'dict[str, int]', comments: 'dict[str, str] | None' = None)"
        " -> 'int'"
    )


def test_assignment_ids_follow_course_order(make_assignment):
    from pathlib import Path

    from peer_review import pack

    first = make_assignment()
    course = first.item.course
    later_week = WeekFactory(course=course, number=first.item.week.number + 1)
    second_item = ItemFactory(week=later_week, kind="peer_review", order=0)
    pack.apply(second_item, {"rubric": RUBRIC}, Path("."))
    ItemFactory(week=first.item.week, kind="peer_review")  # no assignment set up: not listed
    assert api.assignment_ids(course_slug=course.slug) == [first.pk, second_item.pk]


def test_submit_request_and_review_through_the_door(make_assignment):
    assignment = make_assignment()
    author, reviewer = subscriber(), subscriber()
    submission_id = api.submit_work(author=author, assignment_id=assignment.pk, text="Plan")
    api.submit_work(author=reviewer, assignment_id=assignment.pk, text="Mine")
    assert api.request_review(reviewer=reviewer, assignment_id=assignment.pk) == submission_id
    review_id = api.submit_review(
        reviewer=reviewer, submission_id=submission_id, scores=GOOD, comments={"plan": "Good"}
    )
    assert Review.objects.get(pk=review_id).status == ReviewStatus.COMPLETED
    assert api.request_review(reviewer=reviewer, assignment_id=assignment.pk) is None  # nothing else to give
    with pytest.raises(api.PeerReviewError, match="no such peer-review assignment"):
        api.submit_work(author=author, assignment_id=999_999, text="x")
    with pytest.raises(api.SubmissionRefused, match="Write your answer"):
        api.submit_work(author=author, assignment_id=assignment.pk, text="   ")
