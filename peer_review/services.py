"""Peer review's writes: submitting work, allocating it to reviewers, reviews, grade release, the
fallbacks that keep everyone moving, and the staff actions with their audit trail.

Allocation is one transaction per request: expire stale leases, then `SELECT … FOR UPDATE SKIP LOCKED`
the eligible submission with the fewest completed-plus-leased reviews (ties: waiting longest), so two
reviewers asking at the same instant never take the same slot and never wait on each other. The
counters on Submission (`active_reviews`, `completed_reviews`) are changed only here, each with the
row locked or by an atomic `F()` update.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import PurePath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from access import api as access
from courses import api as courses

from . import events, notebooks, scoring, selectors
from .models import (
    Assignment,
    Dispute,
    DisputeStatus,
    Flag,
    Phase,
    Review,
    ReviewStatus,
    StaffAction,
    Submission,
)

MAX_TEXT = 50_000
MAX_REASON = 5_000
MAX_COMMENT = 5_000
RETRY_PAUSES = (0.005, 0.01, 0.02, 0.04, 0.08, 0.1, 0.1, 0.1)  # seconds; about half a second in all


class PeerReviewError(Exception):
    """Something a learner or staff member asked for that we refuse; the message is written for them."""


class SubmissionRefused(PeerReviewError):
    pass


class ReviewRefused(PeerReviewError):
    pass


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def lease_duration() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.PEER_REVIEW_LEASE_HOURS)


# ---- submitting -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file as the view received it (name and bytes), so the service needs no request objects."""

    name: str
    content: bytes


def check_can_submit(*, author, assignment: Assignment, now: datetime.datetime) -> access.Decision | str:
    """The access decision, or the sentence explaining why this assignment takes no work now ('' when it does)."""
    decision = access.can_submit(author, assignment.item)
    if not decision:
        return decision
    if assignment.submission_deadline and now > assignment.submission_deadline:
        when = timezone.localtime(assignment.submission_deadline)
        return f"Submissions closed on {when:%-d %B %Y at %H:%M}."
    return ""


def submission_submit(
    *,
    author,
    assignment: Assignment,
    text: str = "",
    upload: Upload | None = None,
    now: datetime.datetime | None = None,
) -> Submission:
    """Submit (or, before anyone started reviewing it, replace) the learner's work.

    After the first lease only staff can allow a new version (`resubmission_allow`); it then replaces
    the old one, whose open leases end. Raises SubmissionRefused or access.AccessDenied; nothing changes
    on error."""
    now = _now(now)
    refusal = check_can_submit(author=author, assignment=assignment, now=now)
    if isinstance(refusal, access.Decision):
        refusal.require()
    if refusal:
        raise SubmissionRefused(refusal)
    text = (text or "").replace("\r\n", "\n").strip()
    if text and not assignment.accepts_text:
        raise SubmissionRefused("This assignment takes a file, not typed text.")
    if len(text) > MAX_TEXT:
        raise SubmissionRefused(f"Your answer is {len(text):,} characters long; the limit is {MAX_TEXT:,}.")
    fields: dict = {"text": text, "notebook": None}
    if upload is not None:
        fields |= _check_upload(assignment, upload)
    if not text and upload is None:
        raise SubmissionRefused("Write your answer (or attach your file) before submitting.")
    with transaction.atomic():
        current = (
            Submission.objects.select_for_update()
            .filter(assignment=assignment, author=author, superseded=False)
            .first()
        )
        if current is not None and not current.ever_leased:
            for key, value in fields.items():
                if key != "file_upload":
                    setattr(current, key, value)
            if "file_upload" in fields:
                current.file.save(fields["file_upload"][0], fields["file_upload"][1], save=False)
            current.save()
            return current
        if current is not None and not current.resubmit_allowed:
            raise SubmissionRefused(
                "Reviewers have already started on your submission, so it can no longer be replaced. "
                "Staff can allow a new version if something went wrong."
            )
        if current is not None:
            current.superseded = True
            current.save(update_fields=["superseded"])
            current.reviews.filter(status=ReviewStatus.LEASED).update(status=ReviewStatus.EXPIRED)
        submission = Submission(
            assignment=assignment,
            author=author,
            created_at=now,
            required_reviews=assignment.reviews_to_receive,
            text=fields["text"],
            notebook=fields["notebook"],
        )
        if "file_upload" in fields:
            submission.file.save(fields["file_upload"][0], fields["file_upload"][1], save=False)
        submission.save()
    return submission


