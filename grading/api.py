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


@dataclasses.dataclass(frozen=True)
class TestFeedback:
    __test__ = False  # not a pytest test class

    name: str
    status: str  # passed | failed | not_run | manual
    points: float
    max_points: float
    message: str  # what the learner may read (hidden tests: their author-written message only)


@dataclasses.dataclass(frozen=True)
class LearnerSubmission:
    """One of a learner's own submissions with the feedback they were shown: what they keep forever."""

    attempt: int
    submitted_at: datetime.datetime
    status: str
    score: float | None
    max_score: float | None
    notebook: dict
    tests: list[TestFeedback]
    outputs: list[tuple[int, str]]  # (cell number, text) of the learner's own cells


def assignment_starter(*, item_id: int) -> tuple[dict, str] | None:
    """The published starter notebook of an assignment item and its instructions (Markdown), or None."""
    assignment = Assignment.objects.select_related("current_version").filter(item_id=item_id).first()
    if assignment is None or assignment.current_version is None:
        return None
    return assignment.current_version.starter, assignment.instructions


def learner_submissions(*, learner_id: int, item_id: int) -> list[LearnerSubmission]:
    """A learner's submissions to an assignment, oldest first, with the feedback as the learner saw it."""
    from .notebooks import notebook_load

    submissions = (
        Submission.objects.filter(learner_id=learner_id, assignment__item_id=item_id)
        .select_related("latest_run")
        .order_by("attempt")
    )
    records = []
    for submission in submissions:
        run = submission.latest_run
        tests = [
            TestFeedback(
                name=str(t.get("name", "")),
                status=str(t.get("status", "")),
                points=float(t.get("points") or 0),
                max_points=float(t.get("max_points") or 0),
                message=str(t.get("message", "")),
            )
            for t in (run.tests if run else [])
        ]
        outputs = [
            (int(cell.get("index", 0)) + 1, "".join(str(o.get("text", "")) for o in cell.get("outputs", [])))
            for cell in (run.cells if run else [])
            if cell.get("outputs")
        ]
        try:
            notebook = notebook_load(submission.notebook_path)
        except OSError:
            notebook = {}
        records.append(
            LearnerSubmission(
                attempt=submission.attempt,
                submitted_at=submission.submitted_at,
                status=submission.status,
                score=submission.score,
                max_score=submission.max_score,
                notebook=notebook,
                tests=tests,
                outputs=outputs,
            )
        )
    return records


def notebook_cells_readonly(notebook: dict) -> list[dict]:
    """A notebook as read-only HTML cells (Markdown rendered, code highlighted, text outputs kept):
    executed nowhere. For showing a learner's notebook to someone else."""
    return render_cells(notebook, include_outputs=True)


__all__ = [
    "LearnerSubmission",
    "NotebookRejected",
    "SubmissionFacts",
    "SubmissionRejected",
    "TestFeedback",
    "assignment_starter",
    "learner_submissions",
    "notebook_cells_readonly",
    "notebook_parse",
    "submission_facts",
    "submit_notebook",
]
