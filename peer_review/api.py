"""The peer_review app's public door: other apps (the REST API, checks outside the suite) import only this.

Peer review plugs into the course pages, the content pack and the completion rule through courses.api
(registered in PeerReviewConfig.ready). The four functions below keep exactly these signatures; each
raises PeerReviewError (a message for the user) or access.AccessDenied, and changes nothing on error.
"""

from __future__ import annotations

from . import selectors, services
from .models import Assignment
from .services import PeerReviewError, ReviewRefused, SubmissionRefused


def _assignment(assignment_id: int) -> Assignment:
    assignment = Assignment.objects.select_related("item__course").filter(pk=assignment_id).first()
    if assignment is None:
        raise PeerReviewError("There is no such peer-review assignment.")
    return assignment


def assignment_ids(*, course_slug: str) -> list[int]:
    """The course's peer-review assignments (their item ids), in course order."""
    return selectors.assignments_of_course(course_slug=course_slug)


def submit_work(*, author, assignment_id: int, text: str) -> int:
    """Submit (or replace, before reviews start) a Markdown answer; returns the submission's id."""
    return services.submission_submit(author=author, assignment=_assignment(assignment_id), text=text).pk


def request_review(*, reviewer, assignment_id: int) -> int | None:
    """Lease the next submission to the reviewer; its id, or None when nothing may be given now."""
    submission = services.review_request(reviewer=reviewer, assignment=_assignment(assignment_id))
    return submission.pk if submission is not None else None


def submit_review(
    *, reviewer, submission_id: int, scores: dict[str, int], comments: dict[str, str] | None = None
) -> int:
    """Review a leased submission (or a training example): scores keyed by criterion name, each the
    points of the chosen option; returns the review's id."""
    return services.review_submit(reviewer=reviewer, submission_id=submission_id, scores=scores, comments=comments).pk


__all__ = [
    "PeerReviewError",
    "ReviewRefused",
    "SubmissionRefused",
    "assignment_ids",
    "request_review",
    "submit_review",
    "submit_work",
]
