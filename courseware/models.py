"""What the course pages own: the archives learners download to keep a course they completed."""

from django.conf import settings
from django.db import models


class CourseArchive(models.Model):
    """A zip of one course for one learner: its readings, transcripts and captions, the assignment
    notebooks, and the learner's own submissions with their feedback. Built by a task, with progress;
    downloadable for as long as the course stays open to them (completed courses: forever)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_archives")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True, help_text="Relative to MEDIA_ROOT; served after the policy.")
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "course", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.course} · {self.status}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.READY, self.Status.FAILED}
