"""Quiz pages: the quiz item (overview and history), taking an attempt, its review; in-video answers."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from access import api as access
from courses import api as courses

from . import selectors, services
from .questions import InvalidAnswer, check_in_video, public_in_video


def quiz_item(request, course, page):
    """Registered with courses.registry for quiz items; called once the access policy allowed viewing."""
    quiz_page = selectors.quiz_page(user=request.user, item=page.item)
    context = {"course": course, "page": page, "item": page.item, "quiz_page": quiz_page}
    return render(request, "quizzes/quiz.html", context)


def lecture_item(request, course, page):
    """Registered for lectures: the lecture page, plus its in-video questions without their answers."""
    questions = getattr(getattr(page.item, "lecture", None), "questions", None) or []
    public = [public_in_video(q, index=n, render=courses.render_markdown) for n, q in enumerate(questions)]
    context = {"course": course, "page": page, "item": page.item, "in_video": public}
    return render(request, "quizzes/lecture.html", context)


@login_required
@require_POST
def attempt_start(request, item_id):
    quiz = selectors.quiz_for_item(item_id=item_id)
    try:
        attempt = services.attempt_start(user=request.user, quiz=quiz)
    except (services.QuizError, access.AccessDenied) as exc:
        messages.error(request, str(exc))
        return redirect(quiz.item)
    return redirect("quizzes:attempt", attempt_id=attempt.pk)


@login_required
def attempt(request, attempt_id):
    view = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
    services.attempt_expire_if_due(attempt=view.attempt)  # its time ran out while the page was closed
    return _render_attempt(request, view)


def _render_attempt(request, view, *, error: str = "", status: int = 200, answers=None, unanswered=()):
    attempt = view.attempt
    item = attempt.quiz.item
    if selectors.attempt_is_open(attempt=attempt):
        # Asked on every page of an attempt: one started while subscribed stops showing its questions
        # the moment access ends (the answers already given were never sent, so nothing is lost).
        decision = access.can_take_quiz(request.user, item)
        if not decision:
            context = {"attempt": attempt, "item": item, "course": item.course, "decision": decision}
            return render(request, "quizzes/attempt_closed.html", context, status=403)
    context = {
        "view": view,
        "attempt": attempt,
        "item": item,
        "course": item.course,
        "error": error,
        "unanswered": list(unanswered),
    }
    if selectors.attempt_is_open(attempt=attempt):
        context["answers"] = answers or {}
        return render(request, "quizzes/attempt.html", context, status=status)
    return render(request, "quizzes/review.html", context, status=status)


@login_required
@require_POST
def attempt_submit(request, attempt_id):
    answers = {key: request.POST.getlist(key) for key in request.POST if key.startswith("q-")}
    confirm = request.POST.get("confirm_unanswered") == "1"
    try:
        submitted = services.attempt_submit(
            user=request.user, attempt_id=attempt_id, answers=answers, confirm_unanswered=confirm
        )
    except services.UnansweredQuestions as exc:
        view = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        return _render_attempt(request, view, error=str(exc), status=400, answers=answers, unanswered=exc.positions)
    except services.AnswerRejected as exc:
        view = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        return _render_attempt(request, view, error=str(exc), status=400, answers=answers)
    except (services.AttemptClosed, services.AttemptExpired) as exc:
        messages.error(request, str(exc))
        try:
            view = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        except Http404:
            raise Http404(str(exc)) from None
        return _render_attempt(request, view, status=409)
    except access.AccessDenied:
        view = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        return _render_attempt(request, view, status=403)
    return redirect("quizzes:attempt", attempt_id=submitted.pk)


@require_POST
def in_video_check(request, item_id, index):
    """Check an answer to an ungraded in-video question. Nothing is stored; the explanation comes back."""
    item = courses.lecture_for_media(item_id=item_id)
    decision = access.can_view_item(request.user, item)
    if not decision:
        return JsonResponse({"error": decision.message}, status=403)
    questions = item.lecture.questions or []
    if not 0 <= index < len(questions):
        return JsonResponse({"error": "No such question in this lecture."}, status=404)
    try:
        payload = json.loads(request.body or b"{}")
        values = payload.get("answer", [])
        if not isinstance(values, list) or len(values) > 20:
            raise InvalidAnswer("send the answer as a list of values")
        result = check_in_video(questions[index], [str(v) for v in values], render=courses.render_markdown)
    except (ValueError, AttributeError) as exc:
        return JsonResponse({"error": str(exc) or "Malformed answer."}, status=400)
    return JsonResponse(result)
