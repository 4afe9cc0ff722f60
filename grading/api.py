"""The grading app's public door: other apps import only this module.

Notebook assignments are graded here; what a grade means for the learner (progress, completion) is
reported to courses through courses.api. The REST API and peer review use what is below.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Count, ExpressionWrapper, F, FloatField, Max, Q

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


def submissions_page(
    *,
    learner_id: int,
    item_id: int | None = None,
    after: tuple[datetime.datetime, int] | None = None,
    limit: int = 20,
) -> list[SubmissionFacts]:
    """A learner's submissions, newest first, `limit` of them after the (submitted_at, id) of `after`:
    keyset pages for the REST API, as fast deep in the list as at its start (one query)."""
    rows = Submission.objects.filter(learner_id=learner_id).select_related("assignment")
    if item_id is not None:
        rows = rows.filter(assignment__item_id=item_id)
    if after is not None:
        at, pk = after
        rows = rows.filter(Q(submitted_at__lt=at) | Q(submitted_at=at, pk__lt=pk))
    return [_facts(s) for s in rows.order_by("-submitted_at", "-pk")[:limit]]


@dataclasses.dataclass(frozen=True)
class SubmissionFeedback:
    """What the learner's submission page shows once grading finished: the same filtering (hidden tests by
    name, result and author-written failure message only, no staff messages, no failure log)."""

    submission_id: int
    status: str
    finished: bool
    score: float | None
    max_score: float | None
    passed: bool | None  # None until graded
    pass_percent: int
    tests: tuple[TestFeedback, ...]
    outputs: tuple[tuple[int, str], ...]  # (cell number, text) of the learner's own cells
    flags: tuple[str, ...]
    error_message: str
    grader_version: int | None
    execution_seconds: float | None


def submission_feedback(*, submission_id: int) -> SubmissionFeedback | None:
    submission = (
        Submission.objects.select_related("assignment", "latest_run__grader_version").filter(pk=submission_id).first()
    )
    if submission is None:
        return None
    finished = submission.is_finished
    run = submission.latest_run if finished else None
    percent = submission.percent
    graded = submission.status == Submission.Status.GRADED
    return SubmissionFeedback(
        submission_id=submission.pk,
        status=submission.status,
        finished=finished,
        score=submission.score,
        max_score=submission.max_score,
        passed=(percent is not None and percent >= submission.assignment.pass_percent) if graded else None,
        pass_percent=submission.assignment.pass_percent,
        tests=tuple(_test_feedback(t) for t in (run.tests if run else [])),
        outputs=tuple(_outputs(run.cells if run else [])),
        flags=tuple(str(f) for f in (run.flags if run else [])),
        error_message=(run.error_message if run and submission.status == Submission.Status.ERROR else ""),
        grader_version=run.grader_version.number if run and run.grader_version_id else None,
        execution_seconds=run.execution_seconds if run else None,
    )


@dataclasses.dataclass(frozen=True)
class AssignmentGrade:
    item_id: int
    attempts: int
    best_percent: float | None  # the best graded attempt: the one that counts
    pass_percent: int
    passed: bool


def assignment_grades(*, learner_id: int, item_ids) -> dict[int, AssignmentGrade]:
    """A learner's standing on each assignment item of `item_ids` (two queries, however many items)."""
    assignments = dict(Assignment.objects.filter(item_id__in=list(item_ids)).values_list("item_id", "pass_percent"))
    stats = {
        row["assignment__item_id"]: row
        for row in Submission.objects.filter(learner_id=learner_id, assignment__item_id__in=list(assignments))
        .values("assignment__item_id")
        .annotate(
            attempts=Count("pk"),
            best=Max(
                ExpressionWrapper(F("score") * 100.0 / F("max_score"), output_field=FloatField()),
                filter=Q(status=Submission.Status.GRADED, max_score__gt=0),
            ),
        )
    }
    grades = {}
    for item_id, pass_percent in assignments.items():
        row = stats.get(item_id, {})
        best = row.get("best")
        grades[item_id] = AssignmentGrade(
            item_id=item_id,
            attempts=row.get("attempts", 0),
            best_percent=best,
            pass_percent=pass_percent,
            passed=best is not None and best >= pass_percent,
        )
    return grades


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


def _test_feedback(t: dict) -> TestFeedback:
    return TestFeedback(
        name=str(t.get("name", "")),
        status=str(t.get("status", "")),
        points=float(t.get("points") or 0),
        max_points=float(t.get("max_points") or 0),
        message=str(t.get("message", "")),
    )


def _outputs(cells: list[dict]) -> list[tuple[int, str]]:
    return [
        (int(cell.get("index", 0)) + 1, "".join(str(o.get("text", "")) for o in cell.get("outputs", [])))
        for cell in cells
        if cell.get("outputs")
    ]


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
        tests = [_test_feedback(t) for t in (run.tests if run else [])]
        outputs = _outputs(run.cells if run else [])
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
    "AssignmentGrade",
    "LearnerSubmission",
    "NotebookRejected",
    "SubmissionFacts",
    "SubmissionFeedback",
    "SubmissionRejected",
    "TestFeedback",
    "assignment_grades",
    "assignment_starter",
    "learner_submissions",
    "notebook_cells_readonly",
    "notebook_parse",
    "submission_facts",
    "submission_feedback",
    "submissions_page",
    "submit_notebook",
]
