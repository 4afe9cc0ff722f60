"""Allocation under concurrency on PostgreSQL: parallel requests never take the same slot twice."""

import threading
from collections import Counter

import pytest
from django.db import connection

from peer_review import services
from peer_review.models import Review, ReviewStatus, Submission
from tests.factories import UserFactory
from tests.peer_review.conftest import subscriber


def _parallel(assignment, reviewers) -> list:
    """Every reviewer asks for work at the same instant, each on its own connection."""
    barrier = threading.Barrier(len(reviewers))
    results: list = [None] * len(reviewers)
    errors: list = []

    def ask(index, reviewer):
        try:
            barrier.wait(timeout=30)
            got = services.review_request(reviewer=reviewer, assignment=assignment)
            results[index] = got.pk if got is not None else None
        except Exception as exc:  # noqa: BLE001 - reported below, with the test failing
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n, r)) for n, r in enumerate(reviewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def _check_slots(assignment):
    """Each required slot went to one reviewer; extra reviews (welcome once a work's slots are taken) are
    marked as such; the counters match the rows."""
    rows = Review.objects.filter(assignment=assignment, status=ReviewStatus.LEASED)
    leases = Counter(rows.values_list("submission_id", flat=True))
    required = Counter(rows.filter(is_extra=False).values_list("submission_id", flat=True))
    for submission in Submission.objects.filter(assignment=assignment):
        assert leases.get(submission.pk, 0) == submission.active_reviews
        assert required.get(submission.pk, 0) <= submission.required_reviews  # no slot handed out twice
    pairs = Review.objects.filter(assignment=assignment).values_list("submission_id", "reviewer_id")
    assert len(pairs) == len(set(pairs))
    return leases


@pytest.mark.django_db(transaction=True)
def test_two_parallel_requests_for_the_last_slot(make_assignment):
    assignment = make_assignment(reviews_to_receive=1)
    author = subscriber()
    services.submission_submit(author=author, assignment=assignment, text="The only work")
    reviewers = [UserFactory(is_peer_reviewer=True) for _ in range(2)]
    results = _parallel(assignment, reviewers)
    only = Submission.objects.get(author=author).pk
    assert only in results
    _check_slots(assignment)
    slot = Review.objects.filter(submission_id=only, is_extra=False)
    assert slot.count() == 1  # one of them holds the slot; the other got an extra review of it, or nothing
    other = next(r for r in reviewers if r != slot.get().reviewer)
    assert not Review.objects.filter(reviewer=other, is_extra=False).exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_requests_never_share_a_slot(make_assignment):
    assignment = make_assignment(reviews_to_receive=3)
    for n in range(20):  # 60 slots for 50 reviewers
        services.submission_submit(author=subscriber(), assignment=assignment, text=f"Work {n}")
    reviewers = [UserFactory(is_peer_reviewer=True) for _ in range(50)]
    results = _parallel(assignment, reviewers)
    leases = _check_slots(assignment)
    given = [pk for pk in results if pk is not None]
    assert sum(leases.values()) == len(given) and len(given) >= 20
    assert Review.objects.filter(is_extra=True).count() == 0  # 60 slots for 50: nobody needed an extra
    # those skipped past rows locked at that instant get work when they ask again
    for reviewer, got in zip(reviewers, results, strict=True):
        if got is None:
            assert services.review_request(reviewer=reviewer, assignment=assignment) is not None
    leases = _check_slots(assignment)
    assert sum(leases.values()) == 50
