"""Peer review's reads: the rubric, what a learner has given and received, grade estimates, the
agreement figures, and the data behind each page."""

from __future__ import annotations

import dataclasses
import datetime
import statistics

from django.db.models import Count, Prefetch, Q
from django.http import Http404

from courses import api as courses

from . import scoring
from .models import Assignment, Criterion, Dispute, Flag, Option, Phase, Review, ReviewStatus, StaffAction, Submission


def assignment_for_item(*, item_id: int) -> Assignment:
    assignment = Assignment.objects.select_related("item__course", "item__week").filter(pk=item_id).first()
    if assignment is None:
        raise Http404("This peer-review assignment is not set up yet.")
    return assignment


def rubric(*, assignment: Assignment) -> list[Criterion]:
    cache = getattr(assignment, "_rubric_cache", None)
    if cache is None:
        cache = list(
            Criterion.objects.filter(assignment=assignment).prefetch_related(
                Prefetch("options", queryset=Option.objects.order_by("order", "id"))
            )
        )
        assignment._rubric_cache = cache
    return cache


def rubric_crits(*, assignment: Assignment) -> list[scoring.Crit]:
    return [scoring.Crit(c.name, c.weight, c.max_points) for c in rubric(assignment=assignment)]


def reviews_given(*, reviewer, assignment: Assignment) -> int:
    """Completed reviews that count toward the reviewer's share (training examples do not)."""
    if reviewer is None:
        return 0
    return Review.objects.filter(
        assignment=assignment, reviewer=reviewer, status__in=[ReviewStatus.COMPLETED, ReviewStatus.DISCARDED],
        is_training=False,
    ).count()  # fmt: skip


def training_examples(*, assignment: Assignment) -> list[Submission]:
    return list(
        Submission.objects.filter(assignment=assignment, is_training=True, superseded=False).order_by("order", "id")
    )


def training_passed_ids(*, reviewer, assignment: Assignment, examples: list[Submission]) -> set[int]:
    return {
        review.submission_id
        for review in Review.objects.filter(
            reviewer=reviewer, submission__in=examples, status=ReviewStatus.COMPLETED, is_training=True
        )
        if review.bias_after is not None and abs(review.bias_after) <= assignment.training_tolerance
    }


def training_next(*, reviewer, assignment: Assignment) -> Submission | None:
    """The first training example the reviewer has not passed yet (None: training done or none)."""
    examples = training_examples(assignment=assignment)
    if not examples:
        return None
    passed = training_passed_ids(reviewer=reviewer, assignment=assignment, examples=examples)
    return next((example for example in examples if example.pk not in passed), None)


# ---- estimates ------------------------------------------------------------------------------------


def _assignment_data(assignment: Assignment):
    rows = list(
        Review.objects.filter(assignment=assignment, status=ReviewStatus.COMPLETED).values_list(
            "reviewer_id", "submission_id", "scores"
        )
    )
    crits = rubric_crits(assignment=assignment)
    obs = scoring.observations(rows, crits)
    truths: dict[tuple[int, str], float] = {}
    staff = Submission.objects.filter(assignment=assignment, staff_scores__isnull=False, superseded=False)
    spot_checks: dict[int, float] = {}
    for submission in staff:
        for c in crits:
            if c.name in submission.staff_scores:
                truths[(submission.pk, c.name)] = scoring.criterion_percent(submission.staff_scores[c.name], c)
        if not submission.is_example:
            spot_checks[submission.pk] = submission.staff_percent
    reviews_of: dict[int, list] = {}
    for reviewer_id, submission_id, scores in rows:
        reviews_of.setdefault(submission_id, []).append((reviewer_id, scores))
    return crits, obs, truths, spot_checks, reviews_of


_MODEL_CACHE: dict[int, tuple[int, dict]] = {}
REFIT_GROWTH = 0.05  # refit when the assignment's completed reviews grew by 5 % (at least 1, at most 20)


def reviewer_models(*, assignment: Assignment, fresh: bool = False) -> dict[int, scoring.ReviewerModel]:
    """Every reviewer's bias and spread on this assignment. The fit reads every review of the assignment, so a
    release reuses the last fit (per process) until the reviews grew by REFIT_GROWTH: one more review barely
    moves a model fitted on hundreds, and a release needs only the current estimate."""
    count = Review.objects.filter(assignment=assignment, status=ReviewStatus.COMPLETED).count()
    cached = _MODEL_CACHE.get(assignment.pk)
    if not fresh and cached is not None and 0 <= count - cached[0] < max(1, min(20, REFIT_GROWTH * cached[0])):
        return cached[1]
    _crits, obs, truths, _spot, _of = _assignment_data(assignment)
    models = scoring.fit_reviewers(obs, truths)
    _MODEL_CACHE[assignment.pk] = (count, models)
    return models


