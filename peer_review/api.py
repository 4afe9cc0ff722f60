"""The peer_review app's public door: other apps (the REST API, checks outside the suite) import only this.

Peer review plugs into the course pages, the content pack and the completion rule through courses.api
(registered in PeerReviewConfig.ready). The four functions below keep exactly these signatures; each
raises PeerReviewError (a message for the user) or access.AccessDenied, and changes nothing on error.
"""

from __future__ import annotations

import dataclasses
import datetime

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


# ---- reads for the REST API (the reviewer's tasks and the work to review; anonymous both ways) ---------


@dataclasses.dataclass(frozen=True)
class TaskFacts:
    """A review the reviewer holds or gave: never the author's identity."""

    review_id: int
    submission_id: int
    assignment_id: int
    course_slug: str
    title: str
    status: str  # leased, completed, discarded
    is_training: bool
    leased_at: datetime.datetime
    expires_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    review_deadline: datetime.datetime | None


@dataclasses.dataclass(frozen=True)
class OptionFacts:
    label: str
    points: int


@dataclasses.dataclass(frozen=True)
class CriterionFacts:
    name: str
    prompt: str
    weight: float
    comment_box: bool
    options: tuple[OptionFacts, ...]


@dataclasses.dataclass(frozen=True)
class WorkFacts:
    """The work a reviewer may open (leased to them, reviewed by them, or a training example) and the rubric."""

    submission_id: int
    assignment_id: int
    is_training: bool
    text: str
    notebook: dict | None
    has_file: bool
    rubric: tuple[CriterionFacts, ...]
    review_status: str | None  # None: not reviewed yet (a training example)


def tasks_of(*, reviewer) -> list[TaskFacts]:
    """What is leased to the reviewer and what they reviewed, oldest lease first (expired leases left out)."""
    rows = []
    for review in selectors.reviews_of(reviewer=reviewer):
        assignment = review.assignment
        rows.append(
            TaskFacts(
                review_id=review.pk,
                submission_id=review.submission_id,
                assignment_id=assignment.pk,
                course_slug=assignment.item.course.slug,
                title=assignment.item.title,
                status=review.status,
                is_training=review.is_training,
                leased_at=review.leased_at,
                expires_at=review.expires_at,
                completed_at=review.completed_at,
                review_deadline=assignment.review_deadline,
            )
        )
    return rows


def work_for_reviewer(*, reviewer, submission_id: int) -> WorkFacts:
    """The work and its rubric; Http404 when the work is not the reviewer's to open."""
    submission, review = selectors.review_target(reviewer=reviewer, submission_id=submission_id)
    criteria = selectors.rubric(assignment=submission.assignment)
    return WorkFacts(
        submission_id=submission.pk,
        assignment_id=submission.assignment_id,
        is_training=submission.is_training,
        text=submission.text,
        notebook=submission.notebook,
        has_file=bool(submission.file),
        rubric=tuple(
            CriterionFacts(
                name=c.name,
                prompt=c.prompt,
                weight=c.weight,
                comment_box=c.comment_box,
                options=tuple(OptionFacts(label=o.label, points=o.points) for o in c.options.all()),
            )
            for c in criteria
        ),
        review_status=review.status if review else None,
    )


__all__ = [
    "CriterionFacts",
    "OptionFacts",
    "PeerReviewError",
    "ReviewRefused",
    "SubmissionRefused",
    "TaskFacts",
    "WorkFacts",
    "assignment_ids",
    "request_review",
    "submit_review",
    "submit_work",
    "tasks_of",
    "work_for_reviewer",
]