def _check_upload(assignment: Assignment, upload: Upload) -> dict:
    from django.core.files.base import ContentFile

    suffix = PurePath(upload.name).suffix.lower()
    if len(upload.content) > assignment.max_file_bytes:
        raise SubmissionRefused(
            f"The file is {len(upload.content) / 1e6:.1f} MB; the limit is {assignment.max_file_bytes / 1e6:.1f} MB."
        )
    if suffix == ".ipynb" and assignment.accepts_notebook:
        try:
            return {"notebook": notebooks.sanitize(upload.content)}
        except notebooks.NotebookRejected as exc:
            raise SubmissionRefused(str(exc)) from None
    allowed = [t.lower() for t in assignment.file_types]
    if suffix not in allowed:
        accepted = ", ".join(allowed + ([".ipynb"] if assignment.accepts_notebook else [])) or "no files"
        raise SubmissionRefused(f"Files of type {suffix or '(none)'} are not accepted here (accepted: {accepted}).")
    if not upload.content:
        raise SubmissionRefused("The file is empty.")
    # Stored under a neutral name: the learner's file name could carry their name to reviewers.
    return {"file_upload": (f"submission{suffix}", ContentFile(upload.content))}


# ---- allocation -----------------------------------------------------------------------------------


def leases_expire(*, assignment: Assignment | None = None, now: datetime.datetime | None = None) -> int:
    """End leases past their expiry: each slot returns to the pool. Safe to run concurrently (rows
    another transaction holds are left to it)."""
    now = _now(now)
    with transaction.atomic():
        stale = Review.objects.select_for_update(skip_locked=True).filter(
            status=ReviewStatus.LEASED, expires_at__lt=now
        )
        if assignment is not None:
            stale = stale.filter(assignment=assignment)
        rows = list(stale.values_list("pk", "submission_id"))
        if not rows:
            return 0
        Review.objects.filter(pk__in=[pk for pk, _s in rows]).update(status=ReviewStatus.EXPIRED)
        for _pk, submission_id in rows:
            Submission.objects.filter(pk=submission_id, active_reviews__gt=0).update(
                active_reviews=F("active_reviews") - 1
            )
    return len(rows)


def check_can_review(*, reviewer, assignment: Assignment, now: datetime.datetime) -> str:
    """'' when the reviewer may ask for work now, else the sentence that explains why not."""
    decision = access.can_review_peer(reviewer, assignment.item)
    if not decision:
        return decision.message
    if access.can_review_without_submitting(reviewer):
        return ""
    if assignment.review_deadline and now > assignment.review_deadline:
        return "The review period has ended."
    if not Submission.objects.filter(assignment=assignment, author=reviewer, superseded=False).exists():
        return "Submit your own work first: then you can review your peers."
    if selectors.training_next(reviewer=reviewer, assignment=assignment) is not None:
        return "Finish the training step first: score the examples until your scores agree with staff."
    return ""


