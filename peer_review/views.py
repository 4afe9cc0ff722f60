"""Peer-review pages: the item (submit, progress, feedback, flag, dispute), the training step, the review
page with the rubric, the reviewer's "assigned to me", and the staff dashboard, queue and overrides.
Every page is anonymous both ways: nothing here hands a learner the other side's name or e-mail."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from access import api as access

from . import selectors, services
from .models import Submission


def peer_item(request, course, page):
    """Registered with courses.registry for peer_review items; called once the policy allowed viewing."""
    assignment = selectors.assignment_for_item(item_id=page.item.pk)
    learner = selectors.learner_page(user=request.user, assignment=assignment)
    context = {
        "course": course,
        "page": page,
        "item": page.item,
        "assignment": assignment,
        "learner": learner,
        "submit_access": access.can_submit(request.user, page.item),
        "review_refusal": services.check_can_review(reviewer=request.user, assignment=assignment, now=timezone.now())
        if request.user.is_authenticated
        else "",
        "is_staff": bool(access.can_manage_peer_review(request.user)),
    }
    return render(request, "peer_review/item.html", context)


def _back(assignment):
    return redirect(assignment.item)


def _form_scores(request, assignment) -> tuple[dict, dict]:
    scores, comments = {}, {}
    for criterion in selectors.rubric(assignment=assignment):
        value = request.POST.get(f"score-{criterion.name}")
        if value not in (None, ""):
            scores[criterion.name] = value
        comment = request.POST.get(f"comment-{criterion.name}", "")
        if comment.strip():
            comments[criterion.name] = comment
    return scores, comments


@login_required
@require_POST
def submit(request, assignment_id):
    assignment = selectors.assignment_for_item(item_id=assignment_id)
    upload = None
    if request.FILES.get("file"):
        handle = request.FILES["file"]
        if handle.size > assignment.max_file_bytes:
            messages.error(request, f"The file is larger than {assignment.max_file_bytes / 1e6:.1f} MB.")
            return _back(assignment)
        upload = services.Upload(name=handle.name, content=handle.read())
    try:
        services.submission_submit(
            author=request.user, assignment=assignment, text=request.POST.get("text", ""), upload=upload
        )
    except (services.PeerReviewError, access.AccessDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your work is submitted. Next: the training step, then review your peers.")
    return _back(assignment)


@login_required
def training(request, assignment_id):
    assignment = selectors.assignment_for_item(item_id=assignment_id)
    access.can_review_peer(request.user, assignment.item).require()
    result = None
    if request.method == "POST":
        example = Submission.objects.filter(
            pk=request.POST.get("submission"), assignment=assignment, is_training=True
        ).first()
        if example is None:
            raise Http404("No such training example.")
        scores, comments = _form_scores(request, assignment)
        try:
            result = services.review_submit(
                reviewer=request.user, submission_id=example.pk, scores=scores, comments=comments
            )
        except (services.PeerReviewError, access.AccessDenied) as exc:
            messages.error(request, str(exc))
            return redirect("peer_review:training", assignment_id=assignment.pk)
        passed = abs(result.bias_after) <= assignment.training_tolerance
        messages.success(
            request, _bias_sentence(result.bias_after, passed=passed, tolerance=assignment.training_tolerance)
        )
        return redirect("peer_review:training", assignment_id=assignment.pk)
    example = selectors.training_next(reviewer=request.user, assignment=assignment)
    examples = selectors.training_examples(assignment=assignment)
    context = {
        "assignment": assignment,
        "item": assignment.item,
        "course": assignment.item.course,
        "example": example,
        "criteria": selectors.rubric(assignment=assignment),
        "number": examples.index(example) + 1 if example in examples else len(examples),
        "total": len(examples),
    }
    return render(request, "peer_review/training.html", context)


def _bias_sentence(bias: float | None, *, passed: bool | None = None, tolerance: int = 0) -> str:
    if bias is None:
        return "Review saved."
    direction = "above" if bias > 0 else "below"
    sentence = (
        "Your score matched staff exactly."
        if abs(bias) < 0.5
        else f"Your score was {abs(bias):.0f} points {direction} the staff score."
    )
    if passed is True:
        return sentence + " Example passed."
    if passed is False:
        return sentence + f" To pass an example, come within {tolerance} points: look at the rubric again and retry."
    return sentence


@login_required
@require_POST
def request_work(request, assignment_id):
    assignment = selectors.assignment_for_item(item_id=assignment_id)
    try:
        submission = services.review_request(reviewer=request.user, assignment=assignment)
    except (services.PeerReviewError, access.AccessDenied) as exc:
        messages.error(request, str(exc))
        return _back(assignment)
    if submission is None:
        messages.info(request, "There is nothing left for you to review right now. Thank you!")
        return _back(assignment)
    return redirect("peer_review:review", submission_id=submission.pk)


@login_required
def review(request, submission_id):
    submission, current = selectors.review_target(reviewer=request.user, submission_id=submission_id)
    assignment = submission.assignment
    if request.method == "POST":
        scores, comments = _form_scores(request, assignment)
        try:
            done = services.review_submit(
                reviewer=request.user, submission_id=submission.pk, scores=scores, comments=comments
            )
        except (services.PeerReviewError, access.AccessDenied) as exc:
            messages.error(request, str(exc))
            return redirect("peer_review:review", submission_id=submission.pk)
        note = " " + _bias_sentence(done.bias_after) if done.bias_after is not None else ""
        messages.success(request, "Thank you: your review is saved." + note)
        return _back(assignment)
    context = {
        "assignment": assignment,
        "item": assignment.item,
        "course": assignment.item.course,
        "submission": submission,
        "current": current,
        "criteria": selectors.rubric(assignment=assignment),
    }
    return render(request, "peer_review/review.html", context)


@login_required
def submission_file(request, submission_id):
    """The attached file: to its author, to a reviewer holding or having given a review, to staff. Sent
    under a neutral name so the learner's own file name does not travel to reviewers."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None or not submission.file:
        raise Http404("No file.")
    allowed = (
        submission.author_id == request.user.pk
        or access.can_manage_peer_review(request.user)
        or submission.reviews.filter(reviewer=request.user).exclude(status="expired").exists()
    )
    if not allowed:
        return HttpResponseForbidden("This file is not yours to open.")
    path = Path(settings.MEDIA_ROOT) / submission.file.name
    if not path.is_file():
        raise Http404("The file is missing.")
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"submission-{submission.pk}{path.suffix}")


