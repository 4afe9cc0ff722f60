"""Reads for notebook assignments: the assignment page, attempts, feedback, the gradebook."""

from __future__ import annotations

import copy
import dataclasses
import datetime

from django.db.models import Count, ExpressionWrapper, F, FloatField, Max, OuterRef, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from access import api as access

from . import rules
from .models import Assignment, GraderVersion, GradingRun, HintReveal, RegradeJob, Submission
from .notebooks import human_size, notebook_load
from .spec import TestSpec

NOT_OPEN = "This assignment is not open for submissions yet."


@dataclasses.dataclass
class AssignmentPage:
    assignment: Assignment
    version: GraderVersion | None
    submissions: list[Submission]
    best: Submission | None
    can_submit: bool
    submit_blocked_reason: str
    attempts_left: int | None
    ready_at: datetime.datetime | None = None  # blocked by the cooldown (only) until then: the page counts down
    now: datetime.datetime | None = None

    @property
    def wait_text(self) -> str:
        """The time left before the next submission, as the countdown shows it ("4:05")."""
        if not self.ready_at or not self.now:
            return ""
        return rules.wait_text(self.ready_at, self.now)

    @property
    def upload_limit(self) -> str:
        return human_size(self.assignment.max_upload_bytes)

    @property
    def passed(self) -> bool:
        return bool(self.best) and rules.passes(percent=self.best.percent, pass_percent=self.assignment.pass_percent)


def assignment_for_item(*, item_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related("current_version", "item__course", "item__week")
        .filter(item_id=item_id)
        .first()
    )
    if assignment is None:
        raise Http404("This assignment has no grader yet.")
    return assignment


def assignment_page(*, user, assignment: Assignment, now: datetime.datetime | None = None) -> AssignmentPage:
    now = now or timezone.now()
    submissions = (
        list(Submission.objects.filter(assignment=assignment, learner=user).select_related("latest_run"))
        if user.is_authenticated
        else []
    )
    graded = [s for s in submissions if s.status == Submission.Status.GRADED and s.score is not None]
    best = max(graded, key=lambda s: (s.percent or 0, -s.attempt), default=None)
    attempts_left = rules.attempts_left(max_attempts=assignment.max_attempts, used=len(submissions))
    reason, ready_at = "", None
    if assignment.current_version is None:
        reason = NOT_OPEN
    elif not (decision := access.can_submit(user, assignment.item)):
        reason = decision.message
    elif not (check := rules.check_attempts(max_attempts=assignment.max_attempts, used=len(submissions))):
        reason = check.message
    elif not (check := cooldown_check(assignment=assignment, last=submissions[0] if submissions else None, now=now)):
        reason, ready_at = check.message, check.ready_at
    return AssignmentPage(
        assignment=assignment,
        version=assignment.current_version,
        submissions=submissions,
        best=best,
        can_submit=not reason,
        submit_blocked_reason=reason,
        attempts_left=attempts_left,
        ready_at=ready_at,
        now=now,
    )


def cooldown_check(*, assignment: Assignment, last: Submission | None, now: datetime.datetime) -> rules.Check:
    """The cooldown after `last` (the learner's latest submission): the page that counts down and the
    service that refuses both ask this."""
    return rules.check_cooldown(
        cooldown_minutes=assignment.cooldown_minutes, last_submitted_at=last.submitted_at if last else None, now=now
    )


def submission_for_viewer(*, user, submission_id: int) -> Submission:
    submission = (
        Submission.objects.select_related(
            "assignment__item__course", "assignment__item__week", "latest_run__grader_version"
        )
        .filter(pk=submission_id)
        .first()
    )
    if submission is None or not access.can_view_submission(user, owner_id=submission.learner_id):
        raise Http404("No such submission.")
    return submission


def _percent():
    # Each submission's own percentage: attempts graded on different versions may have different maxima.
    return ExpressionWrapper(F("score") * 100.0 / F("max_score"), output_field=FloatField())


