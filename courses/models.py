"""Course structure (specialization → course → week → item), lecture media, interviews and progress."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Specialization(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    tagline = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:specialization", args=[self.slug])


class CompletionRule(models.TextChoices):
    GRADED = "graded", "Every graded item passed"
    ALL_ITEMS = "all", "Every item completed (graded items passed, lectures watched, readings read)"


class Course(models.Model):
    specialization = models.ForeignKey(Specialization, on_delete=models.PROTECT, related_name="courses")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    short_description = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    level = models.CharField(max_length=50, blank=True)
    estimated_hours = models.PositiveIntegerField(null=True, blank=True)
    release_date = models.DateField(
        null=True, blank=True, help_text="Before this date the course shows as 'coming soon'. Empty: not scheduled."
    )
    completion_rule = models.CharField(
        max_length=10,
        choices=CompletionRule.choices,
        default=CompletionRule.GRADED,
        help_text="When the course counts as completed (and its certificate is issued).",
    )

    class Meta:
        ordering = ["specialization", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:course", args=[self.slug])

    def is_released(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.release_date is not None and self.release_date <= today


class CourseNotifyRequest(models.Model):
    """A learner asked to be told when a coming-soon course opens."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="notify_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "notify-me request"
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="one_notify_request_per_course")]

    def __str__(self) -> str:
        return f"{self.user} → {self.course}"


def _one_release_rule(prefix: str) -> models.CheckConstraint:
    """An absolute date or a number of days after the learner's start, never both."""
    return models.CheckConstraint(
        condition=models.Q(release_date__isnull=True) | models.Q(release_after_days__isnull=True),
        name=f"{prefix}_release_date_or_days",
        violation_error_message="Give a release date or a number of days after the learner's start, not both.",
    )


class Week(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="weeks")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    release_date = models.DateField(
        null=True, blank=True, help_text="The week opens on this date (not before its course). Empty: with the course."
    )
    release_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Or: the week opens this many days after the learner's schedule start (drip). Not with a date.",
    )

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="unique_week_number"),
            _one_release_rule("week"),
        ]

    def __str__(self) -> str:
        return f"Week {self.number}: {self.title}"


class ItemKind(models.TextChoices):
    LECTURE = "lecture", "Video"
    READING = "reading", "Reading"
    QUIZ = "quiz", "Quiz"
    ASSIGNMENT = "assignment", "Programming assignment"
    PEER_REVIEW = "peer_review", "Peer-graded assignment"