def review_request(*, reviewer, assignment: Assignment, now: datetime.datetime | None = None) -> Submission | None:
    """Lease a submission to the reviewer and return it, or None when nothing may be given now.

    Order: work still short of leases+reviews (fewest first, then waiting longest; once the reviewer has
    given their share, waiting longest first), then extra reviews of work not yet graded (waiting
    longest), then staff-scored calibration work (counts as a review; measures accuracy). Never the
    reviewer's own work, never work they reviewed or hold. A reviewer holds one lease per assignment:
    asking again returns it. Raises ReviewRefused."""
    now = _now(now)
    refusal = check_can_review(reviewer=reviewer, assignment=assignment, now=now)
    if refusal:
        raise ReviewRefused(refusal)
    leases_expire(assignment=assignment, now=now)
    learner = not access.can_review_without_submitting(reviewer)
    with transaction.atomic():
        held = (
            Review.objects.filter(assignment=assignment, reviewer=reviewer, status=ReviewStatus.LEASED)
            .select_related("submission")
            .first()
        )
        if held is not None:
            return held.submission
        given = selectors.reviews_given(reviewer=reviewer, assignment=assignment)
        owes = given < assignment.reviews_to_give or not learner
        seen = Review.objects.filter(assignment=assignment, reviewer=reviewer).exclude(status=ReviewStatus.EXPIRED)
        pool = (
            Submission.objects.filter(assignment=assignment, superseded=False, is_example=False, phase=Phase.OPEN)
            .exclude(author=reviewer)
            .exclude(pk__in=seen.values("submission_id"))
        )
        short = pool.filter(active_reviews__lt=F("required_reviews"))
        order = ("active_reviews", "created_at", "id") if owes else ("created_at", "id")
        chosen = _lock_first(short.order_by(*order))
        for pause in RETRY_PAUSES:
            # Nothing unlocked, but work still short of reviews exists: other reviewers hold those rows for
            # a few milliseconds. Wait for them rather than hand out extra reviews while slots remain.
            if chosen is not None or not short.exists():
                break
            time.sleep(pause)
            chosen = _lock_first(short.order_by(*order))
        extra = not owes
        if chosen is None:
            chosen, extra = _lock_first(pool.order_by("created_at", "id")), True
        calibration = False
        if chosen is None and owes:
            calibration_pool = (
                Submission.objects.filter(assignment=assignment, superseded=False, staff_scores__isnull=False)
                .exclude(author=reviewer)
                .exclude(pk__in=seen.values("submission_id"))
                .exclude(is_training=True, reviews__reviewer=reviewer)
            )
            chosen, extra, calibration = (
                _lock_first(calibration_pool.order_by("active_reviews", "created_at", "id")),
                False,
                True,
            )
        if chosen is None:
            if learner and owes:
                Submission.objects.filter(assignment=assignment, author=reviewer, superseded=False).update(
                    gave_all_available=True
                )
                own = Submission.objects.filter(assignment=assignment, author=reviewer, superseded=False).first()
                if own is not None:
                    grade_try_release(submission=own, now=now)
            return None
        try:
            with transaction.atomic():
                Review.objects.create(
                    assignment=assignment,
                    submission=chosen,
                    reviewer=reviewer,
                    leased_at=now,
                    expires_at=now + lease_duration(),
                    is_calibration=calibration or chosen.staff_scores is not None,
                    is_extra=extra,
                )
        except IntegrityError:  # a lease taken in a parallel request of the same reviewer: hand that one back
            held = Review.objects.filter(assignment=assignment, reviewer=reviewer, status=ReviewStatus.LEASED).first()
            return held.submission if held else None
        Submission.objects.filter(pk=chosen.pk).update(active_reviews=F("active_reviews") + 1, ever_leased=True)
        chosen.refresh_from_db()
    return chosen


def _lock_first(queryset) -> Submission | None:
    return queryset.select_for_update(skip_locked=True, of=("self",)).first()


# ---- reviewing ------------------------------------------------------------------------------------


def _clean_review(assignment: Assignment, scores: dict, comments: dict | None) -> tuple[dict, dict]:
    rubric = {c.name: c for c in selectors.rubric(assignment=assignment)}
    if not isinstance(scores, dict):
        raise ReviewRefused("Send the scores as one choice per criterion.")
    missing = [name for name in rubric if name not in scores]
    unknown = [name for name in scores if name not in rubric]
    if unknown:
        raise ReviewRefused(f"Unknown criterion: {', '.join(map(str, unknown))}. Nothing was saved.")
    if missing:
        raise ReviewRefused(f"Choose an option for every criterion (missing: {', '.join(missing)}).")
    clean_scores = {}
    for name, value in scores.items():
        offered = {o.points for o in rubric[name].options.all()}
        try:
            points = int(value)
        except (TypeError, ValueError):
            points = None
        if points is None or isinstance(value, bool) or points not in offered or str(points) != str(value).strip():
            raise ReviewRefused(f"{name}: {value!r} is not one of the options. Nothing was saved.")
        clean_scores[name] = points
    clean_comments = {}
    for name, text in (comments or {}).items():
        if name not in rubric:
            raise ReviewRefused(f"Unknown criterion for a comment: {name}. Nothing was saved.")
        text = str(text or "").strip()
        if text and not rubric[name].comment_box:
            raise ReviewRefused(f"{name} takes no comment.")
        if len(text) > MAX_COMMENT:
            raise ReviewRefused(f"{name}: a comment may have at most {MAX_COMMENT:,} characters.")
        if text:
            clean_comments[name] = text
    return clean_scores, clean_comments