@dataclasses.dataclass(frozen=True)
class GradeResult:
    estimate: scoring.Estimate
    final_percent: float
    final_scores: dict[str, float]  # points per criterion, as the chosen method estimates them


def grade_estimate(*, submission: Submission, models: dict | None = None) -> GradeResult | None:
    assignment = submission.assignment
    crits = rubric_crits(assignment=assignment)
    reviews = [
        (r.reviewer_id, r.scores) for r in submission.reviews.filter(status=ReviewStatus.COMPLETED).order_by("id")
    ]
    if not reviews:
        return None
    models = models if models is not None else reviewer_models(assignment=assignment)
    est = scoring.estimate(reviews, crits, models)
    calibrated = assignment.scoring_method == "calibrated"
    per = est.calibrated if calibrated else est.median
    return GradeResult(
        estimate=est,
        final_percent=est.calibrated_percent if calibrated else est.median_percent,
        final_scores={c.name: round(per[c.name] * c.max_points / 100, 2) for c in crits},
    )


def agreement(*, assignment: Assignment) -> scoring.Agreement:
    crits, obs, truths, spot_checks, reviews_of = _assignment_data(assignment)
    return scoring.compare_methods(obs, truths, spot_checks, reviews_of, crits)


# ---- the learner's page ---------------------------------------------------------------------------


@dataclasses.dataclass
class ReceivedReview:
    number: int  # "Reviewer 1", never a name
    review_id: int
    scores: dict
    comments: dict
    percent: float | None
    flagged: bool


@dataclasses.dataclass
class CriterionFeedback:
    name: str
    prompt: str
    max_points: int
    grade_points: float | None
    reviews: list[tuple[int, int, str, str]]  # (reviewer number, points, option label, comment)


@dataclasses.dataclass
class LearnerPage:
    assignment: Assignment
    criteria: list[Criterion]
    submission: Submission | None
    given: int
    lease: Review | None
    training_next: Submission | None
    training_total: int
    training_done: int
    received: list[ReceivedReview]
    feedback: list[CriterionFeedback]
    dispute: Dispute | None
    phase_label: str
    passed: bool | None
    calibration_feedback: list[Review]
    can_replace: bool


def phase_of(submission: Submission | None, *, given: int, to_give: int, leased: bool) -> str:
    """The learner's phase as the dashboard and their page name it."""
    if submission is None:
        return "not submitted"
    if submission.phase == Phase.GRADED:
        return "graded"
    if submission.phase == Phase.ESCALATED:
        return "escalated"
    if submission.phase == Phase.STAFF_QUEUE:
        return "in the staff queue"
    if leased or (given < to_give and not submission.gave_all_available):
        return "reviewing" if given or leased else "submitted"
    return "waiting"


def learner_page(*, user, assignment: Assignment) -> LearnerPage:
    criteria = rubric(assignment=assignment)
    submission = None
    given, lease, nxt, received, feedback, dispute, calibration = 0, None, None, [], [], None, []
    examples = training_examples(assignment=assignment)
    training_done = 0
    if user.is_authenticated:
        submission = Submission.objects.filter(assignment=assignment, author=user, superseded=False).first()
        given = reviews_given(reviewer=user, assignment=assignment)
        lease = (
            Review.objects.filter(assignment=assignment, reviewer=user, status=ReviewStatus.LEASED)
            .select_related("submission")
            .first()
        )
        nxt = training_next(reviewer=user, assignment=assignment)
        training_done = len(training_passed_ids(reviewer=user, assignment=assignment, examples=examples))
        calibration = list(
            Review.objects.filter(
                assignment=assignment, reviewer=user, status=ReviewStatus.COMPLETED, bias_after__isnull=False
            ).order_by("completed_at")
        )
        dispute = Dispute.objects.filter(assignment=assignment, author=user).first()
    if submission is not None and submission.released_at is not None:
        flagged = set(
            Flag.objects.filter(flagged_by=user, review__submission=submission).values_list("review_id", flat=True)
        )
        rows = list(submission.reviews.filter(status=ReviewStatus.COMPLETED).order_by("completed_at", "id"))
        received = [
            ReceivedReview(n, r.pk, r.scores, r.comments, r.percent, r.pk in flagged) for n, r in enumerate(rows, 1)
        ]
        for c in criteria:
            labels = {o.points: o.label for o in c.options.all()}
            grade = (submission.final_scores or {}).get(c.name)
            feedback.append(
                CriterionFeedback(
                    name=c.name,
                    prompt=c.prompt,
                    max_points=c.max_points,
                    grade_points=grade,
                    reviews=[
                        (
                            rr.number,
                            rr.scores.get(c.name),
                            labels.get(rr.scores.get(c.name), ""),
                            rr.comments.get(c.name, ""),
                        )
                        for rr in received
                    ],
                )
            )
    phase = phase_of(submission, given=given, to_give=assignment.reviews_to_give, leased=lease is not None)
    passed = None
    if submission is not None and submission.released_at is not None and submission.final_percent is not None:
        passed = submission.final_percent >= assignment.pass_percent
    return LearnerPage(
        assignment=assignment,
        criteria=criteria,
        submission=submission,
        given=given,
        lease=lease,
        training_next=nxt,
        training_total=len(examples),
        training_done=training_done,
        received=received,
        feedback=feedback,
        dispute=dispute,
        phase_label=phase,
        passed=passed,
        calibration_feedback=calibration,
        can_replace=submission is None or not submission.ever_leased or submission.resubmit_allowed,
    )


