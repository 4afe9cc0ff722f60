"""Learner pages: catalog, course, item (lecture/reading), interviews, progress, protected media."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing import access
from billing import selectors as billing_selectors

from . import media, registry, selectors, services
from .http import protected_file_response
from .models import ItemKind


def home(request):
    spec = selectors.specialization_get()
    context = {
        "specialization": spec,
        "cards": selectors.catalog(user=request.user, specialization=spec),
        "interviews": selectors.interviews_list(specialization=spec)[:4],
        "offer": billing_selectors.subscribe_offer(user=request.user),
    }
    return render(request, "courses/home.html", context)


def specialization(request, slug):
    spec = selectors.specialization_get(slug=slug)
    context = {
        "specialization": spec,
        "cards": selectors.catalog(user=request.user, specialization=spec),
        "interviews": selectors.interviews_list(specialization=spec),
        "offer": billing_selectors.subscribe_offer(user=request.user),
    }
    return render(request, "courses/specialization.html", context)


def catalog(request):
    spec = selectors.specialization_get()
    return render(
        request,
        "courses/catalog.html",
        {
            "specialization": spec,
            "cards": selectors.catalog(user=request.user, specialization=spec),
            "offer": billing_selectors.subscribe_offer(user=request.user),
        },
    )


def course(request, slug):
    course = selectors.course_get(slug=slug)
    weeks = selectors.course_syllabus(user=request.user, course=course)
    selectors.week_deadlines_apply(user=request.user, course=course, weeks=weeks)
    context = {
        "course": course,
        "weeks": weeks,
        "released": course.is_released(),
        "resume": selectors.course_resume_item(weeks=weeks),
        "done": sum(w.done for w in weeks),
        "total": sum(w.total for w in weeks),
        "interviews": course.interviews.all(),
        "notify_requested": selectors.notify_requested(user=request.user, course=course),
        "completion": selectors.course_completion_get(user=request.user, course=course),
        "has_deadlines": any(week.deadline for week in weeks),
        "has_locked": any(not row.can_view for week in weeks for row in week.items),
        "offer": billing_selectors.subscribe_offer(user=request.user),
    }
    context["percent"] = round(100 * context["done"] / context["total"]) if context["total"] else 0
    return render(request, "courses/course.html", context)


@login_required
@require_POST
def course_reset_deadlines(request, slug):
    course = selectors.course_get(slug=slug)
    services.enrollment_reset_deadlines(user=request.user, course=course)
    messages.success(request, "Your deadlines were moved: the next unfinished week is now due in a week.")
    return redirect(course)


@login_required
@require_POST
def course_notify(request, slug):
    course = selectors.course_get(slug=slug)
    services.course_notify_request(user=request.user, course=course)
    messages.success(request, f"We'll e-mail you when {course.title} opens.")
    return redirect(course)


def item(request, course_slug, item_slug):
    course = selectors.course_get(slug=course_slug)
    page = selectors.item_page(user=request.user, course=course, item_slug=item_slug)
    status = 200 if page.can_view else 403
    if page.can_view and request.user.is_authenticated:
        services.enrollment_ensure(user=request.user, course=course)
    kind_view = registry.item_view_for(page.item.kind)
    if page.can_view and kind_view is not None:
        return kind_view(request, course, page)
    template = {
        ItemKind.LECTURE: "courses/lecture.html",
        ItemKind.READING: "courses/reading.html",
    }.get(page.item.kind, "courses/item_placeholder.html")
    context = {"course": course, "page": page, "item": page.item}
    if not page.can_view:
        context["offer"] = billing_selectors.subscribe_offer(user=request.user)
    return render(request, template, context, status=status)


@require_POST
def item_progress(request, item_id):
    """Playback progress from the lecture page (JSON) or 'mark complete' from a reading (form)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to save your progress."}, status=401)
    item = selectors.item_for_progress(item_id=item_id)
    if not access.can_track_progress(request.user, item):
        return JsonResponse({"error": "You do not have access to this item."}, status=403)
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
            progress = services.progress_record(
                user=request.user,
                item=item,
                position_seconds=payload.get("position"),
                ranges=payload.get("ranges", []),
            )
        except (ValueError, AttributeError, services.ProgressError) as exc:
            return JsonResponse({"error": str(exc) or "Malformed progress update."}, status=400)
        return JsonResponse(
            {
                "complete": progress.is_complete,
                "watched": round(progress.watched_fraction, 3),
                "position": progress.position_seconds,
            }
        )
    try:
        services.item_mark_complete(user=request.user, item=item)
    except services.ProgressError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return render(request, "courses/_complete_button.html", {"item": item, "complete": True})
    return redirect(item)


def lecture_video(request, item_id):
    item = selectors.lecture_for_media(item_id=item_id)
    if not access.can_view_item(request.user, item):
        return HttpResponseForbidden("You do not have access to this video.")
    return _serve_video(request, item.lecture.video)


def lecture_captions(request, item_id):
    item = selectors.lecture_for_media(item_id=item_id)
    if not access.can_view_item(request.user, item):
        return HttpResponseForbidden("You do not have access to these captions.")
    return HttpResponse(media.captions_to_vtt(item.lecture.captions), content_type="text/vtt; charset=utf-8")


def _serve_video(request, video):
    if not video:
        raise Http404("This video has not been rendered yet. Run `make run` or `python manage.py render_media`.")
    path = Path(settings.MEDIA_ROOT) / video.name
    if not path.is_file():
        raise Http404("Video file missing.")
    return protected_file_response(request, path, media_relative=video.name)


def interviews(request):
    spec = selectors.specialization_get()
    return render(
        request,
        "courses/interviews.html",
        {"specialization": spec, "interviews": selectors.interviews_list(specialization=spec)},
    )


def interview(request, slug):
    interview = selectors.interview_get(slug=slug)
    can_view = access.can_view_interview(request.user, interview)
    return render(
        request,
        "courses/interview.html",
        {"interview": interview, "can_view": can_view},
        status=200 if can_view else 403,
    )


def interview_video(request, slug):
    interview = selectors.interview_get(slug=slug)
    if not access.can_view_interview(request.user, interview):
        return HttpResponseForbidden("Log in to watch the interviews.")
    return _serve_video(request, interview.video)


def interview_captions(request, slug):
    interview = selectors.interview_get(slug=slug)
    if not access.can_view_interview(request.user, interview):
        return HttpResponseForbidden("Log in to read the captions.")
    return HttpResponse(media.captions_to_vtt(interview.captions), content_type="text/vtt; charset=utf-8")


@login_required
def progress(request):
    spec = selectors.specialization_get()
    courses = selectors.learner_progress(user=request.user, specialization=spec)
    return render(
        request,
        "courses/progress.html",
        {
            "specialization": spec,
            "courses": courses,
            "overall": selectors.specialization_progress(user=request.user, courses=courses),
        },
    )