def review_submit(
    *,
    reviewer,
    submission_id: int,
    scores: dict,
    comments: dict | None = None,
    now: datetime.datetime | None = None,
) -> Review:
    """Record a review of a leased submission (or of a training example, which needs no lease and may be
    tried again). The first review freezes the rubric. Grades that can now be released are. Raises
    ReviewRefused with nothing saved."""
    now = _now(now)
    submission = Submission.objects.select_related("assignment__item__course").filter(pk=submission_id).first()
    if submission is None:
        raise ReviewRefused("There is no such submission.")
    assignment = submission.assignment
    access.can_review_peer(reviewer, assignment.item).require()
    clean_scores, clean_comments = _clean_review(assignment, scores, comments)
    rubric = selectors.rubric_crits(assignment=assignment)
    percent = scoring.review_percent(clean_scores, rubric)
    if submission.is_training:
        return _training_review(reviewer, submission, clean_scores, clean_comments, percent, now)
    with transaction.atomic():
        review = (
            Review.objects.select_for_update()
            .filter(submission=submission, reviewer=reviewer)
            .exclude(status=ReviewStatus.EXPIRED)
            .first()
        )
        if review is None or review.status != ReviewStatus.LEASED:
            if review is not None:
                raise ReviewRefused("You have already reviewed this work.")
            raise ReviewRefused(
                "This work is not assigned to you (or your time to review it ran out). Ask for new work."
            )
        if review.expires_at and review.expires_at < now:
            review.status = ReviewStatus.EXPIRED
            review.save(update_fields=["status"])
            Submission.objects.filter(pk=submission.pk, active_reviews__gt=0).update(
                active_reviews=F("active_reviews") - 1
            )
            raise_after = True
        else:
            raise_after = False
            review.status = ReviewStatus.COMPLETED
            review.completed_at = now
            review.scores, review.comments, review.percent = clean_scores, clean_comments, round(percent, 2)
            if submission.staff_percent is not None:
                review.bias_after = round(percent - submission.staff_percent, 2)
            review.save()
            Submission.objects.filter(pk=submission.pk).update(completed_reviews=F("completed_reviews") + 1)
            Assignment.objects.filter(pk=assignment.pk, rubric_frozen_at__isnull=True).update(rubric_frozen_at=now)
    if raise_after:
        raise ReviewRefused(
            "Your time to review this work ran out (leases last "
            f"{settings.PEER_REVIEW_LEASE_HOURS} hours); it went back to the pool. Ask for new work."
        )
    submission.refresh_from_db()
    grade_try_release(submission=submission, now=now)
    own = Submission.objects.filter(assignment=assignment, author=reviewer, superseded=False).first()
    if own is not None:
        grade_try_release(submission=own, now=now)
    return review


def _training_review(reviewer, submission, scores, comments, percent, now) -> Review:
    bias = round(percent - (submission.staff_percent or 0.0), 2)
    with transaction.atomic():
        review, _ = Review.objects.update_or_create(
            submission=submission,
            reviewer=reviewer,
            status__in=[ReviewStatus.COMPLETED, ReviewStatus.LEASED],
            defaults={
                "assignment": submission.assignment,
                "status": ReviewStatus.COMPLETED,
                "leased_at": now,
                "completed_at": now,
                "is_training": True,
                "is_calibration": True,
                "scores": scores,
                "comments": comments,
                "percent": round(percent, 2),
                "bias_after": bias,
            },
        )
        Assignment.objects.filter(pk=submission.assignment_id, rubric_frozen_at__isnull=True).update(
            rubric_frozen_at=now
        )
    return review


# ---- grades ---------------------------------------------------------------------------------------


def _author_gave_enough(submission: Submission) -> bool:
    if submission.gave_all_available:
        return True
    given = selectors.reviews_given(reviewer=submission.author, assignment=submission.assignment)
    return given >= submission.assignment.reviews_to_give