def passed_item_ids(user, items) -> set[int]:
    """The passed checker registered for peer-review items: a released grade at or above the pass mark."""
    ids = [item.pk for item in items]
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    rows = Submission.objects.filter(
        author=user, assignment_id__in=ids, superseded=False, released_at__isnull=False
    ).values_list("assignment_id", "final_percent", "assignment__pass_percent")
    return {item_id for item_id, percent, mark in rows if percent is not None and percent >= mark}


# ---- reviewing ------------------------------------------------------------------------------------


def review_target(*, reviewer, submission_id: int) -> tuple[Submission, Review | None]:
    """The work a reviewer may open: one leased to them, one they reviewed, or a training example."""
    submission = Submission.objects.select_related("assignment__item__course").filter(pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission.")
    review = (
        Review.objects.filter(submission=submission, reviewer=reviewer).exclude(status=ReviewStatus.EXPIRED).first()
    )
    if review is None and not submission.is_training:
        raise Http404("This work is not assigned to you.")
    return submission, review


# ---- the reviewer's list ("assigned to me") -------------------------------------------------------


@dataclasses.dataclass
class AssignedRow:
    assignment: Assignment
    leased: list[Review]
    done: int
    to_give: int
    due: datetime.datetime | None
    staff_queue: int


def assigned_to(*, user) -> list[AssignedRow]:
    """What is leased to a reviewer, what is due and what they have done, per assignment."""
    reviews = (
        Review.objects.filter(reviewer=user)
        .exclude(status=ReviewStatus.EXPIRED)
        .select_related("assignment__item__course")
        .order_by("assignment_id", "leased_at")
    )
    by_assignment: dict[int, AssignedRow] = {}
    for review in reviews:
        row = by_assignment.get(review.assignment_id)
        if row is None:
            a = review.assignment
            row = by_assignment[a.pk] = AssignedRow(a, [], 0, a.reviews_to_give, a.review_deadline, 0)
        if review.status == ReviewStatus.LEASED:
            row.leased.append(review)
        elif not review.is_training:
            row.done += 1
    if getattr(user, "is_staff", False):
        queue = (
            Submission.objects.filter(phase__in=[Phase.STAFF_QUEUE, Phase.ESCALATED], superseded=False)
            .values("assignment_id")
            .annotate(n=Count("pk"))
        )
        counts = {row["assignment_id"]: row["n"] for row in queue}
        for a in Assignment.objects.filter(pk__in=counts).select_related("item__course"):
            row = by_assignment.setdefault(a.pk, AssignedRow(a, [], 0, a.reviews_to_give, a.review_deadline, 0))
            row.staff_queue = counts[a.pk]
    return sorted(by_assignment.values(), key=lambda r: (r.assignment.item.course.order, r.assignment.item.order))


# ---- staff ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class DashboardRow:
    submission: Submission
    author_email: str
    phase: str
    given: int
    received: int
    spread: float | None
    accuracy: float | None  # the reviewer's mean absolute difference from staff on calibration work


@dataclasses.dataclass
class Dashboard:
    assignment: Assignment
    rows: list[DashboardRow]
    phases: dict[str, int]
    agreement: dict
    queue: list[Submission]
    disputes: list[Dispute]
    flags: list[Flag]
    actions: list[StaffAction]
    reviewers: list[tuple[str, scoring.ReviewerModel]]


def dashboard(*, assignment: Assignment) -> Dashboard:
    submissions = list(
        Submission.objects.filter(assignment=assignment, superseded=False, is_example=False)
        .select_related("author")
        .order_by("created_at", "id")
    )
    given_rows = (
        Review.objects.filter(assignment=assignment, is_training=False)
        .values("reviewer_id")
        .annotate(
            done=Count("pk", filter=Q(status__in=[ReviewStatus.COMPLETED, ReviewStatus.DISCARDED])),
            leased=Count("pk", filter=Q(status=ReviewStatus.LEASED)),
        )
    )
    given = {row["reviewer_id"]: row for row in given_rows}
    calibration: dict[int, list[float]] = {}
    for reviewer_id, bias in Review.objects.filter(
        assignment=assignment, status=ReviewStatus.COMPLETED, bias_after__isnull=False
    ).values_list("reviewer_id", "bias_after"):
        calibration.setdefault(reviewer_id, []).append(abs(bias))
    rows, phases = [], {}
    for s in submissions:
        mine = given.get(s.author_id, {"done": 0, "leased": 0})
        phase = phase_of(s, given=mine["done"], to_give=assignment.reviews_to_give, leased=bool(mine["leased"]))
        phases[phase] = phases.get(phase, 0) + 1
        accuracy = statistics.fmean(calibration[s.author_id]) if calibration.get(s.author_id) else None
        rows.append(DashboardRow(s, s.author.email, phase, mine["done"], s.completed_reviews, s.spread, accuracy))
    models = reviewer_models(assignment=assignment)
    emails = dict(Review.objects.filter(assignment=assignment).values_list("reviewer_id", "reviewer__email").distinct())
    reviewers = sorted(
        ((emails.get(rid, "?"), m) for rid, m in models.items() if rid in emails), key=lambda pair: -abs(pair[1].bias)
    )
    return Dashboard(
        assignment=assignment,
        rows=rows,
        phases=phases,
        agreement=assignment.agreement or {},
        queue=[s for s in submissions if s.phase in (Phase.STAFF_QUEUE, Phase.ESCALATED)],
        disputes=list(
            Dispute.objects.filter(assignment=assignment).select_related("author").order_by("status", "created_at")
        ),
        flags=list(
            Flag.objects.filter(review__assignment=assignment, resolved_at__isnull=True).select_related("review")
        ),
        actions=list(StaffAction.objects.filter(assignment=assignment).select_related("actor", "submission")[:50]),
        reviewers=reviewers[:20],
    )


def staff_submission(*, submission_id: int) -> tuple[Submission, list[Review], list[StaffAction]]:
    submission = (
        Submission.objects.select_related("assignment__item__course", "author").filter(pk=submission_id).first()
    )
    if submission is None:
        raise Http404("No such submission.")
    reviews = list(submission.reviews.exclude(status=ReviewStatus.EXPIRED).select_related("reviewer").order_by("id"))
    return submission, reviews, list(submission.staff_actions.select_related("actor"))


def csv_rows(*, assignment: Assignment):
    """Submissions then reviews, as rows for the CSV export (staff only: it names authors and reviewers)."""
    yield ["record", "submission", "author", "reviewer", "phase", "status", "percent", "median", "calibrated",
           "spread", "scores", "created", "completed"]  # fmt: skip
    for s in Submission.objects.filter(assignment=assignment, superseded=False).select_related("author"):
        yield ["submission", s.pk, s.author.email if s.author else "(example)", "", s.phase, "",
               s.final_percent, s.median_percent, s.calibrated_percent, s.spread, s.staff_scores or "",
               s.created_at.isoformat(), s.released_at.isoformat() if s.released_at else ""]  # fmt: skip
    for r in (
        Review.objects.filter(assignment=assignment)
        .exclude(status=ReviewStatus.EXPIRED)
        .select_related("reviewer", "submission__author")
    ):
        author = r.submission.author.email if r.submission.author else "(example)"
        yield ["review", r.submission_id, author, r.reviewer.email, "", r.status, r.percent, "", "", "",
               r.scores, r.leased_at.isoformat(), r.completed_at.isoformat() if r.completed_at else ""]  # fmt: skip


def assignments_of_course(*, course_slug: str) -> list[int]:
    ids = []
    course = courses.course_get(slug=course_slug)
    for week in courses.course_structure(course_id=course.pk):
        ids += [item.item_id for item in week.items if item.kind == "peer_review"]
    existing = set(Assignment.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return [i for i in ids if i in existing]
