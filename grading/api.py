"""The grading app's public door: other apps import only this module.

Notebook assignments are graded here; what a grade means for the learner (progress, completion) is
reported to courses through courses.api. The REST API and peer review use what is below.
"""

from __future__ import annotations

import dataclasses
import datetime

from .models import Assignment, Submission
from .notebooks import NotebookRejected, notebook_parse
from .rendering import render_cells
from .services import SubmissionRejected, submission_create


@dataclasses.dataclass(frozen=True)
class SubmissionFacts:
    submission_id: int
    item_id: int
    learner_id: int
    attempt: int
    status: str  # queued | running | graded | error
    score: float | None
    max_score: float | None
    submitted_at: datetime.datetime
    url: str

    @property
    def percent(self) -> float | None:
        return 100 * self.score / self.max_score if self.score is not None and self.max_score else None


def _facts(submission: Submission) -> SubmissionFacts:
    return SubmissionFacts(
        submission_id=submission.pk,
        item_id=submission.assignment.item_id,
        learner_id=submission.learner_id,
        attempt=submission.attempt,
        status=submission.status,
        score=submission.score,
        max_score=submission.max_score,
        submitted_at=submission.submitted_at,
        url=submission.get_absolute_url(),
    )


def submit_notebook(*, learner, item_id: int, data: bytes, filename: str = "") -> SubmissionFacts:
    """Validate, store and queue a notebook for the assignment of `item_id`, through the same rules as
    the upload page. Raises SubmissionRejected with a message for the learner."""
    assignment = Assignment.objects.select_related("item__course", "current_version").filter(item_id=item_id).first()
    if assignment is None:
        raise SubmissionRejected("This item has no programming assignment.")
    return _facts(submission_create(assignment=assignment, learner=learner, data=data, filename=filename))


def submission_facts(*, submission_id: int) -> SubmissionFacts | None:
    submission = Submission.objects.select_related("assignment").filter(pk=submission_id).first()
    return _facts(submission) if submission else None


def notebook_cells_readonly(notebook: dict) -> list[dict]:
    """A notebook as read-only HTML cells (Markdown rendered, code highlighted, text outputs kept):
    executed nowhere. For showing a learner's notebook to someone else."""
    return render_cells(notebook, include_outputs=True)


__all__ = [
    "NotebookRejected",
    "SubmissionFacts",
    "SubmissionRejected",
    "notebook_cells_readonly",
    "notebook_parse",
    "submission_facts",
    "submit_notebook",
]
