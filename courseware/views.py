"""Learner pages: catalog, course, item (lecture/reading), interviews, progress, protected media.

Every page asks the access policy (access.api) and hands its answer to the courses selectors."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from access import api as access
from billing import api as billing
from courses import api as courses

from . import selectors, services
from .http import protected_media_response


def _can_view(user):
    return lambda item: access.can_view_item(user, item)


def _offer(user):
    return billing.subscribe_offer(user=user, has_full_access=access.has_full_access(user))


def home(request):
    spec = courses.specialization_get()
    context = {
        "specialization": spec,
        "cards": courses.catalog(user=request.user, specialization=spec),
        "interviews": courses.interviews_list(specialization=spec)[:4],
        "offer": _offer(request.user),
    }
    return render(request, "courseware/home.html", context)


def specialization(request, slug):
    spec = courses.specialization_get(slug=slug)
    context = {
        "specialization": spec,
        "cards": courses.catalog(user=request.user, specialization=spec),
        "interviews": courses.interviews_list(specialization=spec),
        "offer": _offer(request.user),
    }
    return render(request, "courseware/specialization.html", context)


def catalog(request):
    spec = courses.specialization_get()
    return render(
        request,
        "courseware/catalog.html",
        {
            "specialization": spec,
            "cards": courses.catalog(user=request.user, specialization=spec),
            "offer": _offer(request.user),
        },
    )


def course(request, slug):
    course = courses.course_get(slug=slug)
    outline = courses.course_outline(user=request.user, course=course, can_view=_can_view(request.user))
    # Only a completed course can be kept: the two questions cost nothing on the other course pages.
    can_keep = bool(outline.completion) and access.can_download_course_archive(request.user, course_id=course.pk)
    context = {
        "course": course,
        "outline": outline,
        "interviews": course.interviews.all(),
        "offer": _offer(request.user),
        "can_keep": can_keep,
        "archive": selectors.archive_latest(user=request.user, course_id=course.pk) if can_keep else None,
    }
    return render(request, "courseware/course.html", context)


@login_required
@require_POST
def archive_request(request, slug):
    """Build the learner's zip of a completed course (a task; the next page shows its progress)."""
    course = courses.course_get(slug=slug)
    try:
        archive = services.archive_request(user=request.user, course=course)
    except access.AccessDenied as exc:
        messages.error(request, str(exc))
        return redirect(course)
    return redirect("courses:archive", archive_id=archive.pk)


@login_required
def archive_status(request, archive_id):
    """The archive being built (polled with htmx until it is ready), then its download link."""
    archive = selectors.archive_for_owner(user=request.user, archive_id=archive_id)
    template = "courseware/_archive_status.html" if request.htmx else "courseware/archive.html"
    return render(request, template, {"archive": archive, "course": archive.course})


@login_required
def archive_download(request, archive_id):
    archive = selectors.archive_for_owner(user=request.user, archive_id=archive_id)
    decision = access.can_download_course_archive(request.user, course_id=archive.course_id)
    if not decision:
        return HttpResponseForbidden(decision.message)
    missing = "This download is not ready. Ask for it again from the course page."
    if archive.status != archive.Status.READY:
        raise Http404(missing)
    return protected_media_response(request, archive.file, missing=missing, download_as=f"{archive.course.slug}.zip")


@login_required
@require_POST
def course_reset_deadlines(request, slug):
    course = courses.course_get(slug=slug)
    courses.enrollment_reset_deadlines(user=request.user, course=course)
    messages.success(request, "Your deadlines were moved: the next unfinished week is now due in a week.")
    return redirect(course)


@login_required
@require_POST
def course_notify(request, slug):
    course = courses.course_get(slug=slug)
    courses.course_notify_request(user=request.user, course=course)
    messages.success(request, f"We'll e-mail you when {course.title} opens.")
    return redirect(course)


