"""Staff tools for graders: publish with self-check, regrade with progress, failure logs, gradebook."""

import json

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from . import services
from .models import Assignment, GraderVersion, GradingRun, RegradeJob, Submission


class GraderVersionInline(admin.TabularInline):
    model = GraderVersion
    fields = ["number", "status", "source_format", "created_at", "published_at", "image_tag"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _queue_publish(model_admin, request, versions: list[GraderVersion]):
    """Queue the self-check and publish of each version (a worker runs the sandbox, never this request);
    one version opens its live progress page, several are listed with links to theirs."""
    queued = []
    for version in versions:
        if version.status == GraderVersion.Status.PUBLISHED:
            model_admin.message_user(request, f"{version} is already published.", messages.INFO)
            continue
        queued.append(services.grader_version_publish_queue(version=version))
    if len(queued) == 1:
        return redirect("grading:publish", pk=queued[0].pk)
    for version in queued:
        model_admin.message_user(
            request,
            format_html(
                '{}: self-check queued — <a href="{}">follow it</a>.',
                version,
                reverse("grading:publish", args=[version.pk]),
            ),
        )
    return None


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "course", "current_version", "max_attempts", "pass_percent", "submission_count"]
    list_select_related = ["item__course", "current_version"]
    readonly_fields = ["current_version", "gradebook"]
    inlines = [GraderVersionInline]
    actions = ["publish_latest", "regrade_all"]

    @admin.display(description="Course")
    def course(self, obj):
        return obj.item.course

    @admin.display(description="Submissions")
    def submission_count(self, obj):
        return obj.submissions.count()

    @admin.display(description="Gradebook (best score per learner)")
    def gradebook(self, obj):
        from .selectors import gradebook

        rows = gradebook(assignment=obj)
        if not rows:
            return "No graded submissions yet."
        return format_html(
            "<table><tr><th>Learner</th><th>Best</th><th>Attempts</th><th>Hints opened</th><th>Last submission</th>"
            "</tr>{}</table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}%</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((r["learner__email"], round(r["best"], 1), r["attempts"], r["hints"], r["last"]) for r in rows),
            ),
        )  # fmt: skip

    @admin.action(description="Self-check and publish the latest draft grader version")
    def publish_latest(self, request, queryset):
        versions = []
        for assignment in queryset:
            version = assignment.versions.order_by("-number").first()
            if version is None or version.status == GraderVersion.Status.PUBLISHED:
                self.message_user(request, f"{assignment}: nothing to publish.", messages.INFO)
                continue
            versions.append(version)
        return _queue_publish(self, request, versions)

    @admin.action(description="Regrade all submissions on the current grader version")
    def regrade_all(self, request, queryset):
        job = None
        for assignment in queryset:
            if assignment.current_version is None:
                self.message_user(request, f"{assignment}: no published grader.", messages.ERROR)
                continue
            job = services.regrade_create(assignment=assignment, version=assignment.current_version, by=request.user)
        if job is not None:
            return redirect("grading:regrade", pk=job.pk)
        return None


@admin.register(GraderVersion)
class GraderVersionAdmin(admin.ModelAdmin):
    list_display = ["assignment", "number", "status", "source_format", "created_at", "published_at"]
    list_filter = ["status", "source_format"]
    readonly_fields = ["self_check_report", "status", "published_at", "image_tag", "content_hash", "created_at"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == GraderVersion.Status.PUBLISHED:
            return [f.name for f in self.model._meta.fields] + ["self_check_report"]
        return super().get_readonly_fields(request, obj)

    @admin.display(description="Self-check")
    def self_check_report(self, obj):
        report = obj.self_check or {}
        if not report:
            return "Not run yet."
        problems = format_html_join("", "<li>{}</li>", ((p,) for p in report.get("problems", [])))
        warnings = format_html_join("", "<li>Warning: {}</li>", ((w,) for w in report.get("warnings", [])))
        verdict = "passed" if report.get("ok") else "FAILED"
        return format_html(
            "<p><strong>{}</strong> · image {} · {}</p><ul>{}{}</ul>"
            "<details><summary>Full report</summary><pre>{}</pre></details>",
            verdict, report.get("image", ""), report.get("checked_at", ""), problems, warnings,
            json.dumps(report, indent=1),
        )  # fmt: skip

    @admin.action(description="Self-check and publish")
    def publish(self, request, queryset):
        return _queue_publish(self, request, list(queryset.select_related("assignment__item")))


class GradingRunInline(admin.TabularInline):
    model = GradingRun
    fields = [
        "started_at", "grader_version", "status", "score", "max_score", "execution_seconds", "worker", "image_tag",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "score", "max_score", "submitted_at", "flags", "view"]
    list_filter = ["status", "assignment"]
    list_select_related = ["learner", "assignment__item", "latest_run"]

    @admin.display(description="Flags (tampering, limits)")
    def flags(self, obj):
        # e.g. a modified read-only cell, output floods, timeouts: worth a look by staff
        return ", ".join(obj.latest_run.flags) if obj.latest_run and obj.latest_run.flags else ""

    search_fields = ["learner__email"]
    raw_id_fields = ["learner", "latest_run"]
    # The lease (grading ADR 0003) is the workers' business: staff read it, nobody edits it here.
    readonly_fields = [
        "notebook_sha256", "notebook_path", "size_bytes", "submitted_at",
        "lease_attempt", "lease_worker", "lease_expires_at", "claims", "engine_failed_at",
    ]  # fmt: skip
    inlines = [GradingRunInline]
    actions = ["regrade_selected"]

    @admin.display(description="Feedback")
    def view(self, obj):
        return format_html('<a href="{}">open</a>', reverse("grading:submission", args=[obj.pk]))

    @admin.action(description="Regrade selected on their assignment's current grader")
    def regrade_selected(self, request, queryset):
        job = None
        for assignment in Assignment.objects.filter(submissions__in=queryset).distinct():
            if assignment.current_version is None:
                self.message_user(request, f"{assignment}: no published grader.", messages.ERROR)
                continue
            ids = list(queryset.filter(assignment=assignment).values_list("pk", flat=True))
            job = services.regrade_create(
                assignment=assignment, version=assignment.current_version, by=request.user, submission_ids=ids
            )
        return redirect("grading:regrade", pk=job.pk) if job else None


@admin.register(GradingRun)
class GradingRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "score", "max_score", "grader_version", "started_at", "execution_seconds"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in GradingRun._meta.fields]


@admin.register(RegradeJob)
class RegradeJobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "done", "total", "failed", "created_at", "progress"]
    readonly_fields = [f.name for f in RegradeJob._meta.fields]

    @admin.display(description="Progress")
    def progress(self, obj):
        return format_html('<a href="{}">{}%</a>', reverse("grading:regrade", args=[obj.pk]), obj.percent)