@login_required
@require_POST
def flag(request, review_id):
    try:
        made = services.review_flag(user=request.user, review_id=review_id, reason=request.POST.get("reason", ""))
    except services.PeerReviewError as exc:
        messages.error(request, str(exc))
        return redirect(request.POST.get("next") or "peer_review:assigned")
    messages.success(request, "Thank you: staff will look at this review.")
    return _back(made.review.assignment)


@login_required
@require_POST
def dispute(request, submission_id):
    try:
        made = services.dispute_open(
            author=request.user, submission_id=submission_id, reason=request.POST.get("reason", "")
        )
    except services.PeerReviewError as exc:
        messages.error(request, str(exc))
        submission = Submission.objects.filter(pk=submission_id).select_related("assignment__item").first()
        if submission is None:
            raise Http404("No such submission.") from None
        return _back(submission.assignment)
    messages.success(request, "Your dispute is with staff. You will be notified of their answer.")
    return _back(made.assignment)


@login_required
def assigned(request):
    rows = selectors.assigned_to(user=request.user)
    return render(request, "peer_review/assigned.html", {"rows": rows})


# ---- staff ----------------------------------------------------------------------------------------


@login_required
def dashboard(request, assignment_id):
    assignment = selectors.assignment_for_item(item_id=assignment_id)
    decision = access.can_manage_peer_review(request.user, course_id=assignment.item.course_id)
    if not decision:
        return HttpResponseForbidden(decision.message)
    board = selectors.dashboard(assignment=assignment)
    context = {"board": board, "assignment": assignment, "item": assignment.item, "course": assignment.item.course}
    return render(request, "peer_review/dashboard.html", context)


@login_required
def export_csv(request, assignment_id):
    assignment = selectors.assignment_for_item(item_id=assignment_id)
    decision = access.can_manage_peer_review(request.user, course_id=assignment.item.course_id)
    if not decision:
        return HttpResponseForbidden(decision.message)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="peer-review-{assignment.item.slug}.csv"'
    writer = csv.writer(response)
    for row in selectors.csv_rows(assignment=assignment):
        writer.writerow([_csv_safe(value) for value in row])
    return response


def _csv_safe(value):
    """Cells a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@login_required
def staff_submission(request, submission_id):
    submission, reviews, actions = selectors.staff_submission(submission_id=submission_id)
    decision = access.can_manage_peer_review(request.user, course_id=submission.assignment.item.course_id)
    if not decision:
        return HttpResponseForbidden(decision.message)
    assignment = submission.assignment
    context = {
        "submission": submission,
        "reviews": reviews,
        "actions": actions,
        "assignment": assignment,
        "item": assignment.item,
        "course": assignment.item.course,
        "criteria": selectors.rubric(assignment=assignment),
        "disputes": list(submission.disputes.all()),
    }
    return render(request, "peer_review/staff_submission.html", context)


@login_required
@require_POST
def staff_action(request, submission_id, action):
    submission = Submission.objects.select_related("assignment__item").filter(pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission.")
    decision = access.can_manage_peer_review(request.user, course_id=submission.assignment.item.course_id)
    if not decision:
        return HttpResponseForbidden(decision.message)
    reason = request.POST.get("reason", "")
    try:
        if action == "override":
            services.grade_override(
                actor=request.user, submission_id=submission.pk, percent=request.POST.get("percent"), reason=reason
            )
        elif action == "grade":
            scores, _comments = _form_scores(request, submission.assignment)
            services.staff_grade(
                actor=request.user, submission_id=submission.pk, scores=scores, reason=reason or "Graded by staff."
            )
        elif action == "discard":
            services.review_discard(actor=request.user, review_id=int(request.POST.get("review", 0)), reason=reason)
        elif action == "resolve":
            services.dispute_resolve(
                actor=request.user, dispute_id=int(request.POST.get("dispute", 0)), resolution=reason,
                percent=request.POST.get("percent") or None,
            )  # fmt: skip
        elif action == "resubmit":
            services.resubmission_allow(actor=request.user, submission_id=submission.pk, reason=reason)
        else:
            raise Http404("No such action.")
    except (services.PeerReviewError, access.AccessDenied) as exc:
        messages.error(request, str(exc))
    except ValueError:
        messages.error(request, "That review or dispute does not exist (was the page out of date?).")
    else:
        messages.success(request, "Done; the audit trail below records it.")
    return redirect("peer_review:staff_submission", submission_id=submission.pk)
