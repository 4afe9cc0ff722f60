"""Certificates: issued once per learner and course (or specialization), verifiable by anyone."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse


def new_public_id() -> str:
    # 96 random bits, URL-safe: unguessable, and short enough to print under a QR code.
    return secrets.token_urlsafe(12)


class CertificateKind(models.TextChoices):
    COURSE = "course", "Course"
    SPECIALIZATION = "specialization", "Specialization"


class Certificate(models.Model):
    """The learner's name and the title are copied at issue time: the certificate says what was true
    then, even if the profile or the course is renamed later. It does not depend on a subscription."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    kind = models.CharField(max_length=20, choices=CertificateKind.choices)
    course = models.ForeignKey("courses.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    specialization = models.ForeignKey("courses.Specialization", on_delete=models.PROTECT, related_name="+")
    learner_name = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    completed_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=models.Q(kind="course"),
                name="one_certificate_per_course",
            ),
            models.UniqueConstraint(
                fields=["user", "specialization"],
                condition=models.Q(kind="specialization"),
                name="one_certificate_per_specialization",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="specialization") | models.Q(course__isnull=False),
                name="course_certificate_has_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_name} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("certificates:verify", args=[self.public_id])

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


class CertificateNameChange(models.Model):
    """A certificate re-issued with the learner's corrected name: same verification id, change on record."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="name_changes")
    old_name = models.CharField(max_length=200)
    new_name = models.CharField(max_length=200)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.certificate.public_id}: {self.old_name} → {self.new_name}"