def passed_assignment_item_ids(user, items) -> set[int]:
    """For course completion: assignment items where the learner's best attempt reaches the pass mark."""
    items = list(items)
    if not items or not user.is_authenticated:
        return set()
    best = (
        Submission.objects.filter(
            learner=user, assignment__item__in=items, status=Submission.Status.GRADED, max_score__gt=0
        )
        .values("assignment__item_id", "assignment__pass_percent")
        .annotate(best=Max(_percent()))
    )
    return {row["assignment__item_id"] for row in best if row["best"] >= row["assignment__pass_percent"]}


def gradebook(*, assignment: Assignment) -> list[dict]:
    """Each learner's best attempt on the assignment, as a percentage, and how many hints they opened
    (staff view)."""
    rows = list(
        Submission.objects.filter(assignment=assignment, status=Submission.Status.GRADED, max_score__gt=0)
        .values("learner__email")
        .annotate(best=Max(_percent()), attempts=Count("pk"), last=Max("submitted_at"))
        .order_by("learner__email")
    )
    hints = dict(
        HintReveal.objects.filter(assignment=assignment)
        .values("learner__email")
        .annotate(opened=Sum("count"))
        .values_list("learner__email", "opened")
    )
    for row in rows:
        row["hints"] = hints.get(row["learner__email"], 0)
    return rows


def hint_ladder(*, version: GraderVersion, test_name: str) -> list[str]:
    spec = next((t for t in version.tests if t.get("name") == test_name), None)
    return TestSpec.from_dict(spec).hint_ladder if spec else []


def submission_hints(*, submission: Submission) -> dict[str, dict]:
    """For each failed test of the submission's latest run that has hints: the ones the learner opened so
    far and how many remain (two queries)."""
    run = submission.latest_run
    failed = [t["name"] for t in (run.tests if run else []) if t.get("hints") and t.get("status") != "passed"]
    if not failed:
        return {}
    opened = dict(
        HintReveal.objects.filter(
            assignment_id=submission.assignment_id, learner_id=submission.learner_id, test_name__in=failed
        ).values_list("test_name", "count")
    )
    specs = {t.get("name"): t for t in run.grader_version.tests}
    hints = {}
    for name in failed:
        ladder = TestSpec.from_dict(specs[name]).hint_ladder if name in specs else []
        shown = ladder[: opened.get(name, 0)]
        hints[name] = {"shown": shown, "left": len(ladder) - len(shown), "total": len(ladder)}
    return hints


def regrade_comparison(*, job: RegradeJob) -> list[dict]:
    """Old and new score of every submission in a regrade job, in a fixed number of queries (the
    progress page polls it every second): the previous score comes from a subquery, not a query a row."""
    previous = GradingRun.objects.filter(submission=OuterRef("pk"), status=GradingRun.Status.GRADED).exclude(
        regrade=job
    )
    latest_previous = previous.order_by("-started_at", "-pk")
    runs = {run.submission_id: run for run in job.runs.all()}
    submissions = (
        Submission.objects.filter(pk__in=job.submission_ids)
        .select_related("learner")
        .annotate(
            old_score=Subquery(latest_previous.values("score")[:1]),
            old_max=Subquery(latest_previous.values("max_score")[:1]),
        )
        .order_by("pk")
    )
    rows = []
    for submission in submissions:
        new = runs.get(submission.pk)
        rows.append(
            {
                "submission": submission,
                "old": submission.old_score,
                "new": new.score if new and new.status == GradingRun.Status.GRADED else None,
                "max": new.max_score if new else submission.old_max,
                "status": new.status if new else "pending",
            }
        )
    return rows


@dataclasses.dataclass(frozen=True)
class EditorBase:
    """What the in-browser editor starts from: the learner's latest submission, else the starter."""

    notebook: dict
    label: str  # "attempt-3" or "starter-1": a draft saved against another base is offered, not applied


def editor_base(*, assignment: Assignment, learner) -> EditorBase:
    version = assignment.current_version
    latest = assignment.submissions.filter(learner=learner).order_by("-attempt").first()
    if latest is not None:
        return EditorBase(notebook_load(latest.notebook_path), f"attempt-{latest.attempt}")
    return EditorBase(copy.deepcopy(version.starter), f"starter-{version.number}")