class Item(models.Model):
    """One step of a week. Kind-specific data lives in a one-to-one detail (Lecture, Reading, ...)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    week = models.ForeignKey(Week, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveIntegerField(default=0)
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    is_preview = models.BooleanField(default=False, help_text="Free preview: open to everyone.")
    minutes = models.PositiveIntegerField(default=0, help_text="Estimated time, shown in the syllabus.")
    release_date = models.DateField(
        null=True, blank=True, help_text="The item opens on this date (not before its week). Empty: with its week."
    )
    release_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Or: the item opens this many days after the learner's schedule start. Not with a date.",
    )
    due_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Graded items: suggested deadline this many days after the week opens for the learner "
        "(1-7). Empty: the week's deadline.",
    )
    pack_extra = models.JSONField(
        default=dict,
        blank=True,
        help_text="Kind-specific fields from the content pack, kept for the app that owns the kind.",
    )

    class Meta:
        ordering = ["week__number", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="unique_item_slug_per_course"),
            _one_release_rule("item"),
        ]
        indexes = [models.Index(fields=["week", "order"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:item", args=[self.course.slug, self.slug])

    @property
    def is_math_lecture(self) -> bool:
        """An optional mathematical deep-dive (its lecture loaded with the item, as the syllabus does)."""
        if self.kind != ItemKind.LECTURE:
            return False
        lecture = getattr(self, "lecture", None)
        return bool(lecture and lecture.is_math)

    @property
    def is_graded(self) -> bool:
        return self.kind in {ItemKind.QUIZ, ItemKind.ASSIGNMENT, ItemKind.PEER_REVIEW}


class Lecture(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="lecture", primary_key=True)
    is_math = models.BooleanField(default=False, help_text="Optional mathematical deep-dive.")
    duration_seconds = models.FloatField(
        default=0, help_text="Seconds. Probed from the video file when there is one (the media wins over the pack)."
    )
    declared_duration_seconds = models.FloatField(
        default=0, editable=False, help_text="What the pack says (the end of the last caption)."
    )
    captions = models.JSONField(default=list, blank=True, help_text="Cues: [{start, end, text}], seconds.")
    video = models.FileField(upload_to="lectures/", blank=True, max_length=300)
    video_source_hash = models.CharField(max_length=64, blank=True, editable=False)
    questions = models.JSONField(
        default=list,
        blank=True,
        help_text="Ungraded in-video questions: [{at: seconds, kind, prompt, ...}] in the quiz question format.",
    )

    def __str__(self) -> str:
        return self.item.title


class Paper(models.Model):
    """A paper cited by a lecture."""

    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="papers")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    authors = models.CharField(max_length=300)
    year = models.PositiveIntegerField(null=True, blank=True)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.authors} ({self.year}). {self.title}"


class Reading(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="reading", primary_key=True)
    body = models.TextField(help_text="Markdown.")

    def __str__(self) -> str:
        return self.item.title


class Interview(models.Model):
    """Heroes of Deep Learning: an interview video with a guest, attached to the specialization."""

    specialization = models.ForeignKey(Specialization, on_delete=models.CASCADE, related_name="interviews")
    slug = models.SlugField(unique=True)
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    guest = models.CharField(max_length=200)
    guest_title = models.CharField(max_length=300, blank=True)
    bio = models.TextField(blank=True, help_text="Markdown.")
    related_courses = models.ManyToManyField(Course, blank=True, related_name="interviews")
    duration_seconds = models.FloatField(default=0)
    captions = models.JSONField(default=list, blank=True)
    video = models.FileField(upload_to="interviews/", blank=True, max_length=300)
    video_source_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:interview", args=[self.slug])


class Enrollment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    created_at = models.DateTimeField(auto_now_add=True)
    schedule_start = models.DateTimeField(
        null=True, blank=True, help_text="Suggested week deadlines count from here (empty: from enrolment)."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="one_enrollment_per_course")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"


class WeekOpenNotice(models.Model):
    """A learner was told that a week opened for them (in-site and by e-mail): once, ever."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.ForeignKey(Week, on_delete=models.CASCADE, related_name="open_notices")
    opened_on = models.DateField()
    notified_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="one_week_open_notice")]

    def __str__(self) -> str:
        return f"{self.user} · {self.week} opened {self.opened_on}"


class CalendarFeed(models.Model):
    """A learner's secret calendar address (iCalendar): whoever has the token reads their deadlines and
    week openings, so the learner can regenerate it (the old address stops working)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar of {self.user}"


class ItemProgress(models.Model):
    """Where a learner is in one item. Lectures: last position and the share watched."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_progress")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="progress")
    position_seconds = models.FloatField(default=0)
    watched_fraction = models.FloatField(default=0)
    watched_ranges = models.JSONField(default=list, blank=True, help_text="Merged [start, end] seconds played.")
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "item progress"
        verbose_name_plural = "item progress"
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="one_progress_per_item")]

    def __str__(self) -> str:
        return f"{self.user} · {self.item}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class CourseCompletion(models.Model):
    """A learner finished a course. Recorded once, with its date; it is never removed silently.

    The access policy reads it (completed courses stay open after a subscription ends) and
    certificates are issued from it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_completions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    completed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="one_completion_per_course")]

    def __str__(self) -> str:
        return f"{self.user} completed {self.course} on {self.completed_at:%Y-%m-%d}"


class CompletionRegression(models.Model):
    """A graded item a learner had passed fell below its pass mark (a regrade) after the course was
    completed. Completion and certificate are kept; staff decide, and record what they decided."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="completion_regressions")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    detail = models.TextField(help_text="What changed, from the app that regraded.")
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_regression_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.item} fell below its pass mark"
