"""Assignment pages: instructions, the starter notebook, upload and in-browser submission, live feedback."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from access import api as access

from . import rules, selectors, services
from .models import GraderVersion, RegradeJob
from .notebooks import notebook_for_download, notebook_load, too_large_message
from .rendering import render_cells, render_starter
from .spec import cell_source


def assignment_item(request, course, page):
    """The course item view for `kind: assignment` (called once the access policy allowed viewing)."""
    assignment = selectors.assignment_for_item(item_id=page.item.pk)
    assignment_page = selectors.assignment_page(user=request.user, assignment=assignment)
    context = {
        "course": course,
        "page": page,
        "item": page.item,
        "assignment_page": assignment_page,
        "cells": render_starter(assignment_page.version) if assignment_page.version else [],
    }
    return render(request, "grading/assignment.html", context)


def _assignment_or_404(request, item_id: int):
    assignment = selectors.assignment_for_item(item_id=item_id)
    if not access.can_download(request.user, assignment.item):
        raise Http404("No such assignment.")
    return assignment


def assignment_download(request, item_id: int):
    assignment = _assignment_or_404(request, item_id)
    version = assignment.current_version
    if version is None:
        raise Http404("This assignment has no published notebook yet.")
    body = notebook_for_download(version.starter, assignment_slug=assignment.slug, version=version.number)
    response = HttpResponse(body, content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{assignment.slug}.ipynb"'
    return response


@login_required
@require_POST
def assignment_submit(request, item_id: int):
    """Upload a notebook. Answers JSON to the upload script (progress bar), redirects plain forms."""
    assignment = _assignment_or_404(request, item_id)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    upload = request.FILES.get("notebook")
    try:
        if upload is None:
            raise services.SubmissionRejected("Choose a notebook file (.ipynb) to upload.")
        if upload.size > assignment.max_upload_bytes:
            raise services.SubmissionRejected(too_large_message(upload.size, assignment.max_upload_bytes))
        submission = services.submission_create(
            assignment=assignment, learner=request.user, data=upload.read(), filename=upload.name
        )
    except services.SubmissionRejected as exc:
        if wants_json:
            return JsonResponse({"error": str(exc)}, status=400)
        messages.error(request, str(exc))
        return redirect(assignment.item)
    if wants_json:
        return JsonResponse({"url": submission.get_absolute_url(), "id": submission.pk}, status=201)
    return redirect(submission)


# After a submission from the editor, the submission page tells the editor's script to drop the draft
# it kept in the browser (session key holding the draft's localStorage key, read once).
DRAFT_SAVED_SESSION_KEY = "grading:editor-draft-saved"
EDITOR_BUNDLE = "js/editor.bundle.js"


def _editor_draft_key(user, assignment) -> str:
    return f"mooc:editor-draft:{user.pk}:{assignment.pk}"


@login_required
def assignment_editor(request, item_id: int):
    """Work on the notebook in the browser: code cells as text areas (CodeMirror editors when the bundle
    from `make assets` is there); submitting assembles the notebook. The script keeps an unsaved draft in
    the browser; a refused submission re-renders the posted code, marked unsaved."""
    assignment = _assignment_or_404(request, item_id)
    version = assignment.current_version
    if version is None:
        raise Http404("This assignment has no published notebook yet.")
    base = selectors.editor_base(assignment=assignment, learner=request.user)
    notebook = base.notebook
    draft_key = _editor_draft_key(request.user, assignment)
    unsaved = False
    if request.method == "POST":
        code = {
            int(name.removeprefix("cell-")): text
            for name, text in request.POST.items()
            if name.startswith("cell-") and name.removeprefix("cell-").isdigit()
        }
        notebook = services.notebook_from_editor(assignment=assignment, base=base.notebook, code=code)
        try:
            submission = services.submission_create_from_editor(
                assignment=assignment, learner=request.user, base=base.notebook, code=code
            )
        except services.SubmissionRejected as exc:
            messages.error(request, str(exc))
            unsaved = True  # the page shows what was posted, and the script keeps it as a draft
        else:
            request.session[DRAFT_SAVED_SESSION_KEY] = draft_key
            return redirect(submission)
    assignment_page = selectors.assignment_page(user=request.user, assignment=assignment)
    # The page's h1 is followed by the cells: the notebook's headings start at h2.
    cells = render_cells(notebook, heading_offset=1)
    for cell in cells:
        if cell["kind"] == "code":
            cell["source"] = cell_source(notebook["cells"][cell["index"]])
            cell["rows"] = max(3, cell["source"].count("\n") + 2)  # the whole cell, without the script too
    context = {
        "assignment": assignment,
        "item": assignment.item,
        "course": assignment.item.course,
        "cells": cells,
        "assignment_page": assignment_page,
        "draft_key": draft_key,
        "draft_base": base.label,
        "unsaved": unsaved,
        "editor_bundle": EDITOR_BUNDLE if finders.find(EDITOR_BUNDLE) else "",
    }
    return render(request, "grading/editor.html", context)


@login_required
def submission_detail(request, pk: int):
    submission = selectors.submission_for_viewer(user=request.user, submission_id=pk)
    if request.htmx:
        return render(request, "grading/_submission_status.html", _submission_context(request, submission))
    context = _submission_context(request, submission)
    context["draft_saved"] = request.session.pop(DRAFT_SAVED_SESSION_KEY, "")
    return render(request, "grading/submission.html", context)


@login_required
@require_POST
def submission_hint(request, pk: int):
    """Open the next hint of a failed test (htmx swaps the test's hints in place; plain forms redirect)."""
    submission = selectors.submission_for_viewer(user=request.user, submission_id=pk)
    name = request.POST.get("test", "")
    try:
        services.hint_reveal(submission=submission, learner=request.user, test_name=name)
    except services.HintRefused as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=400)
        messages.error(request, str(exc))
        return redirect(submission)
    if request.htmx:
        state = selectors.submission_hints(submission=submission).get(name)
        context = {"submission": submission, "t": {"name": name, "hint_state": state}, "staff_view": False}
        return render(request, "grading/_hints.html", context)
    return redirect(f"{submission.get_absolute_url()}#tests-heading")


