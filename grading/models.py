"""Notebook assignments, versioned graders, submissions and grading runs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse


def default_upload_limit() -> int:
    return settings.GRADING_UPLOAD_MAX_BYTES


class Assignment(models.Model):
    """A programming assignment: the course item plus its grading settings."""

    item = models.OneToOneField("courses.Item", on_delete=models.CASCADE, related_name="assignment")
    instructions = models.TextField(blank=True, help_text="Markdown shown above the notebook.")
    time_limit_seconds = models.PositiveIntegerField(default=120, help_text="Wall clock for the whole notebook.")
    cell_timeout_seconds = models.PositiveIntegerField(default=30)
    memory_mb = models.PositiveIntegerField(default=512)
    max_upload_bytes = models.PositiveIntegerField(
        default=default_upload_limit, help_text="Largest notebook accepted. Default: GRADING_UPLOAD_MAX_BYTES."
    )
    max_attempts = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    cooldown_minutes = models.PositiveIntegerField(default=0, help_text="Minimum time between two submissions.")
    pass_percent = models.PositiveIntegerField(default=80, help_text="Score needed to pass the item.")
    current_version = models.ForeignKey(
        "GraderVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Published."
    )

    def __str__(self) -> str:
        return self.item.title

    def get_absolute_url(self) -> str:
        return self.item.get_absolute_url()

    @property
    def slug(self) -> str:
        return self.item.slug


class GraderVersion(models.Model):
    """One version of an assignment's grader. Immutable once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        CHECKING = "checking", "Self-check running"
        FAILED = "failed", "Self-check failed"
        PUBLISHED = "published", "Published"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    source_format = models.CharField(max_length=20, default="pack")
    starter = models.JSONField(help_text="The notebook learners download (nbformat v4).")
    solution = models.JSONField(help_text="The reference solution.")
    tests = models.JSONField(help_text="List of tests (grading.spec.TestSpec as dicts).")
    locked_hashes = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, help_text="Hash of starter, solution and tests.")
    self_check = models.JSONField(default=dict, blank=True, help_text="Report of the last self-check.")
    image_tag = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["assignment", "-number"]
        constraints = [models.UniqueConstraint(fields=["assignment", "number"], name="unique_grader_version_number")]

    def __str__(self) -> str:
        return f"{self.assignment} v{self.number} ({self.get_status_display()})"

    FROZEN_FIELDS = ("starter", "solution", "tests", "locked_hashes", "content_hash", "number", "assignment_id")

    def save(self, *args, **kwargs):
        # A published version is immutable: a regrade needs a new version, never an edit in place.
        if self.pk:
            old = GraderVersion.objects.filter(pk=self.pk).values(*self.FROZEN_FIELDS, "status").first()
            if old and old["status"] == self.Status.PUBLISHED:
                changed = [f for f in self.FROZEN_FIELDS if old[f] != getattr(self, f)]
                if changed or self.status != self.Status.PUBLISHED:
                    raise ValidationError(f"Grader version {self.number} is published and cannot change ({changed}).")
        super().save(*args, **kwargs)

    @property
    def max_points(self) -> float:
        return sum(t["points"] for t in self.tests if t.get("kind") != "manual")


class Submission(models.Model):
    """A learner's notebook, stored immutably by content hash. Its score is the latest run's."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        ERROR = "error", "Grading error"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    attempt = models.PositiveIntegerField()
    notebook_sha256 = models.CharField(max_length=64)
    notebook_path = models.CharField(max_length=300, help_text="Relative to the submissions storage.")
    size_bytes = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    latest_run = models.ForeignKey("GradingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    # The lease (ADR 0003): the one grading attempt allowed to save this submission's grade. A worker
    # claims it in a transaction, renews it while grading, and its result is accepted only while the
    # lease is still its own; beat re-queues a lease that expired (its worker died).
    lease_attempt = models.UUIDField(null=True, blank=True, help_text="Attempt holding the lease.")
    lease_worker = models.CharField(max_length=200, blank=True, help_text="Worker of that attempt (host:pid).")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0, help_text="How many attempts claimed it (1 unless a worker died).")
    engine_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Gave up because no engine answered; re-queued when one answers again."
    )

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [models.UniqueConstraint(fields=["assignment", "learner", "attempt"], name="unique_attempt")]
        indexes = [
            models.Index(fields=["assignment", "learner"]),
            models.Index(
                fields=["lease_expires_at"],
                name="grading_submission_leased",
                condition=models.Q(status="running"),
            ),
            models.Index(
                fields=["engine_failed_at"],
                name="grading_submission_engine",
                condition=models.Q(engine_failed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} · {self.assignment} · attempt {self.attempt}"

    def get_absolute_url(self) -> str:
        return reverse("grading:submission", args=[self.pk])

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100 * self.score / self.max_score

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.GRADED, self.Status.ERROR}


class GradingRun(models.Model):
    """One grading of one submission by one grader version. Runs are history: never edited once finished."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        ERROR = "error", "Grading error"
        ABANDONED = "abandoned", "Abandoned (its worker stopped or lost the lease)"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="runs")
    grader_version = models.ForeignKey(GraderVersion, on_delete=models.PROTECT, related_name="runs")
    regrade = models.ForeignKey("RegradeJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    tests = models.JSONField(default=list, blank=True, help_text="Per-test results (as stored; filtered for learners).")
    flags = models.JSONField(default=list, blank=True)
    cells = models.JSONField(default=list, blank=True, help_text="The learner's cell outputs, capped.")
    log = models.TextField(blank=True, help_text="Staff-only failure log.")
    error_message = models.TextField(blank=True, help_text="What the learner is told when grading failed.")
    image_tag = models.CharField(max_length=100, blank=True)
    execution_seconds = models.FloatField(null=True, blank=True)
    attempt_id = models.UUIDField(default=uuid.uuid4, editable=False, help_text="The attempt that made this run.")
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that ran it.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # The database's word on exactly-once: one graded first-grading run per submission.
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(status="graded", regrade__isnull=True),
                name="one_graded_run_per_submission",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of submission {self.submission_id}"


class RegradeJob(models.Model):
    """Staff re-run submissions of an assignment on a grader version, in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="regrades")
    grader_version = models.ForeignKey(GraderVersion, on_delete=models.PROTECT, related_name="regrades")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    submission_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Regrade of {self.assignment} on v{self.grader_version.number}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


class HintReveal(models.Model):
    """How many hints of one test a learner has opened (they open them one at a time, after a failure)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="hint_reveals")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hint_reveals")
    test_name = models.CharField(max_length=200)
    count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "learner", "test_name"], name="unique_hint_reveal"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} · {self.assignment} · {self.test_name}: {self.count}"