def item(request, course_slug, item_slug):
    course = courses.course_get(slug=course_slug)
    page = courses.item_page(user=request.user, course=course, item_slug=item_slug, can_view=_can_view(request.user))
    status = 200 if page.can_view else 403
    if page.can_view and request.user.is_authenticated:
        courses.enrollment_ensure(user=request.user, course=course)
    kind_view = courses.item_view_for(page.item.kind)
    if page.can_view and kind_view is not None:
        return kind_view(request, course, page)
    template = {
        courses.ItemKind.LECTURE: "courseware/lecture.html",
        courses.ItemKind.READING: "courseware/reading.html",
    }.get(page.item.kind, "courseware/item_placeholder.html")
    context = {"course": course, "page": page, "item": page.item}
    if not page.can_view:
        context["offer"] = _offer(request.user)
    return render(request, template, context, status=status)


@require_POST
def item_progress(request, item_id):
    """Playback progress from the lecture page (JSON) or 'mark complete' from a reading (form)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to save your progress."}, status=401)
    item = courses.item_get(item_id=item_id)
    decision = access.can_track_progress(request.user, item)
    if not decision:
        return JsonResponse({"error": decision.message}, status=403)
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
            progress = courses.progress_record(
                user=request.user,
                item=item,
                position_seconds=payload.get("position"),
                ranges=payload.get("ranges", []),
            )
        except (ValueError, AttributeError, courses.ProgressError) as exc:
            return JsonResponse({"error": str(exc) or "Malformed progress update."}, status=400)
        return JsonResponse(
            {
                "complete": progress.is_complete,
                "watched": round(progress.watched_fraction, 3),
                "position": progress.position_seconds,
            }
        )
    try:
        courses.item_mark_complete(user=request.user, item=item)
    except courses.ProgressError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return render(request, "courseware/_complete_button.html", {"item": item, "complete": True})
    return redirect(item)


def lecture_video(request, item_id):
    item = courses.lecture_for_media(item_id=item_id)
    decision = access.can_view_item(request.user, item)
    if not decision:
        return HttpResponseForbidden(decision.message)
    return _serve_video(request, item.lecture.video)


def lecture_captions(request, item_id):
    item = courses.lecture_for_media(item_id=item_id)
    decision = access.can_view_item(request.user, item)
    if not decision:
        return HttpResponseForbidden(decision.message)
    return HttpResponse(courses.captions_to_vtt(item.lecture.captions), content_type="text/vtt; charset=utf-8")


def _serve_video(request, video):
    if not video:
        raise Http404("This video has not been rendered yet. Run `make run` or `python manage.py render_media`.")
    return protected_media_response(request, video.name, missing="Video file missing.")


def interviews(request):
    spec = courses.specialization_get()
    return render(
        request,
        "courseware/interviews.html",
        {"specialization": spec, "interviews": courses.interviews_list(specialization=spec)},
    )


def interview(request, slug):
    interview = courses.interview_get(slug=slug)
    can_view = access.can_view_interview(request.user)
    return render(
        request,
        "courseware/interview.html",
        {"interview": interview, "can_view": can_view},
        status=200 if can_view else 403,
    )


def interview_video(request, slug):
    interview = courses.interview_get(slug=slug)
    decision = access.can_view_interview(request.user)
    if not decision:
        return HttpResponseForbidden(decision.message)
    return _serve_video(request, interview.video)


def interview_captions(request, slug):
    interview = courses.interview_get(slug=slug)
    decision = access.can_view_interview(request.user)
    if not decision:
        return HttpResponseForbidden(decision.message)
    return HttpResponse(courses.captions_to_vtt(interview.captions), content_type="text/vtt; charset=utf-8")


@login_required
def progress(request):
    spec = courses.specialization_get()
    progress_rows = courses.learner_progress(user=request.user, specialization=spec, can_view=_can_view(request.user))
    return render(
        request,
        "courseware/progress.html",
        {
            "specialization": spec,
            "courses": progress_rows,
            "overall": courses.specialization_progress(user=request.user, courses=progress_rows),
            "summary": courses.learner_summary(user=request.user),
        },
    )