def _submission_context(request, submission):
    run = submission.latest_run
    assignment = submission.assignment
    hints = selectors.submission_hints(submission=submission) if run and submission.is_finished else {}
    return {
        "submission": submission,
        "run": run,
        "tests": [{**t, "hint_state": hints.get(t.get("name"))} for t in (run.tests if run else [])],
        "assignment": assignment,
        "item": assignment.item,
        "course": assignment.item.course,
        "staff_view": bool(access.can_manage(request.user)),
        "passed": rules.passes(percent=submission.percent, pass_percent=assignment.pass_percent),
        "has_output": bool(run and any(c.get("outputs") or c.get("error") for c in run.cells)),
    }


@login_required
def submission_notebook(request, pk: int):
    submission = selectors.submission_for_viewer(user=request.user, submission_id=pk)
    response = HttpResponse(
        json.dumps(notebook_load(submission.notebook_path), indent=1), content_type="application/x-ipynb+json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{submission.assignment.slug}-attempt-{submission.attempt}.ipynb"'
    )
    return response


@access.manage_required
def regrade_detail(request, pk: int):
    job = get_object_or_404(RegradeJob.objects.select_related("assignment__item", "grader_version"), pk=pk)
    context = {"job": job, "rows": selectors.regrade_comparison(job=job)}
    template = "grading/_regrade_progress.html" if request.htmx else "grading/regrade.html"
    return render(request, template, context)


@access.manage_required
@require_POST
def submission_regrade(request, pk: int):
    submission = selectors.submission_for_viewer(user=request.user, submission_id=pk)
    version = submission.assignment.current_version
    if version is None:
        return HttpResponseForbidden("The assignment has no published grader.")
    job = services.regrade_create(
        assignment=submission.assignment, version=version, by=request.user, submission_ids=[submission.pk]
    )
    messages.success(request, "Regrade queued.")
    return redirect("grading:regrade", pk=job.pk)


@access.manage_required
def publish_progress(request, pk: int):
    """A grader version's self-check and publishing, followed live (htmx polls while it runs)."""
    version = get_object_or_404(GraderVersion.objects.select_related("assignment__item"), pk=pk)
    context = {"version": version, "report": version.self_check or {}}
    template = "grading/_publish_progress.html" if request.htmx else "grading/publish.html"
    return render(request, template, context)