def grade_try_release(*, submission: Submission, now: datetime.datetime | None = None) -> bool:
    """Release the grade once the author has given their reviews and received enough; a wide spread
    between reviews escalates to staff instead. True when something was released or escalated."""
    now = _now(now)
    if submission.is_example or submission.superseded or submission.phase != Phase.OPEN:
        return False
    if submission.completed_reviews < submission.required_reviews or not _author_gave_enough(submission):
        return False
    with transaction.atomic():
        locked = (
            Submission.objects.select_for_update(of=("self",)).select_related("assignment__item").get(pk=submission.pk)
        )
        if locked.phase != Phase.OPEN:
            return False
        result = selectors.grade_estimate(submission=locked)
        if result is None:
            return False
        locked.median_percent = round(result.estimate.median_percent, 2)
        locked.calibrated_percent = round(result.estimate.calibrated_percent, 2)
        locked.spread = round(result.estimate.spread, 2)
        locked.method = locked.assignment.scoring_method
        if result.estimate.spread > settings.PEER_REVIEW_ESCALATION_SPREAD:
            locked.phase, locked.escalated_at = Phase.ESCALATED, now
            locked.save()
            events.staff_alert(assignment=locked.assignment, now=now)
        else:
            _release(locked, result.final_percent, result.final_scores, now)
    submission.refresh_from_db()
    return True


def _release(submission: Submission, percent: float, scores: dict | None, now: datetime.datetime) -> None:
    submission.final_percent = round(percent, 2)
    submission.final_scores = scores
    submission.phase = Phase.GRADED
    first = submission.released_at is None
    submission.released_at = submission.released_at or now
    submission.save()
    courses.graded_result_changed(
        user_id=submission.author_id,
        item_id=submission.assignment_id,
        at=now,
        detail="" if submission.final_percent >= submission.assignment.pass_percent else "peer grade changed",
    )
    events.grade_ready(submission=submission, first=first)


def short_of_reviews_sweep(*, assignment: Assignment, now: datetime.datetime | None = None) -> dict[str, int]:
    """Work still short of reviews `short_after_days` after it arrived needs fewer (as many as it has, at
    least one); still with none after twice that, it goes to the staff queue."""
    now = _now(now)
    wait = datetime.timedelta(days=assignment.short_after_days)
    counts = {"lowered": 0, "queued": 0}
    open_work = Submission.objects.filter(
        assignment=assignment, superseded=False, is_example=False, phase=Phase.OPEN
    ).filter(completed_reviews__lt=F("required_reviews"))
    for submission in open_work.filter(created_at__lte=now - wait, completed_reviews__gte=1):
        Submission.objects.filter(pk=submission.pk).update(required_reviews=submission.completed_reviews)
        submission.refresh_from_db()
        counts["lowered"] += 1
        grade_try_release(submission=submission, now=now)
    queued = open_work.filter(created_at__lte=now - 2 * wait, completed_reviews=0)
    counts["queued"] = queued.update(phase=Phase.STAFF_QUEUE, staff_queue_at=now)
    open_work.filter(created_at__lte=now - wait, completed_reviews=0).exclude(required_reviews=1).update(
        required_reviews=1
    )
    if counts["queued"]:
        events.staff_alert(assignment=assignment, now=now)
    return counts


def assignment_choose_method(*, assignment: Assignment) -> scoring.Agreement:
    """Measure median and calibrated estimate against the staff spot checks; keep the better one."""
    agreement = selectors.agreement(assignment=assignment)
    Assignment.objects.filter(pk=assignment.pk).update(scoring_method=agreement.method, agreement=agreement.as_dict())
    assignment.scoring_method, assignment.agreement = agreement.method, agreement.as_dict()
    return agreement


def sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The periodic pass (Celery beat, or `manage.py peer_review_sweep`): leases, short-of-review work,
    the scoring method, reminders before the review deadline and staff alerts."""
    now = _now(now)
    totals = {"expired": leases_expire(now=now), "lowered": 0, "queued": 0, "reminded": 0}
    for assignment in Assignment.objects.select_related("item__course"):
        counts = short_of_reviews_sweep(assignment=assignment, now=now)
        totals["lowered"] += counts["lowered"]
        totals["queued"] += counts["queued"]
        assignment_choose_method(assignment=assignment)
        totals["reminded"] += events.review_reminders(assignment=assignment, now=now)
    return totals


# ---- learners: flags and disputes -----------------------------------------------------------------


def review_flag(*, user, review_id: int, reason: str, now: datetime.datetime | None = None) -> Flag:
    """The author of the reviewed work flags a review as inappropriate; staff see it in the queue."""
    now = _now(now)
    reason = (reason or "").strip()
    review = Review.objects.select_related("submission__assignment__item").filter(pk=review_id).first()
    if review is None or review.submission.author_id != user.pk or review.status != ReviewStatus.COMPLETED:
        raise PeerReviewError("You can flag only the reviews of your own work.")
    if not reason:
        raise PeerReviewError("Say what is inappropriate about this review.")
    if len(reason) > MAX_REASON:
        raise PeerReviewError(f"Keep the reason under {MAX_REASON:,} characters.")
    try:
        with transaction.atomic():
            flag = Flag.objects.create(review=review, flagged_by=user, reason=reason, created_at=now)
    except IntegrityError:
        raise PeerReviewError("You have already flagged this review.") from None
    events.staff_alert(assignment=review.submission.assignment, now=now, force=True)
    return flag


def dispute_open(*, author, submission_id: int, reason: str, now: datetime.datetime | None = None) -> Dispute:
    """Dispute a released grade, with a reason, once per assignment."""
    now = _now(now)
    reason = (reason or "").strip()
    submission = Submission.objects.select_related("assignment__item").filter(pk=submission_id).first()
    if submission is None or submission.author_id != author.pk:
        raise PeerReviewError("You can dispute only your own grade.")
    if submission.released_at is None:
        raise PeerReviewError("There is no grade to dispute yet.")
    if not reason:
        raise PeerReviewError("Give the reason you think the grade is wrong.")
    if len(reason) > MAX_REASON:
        raise PeerReviewError(f"Keep the reason under {MAX_REASON:,} characters.")
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                assignment=submission.assignment, submission=submission, author=author, reason=reason, created_at=now
            )
    except IntegrityError:
        raise PeerReviewError("You have already disputed this assignment's grade (once per assignment).") from None
    events.staff_alert(assignment=submission.assignment, now=now, force=True)
    return dispute


# ---- staff ----------------------------------------------------------------------------------------


def _require_staff(actor, assignment: Assignment) -> None:
    access.can_manage_peer_review(actor, course_id=assignment.item.course_id).require()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise PeerReviewError("Give a reason: it is kept in the audit trail.")
    return reason[:MAX_REASON]


def _audit(*, actor, submission, kind, before, after, reason, now, review=None) -> StaffAction:
    return StaffAction.objects.create(
        assignment=submission.assignment,
        submission=submission,
        review=review,
        actor=actor,
        kind=kind,
        before=before,
        after=after,
        reason=reason,
        at=now,
    )


def _locked_submission(submission_id) -> Submission:
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("assignment__item")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise PeerReviewError("There is no such submission.")
    return submission


def _grade_state(submission: Submission) -> dict:
    return {"percent": submission.final_percent, "phase": submission.phase}


def grade_override(
    *, actor, submission_id: int, percent: float, reason: str, now: datetime.datetime | None = None
) -> Submission:
    """Set a grade by hand (audit: who, when, before, after, why). Closes the staff queue or escalation."""
    now = _now(now)
    reason = _reason(reason)
    try:
        percent = float(percent)
    except (TypeError, ValueError):
        raise PeerReviewError("The grade is a number from 0 to 100.") from None
    if not 0 <= percent <= 100:
        raise PeerReviewError("The grade is a number from 0 to 100.")
    with transaction.atomic():
        submission = _locked_submission(submission_id)
        _require_staff(actor, submission.assignment)
        if submission.is_example:
            raise PeerReviewError("Examples have staff scores, not grades.")
        before = _grade_state(submission)
        submission.overridden = True
        submission.method = "override"
        _release(submission, percent, submission.final_scores, now)
        _audit(
            actor=actor, submission=submission, kind=StaffAction.Kind.OVERRIDE, before=before,
            after=_grade_state(submission), reason=reason, now=now,
        )  # fmt: skip
    return submission


def staff_grade(
    *, actor, submission_id: int, scores: dict, reason: str = "Graded from the staff queue.",
    now: datetime.datetime | None = None,
) -> Submission:  # fmt: skip
    """Staff score a submission with the rubric: its grade (from the queue, or an escalation), and a
    spot check that measures the scoring methods and calibrates its reviewers."""
    now = _now(now)
    reason = _reason(reason)
    with transaction.atomic():
        submission = _locked_submission(submission_id)
        assignment = submission.assignment
        _require_staff(actor, assignment)
        clean, _ = _clean_review(assignment, scores, None)
        percent = scoring.review_percent(clean, selectors.rubric_crits(assignment=assignment))
        before = _grade_state(submission)
        submission.staff_scores, submission.staff_percent = clean, round(percent, 2)
        if submission.is_example:
            submission.save(update_fields=["staff_scores", "staff_percent"])
        else:
            submission.method = "staff"
            _release(submission, percent, clean, now)
        _audit(
            actor=actor, submission=submission, kind=StaffAction.Kind.STAFF_GRADE, before=before,
            after={**_grade_state(submission), "scores": clean}, reason=reason, now=now,
        )  # fmt: skip
    assignment_choose_method(assignment=assignment)
    return submission


def review_discard(*, actor, review_id: int, reason: str, now: datetime.datetime | None = None) -> Review:
    """Discard a review (inappropriate, careless): it stops counting and the grade is worked out again;
    with no review left, the work goes to the staff queue."""
    now = _now(now)
    reason = _reason(reason)
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise PeerReviewError("There is no such review.")
        submission = Submission.objects.select_for_update().get(pk=review.submission_id)
        _require_staff(actor, submission.assignment)
        if review.status != ReviewStatus.COMPLETED:
            raise PeerReviewError("Only a completed review can be discarded.")
        before = {**_grade_state(submission), "review_percent": review.percent}
        review.status, review.discard_reason = ReviewStatus.DISCARDED, reason
        review.save(update_fields=["status", "discard_reason"])
        Flag.objects.filter(review=review, resolved_at__isnull=True).update(resolved_at=now)
        Submission.objects.filter(pk=submission.pk).update(
            completed_reviews=F("completed_reviews") - 1, active_reviews=F("active_reviews") - 1
        )
        submission.refresh_from_db()
        if not submission.is_example and submission.phase == Phase.GRADED and not submission.overridden:
            if submission.method == "staff":
                pass  # a staff grade does not depend on peer reviews
            elif submission.completed_reviews == 0:
                submission.phase, submission.staff_queue_at = Phase.STAFF_QUEUE, now
                submission.save(update_fields=["phase", "staff_queue_at"])
            else:
                result = selectors.grade_estimate(submission=submission)
                submission.median_percent = round(result.estimate.median_percent, 2)
                submission.calibrated_percent = round(result.estimate.calibrated_percent, 2)
                submission.spread = round(result.estimate.spread, 2)
                _release(submission, result.final_percent, result.final_scores, now)
        _audit(
            actor=actor, submission=submission, review=review, kind=StaffAction.Kind.DISCARD, before=before,
            after=_grade_state(submission), reason=reason, now=now,
        )  # fmt: skip
    return review


def dispute_resolve(
    *, actor, dispute_id: int, resolution: str, percent: float | None = None, now: datetime.datetime | None = None
) -> Dispute:
    """Answer a dispute: keep the grade, or set a new one (an audited override)."""
    now = _now(now)
    resolution = _reason(resolution)
    dispute = Dispute.objects.select_related("assignment__item").filter(pk=dispute_id).first()
    if dispute is None:
        raise PeerReviewError("There is no such dispute.")
    _require_staff(actor, dispute.assignment)
    if dispute.status != DisputeStatus.OPEN:
        raise PeerReviewError("This dispute is already resolved.")
    with transaction.atomic():
        if percent not in (None, ""):
            grade_override(
                actor=actor, submission_id=dispute.submission_id, percent=percent, reason=resolution, now=now
            )
        submission = dispute.submission
        submission.refresh_from_db()
        dispute.status, dispute.resolution = DisputeStatus.RESOLVED, resolution
        dispute.resolved_by, dispute.resolved_at = actor, now
        dispute.save()
        _audit(
            actor=actor, submission=submission, kind=StaffAction.Kind.RESOLVE_DISPUTE, before=None,
            after=_grade_state(submission), reason=resolution, now=now,
        )  # fmt: skip
        events.dispute_resolved(dispute=dispute)
    return dispute


def resubmission_allow(*, actor, submission_id: int, reason: str, now: datetime.datetime | None = None) -> Submission:
    now = _now(now)
    reason = _reason(reason)
    with transaction.atomic():
        submission = _locked_submission(submission_id)
        _require_staff(actor, submission.assignment)
        submission.resubmit_allowed = True
        submission.save(update_fields=["resubmit_allowed"])
        _audit(
            actor=actor, submission=submission, kind=StaffAction.Kind.ALLOW_RESUBMIT, before=None, after=None,
            reason=reason, now=now,
        )  # fmt: skip
    return submission
