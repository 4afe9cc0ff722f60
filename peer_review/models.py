"""Peer review: an assignment with its rubric, learners' submissions, the reviews (leases first), flags,
disputes and the staff audit trail. The rules live in services.py; the arithmetic in scoring.py."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

DEFAULT_REVIEWS = 3
DEFAULT_PASS_PERCENT = 60
DEFAULT_SHORT_AFTER_DAYS = 7
DEFAULT_TRAINING_TOLERANCE = 20
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024


class ScoringMethod(models.TextChoices):
    MEDIAN = "median", "Median of the reviews"
    CALIBRATED = "calibrated", "Calibrated estimate"


class Assignment(models.Model):
    """The graded part of a peer-review item. Its primary key is the item's."""

    item = models.OneToOneField(
        "courses.Item", on_delete=models.CASCADE, related_name="peer_assignment", primary_key=True
    )
    instructions = models.TextField(blank=True, help_text="Markdown, shown above the submission form.")
    accepts_text = models.BooleanField(default=True, help_text="A Markdown answer typed on the page.")
    file_types = models.JSONField(
        default=list, blank=True, help_text='File extensions accepted besides the text, e.g. [".pdf", ".png"].'
    )
    max_file_bytes = models.PositiveIntegerField(default=DEFAULT_MAX_FILE_BYTES)
    accepts_notebook = models.BooleanField(
        default=False, help_text="A .ipynb, shown read-only to reviewers with its outputs; never executed."
    )
    pass_percent = models.PositiveSmallIntegerField(
        default=DEFAULT_PASS_PERCENT, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    reviews_to_give = models.PositiveSmallIntegerField(default=DEFAULT_REVIEWS, validators=[MinValueValidator(1)])
    reviews_to_receive = models.PositiveSmallIntegerField(default=DEFAULT_REVIEWS, validators=[MinValueValidator(1)])
    submission_deadline = models.DateTimeField(null=True, blank=True)
    review_deadline = models.DateTimeField(null=True, blank=True)
    short_after_days = models.PositiveSmallIntegerField(
        default=DEFAULT_SHORT_AFTER_DAYS,
        validators=[MinValueValidator(1)],
        help_text="A submission still short of reviews this long after it arrived needs fewer (at least one); "
        "twice this long without any review, it goes to the staff queue.",
    )
    training_tolerance = models.PositiveSmallIntegerField(
        default=DEFAULT_TRAINING_TOLERANCE,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Training: a review within this many points (of 100) of the staff score passes the example.",
    )
    rubric_frozen_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set by the first completed review: the rubric is fixed."
    )
    scoring_method = models.CharField(
        max_length=12, choices=ScoringMethod.choices, default=ScoringMethod.MEDIAN, editable=False
    )
    agreement = models.JSONField(
        default=dict, blank=True, editable=False, help_text="Median vs calibrated against staff spot checks."
    )

    class Meta:
        verbose_name = "peer-review assignment"

    def __str__(self) -> str:
        return f"{self.item.course.slug}/{self.item.slug}"

    @property
    def rubric_frozen(self) -> bool:
        return self.rubric_frozen_at is not None


class Criterion(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.SlugField(max_length=60, help_text="The key scores are sent with (unique in the rubric).")
    prompt = models.TextField(help_text="Markdown: what the reviewer judges.")
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0.01)])
    comment_box = models.BooleanField(default=True, help_text="Reviewers may add a comment on this criterion.")

    class Meta:
        ordering = ["assignment", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["assignment", "name"], name="peer_unique_criterion_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def max_points(self) -> int:
        return max((o.points for o in self.options.all()), default=0)


class Option(models.Model):
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=300)
    points = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["criterion", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["criterion", "points"], name="peer_unique_option_points")]

    def __str__(self) -> str:
        return f"{self.label} ({self.points})"


class Phase(models.TextChoices):
    OPEN = "open", "Collecting reviews"
    GRADED = "graded", "Graded"
    ESCALATED = "escalated", "Escalated to staff"
    STAFF_QUEUE = "staff_queue", "In the staff queue"


class Submission(models.Model):
    """A learner's work, or a staff-written example (author empty) used for training and calibration."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="peer_submissions"
    )
    is_example = models.BooleanField(default=False, help_text="Written by staff for training and calibration.")
    is_training = models.BooleanField(default=False, help_text="An example every learner reviews before peers.")
    order = models.PositiveSmallIntegerField(default=0, help_text="Examples: their order in the pack.")
    text = models.TextField(blank=True)
    file = models.FileField(upload_to="peer_review/files/", blank=True)
    notebook = models.JSONField(null=True, blank=True, help_text="Cells and outputs only (no metadata).")
    created_at = models.DateTimeField()
    superseded = models.BooleanField(default=False, help_text="Replaced by a resubmission staff allowed.")
    resubmit_allowed = models.BooleanField(default=False)
    required_reviews = models.PositiveSmallIntegerField(default=DEFAULT_REVIEWS)
    active_reviews = models.PositiveSmallIntegerField(default=0, help_text="Completed plus leased.")
    completed_reviews = models.PositiveSmallIntegerField(default=0)
    ever_leased = models.BooleanField(default=False)
    staff_scores = models.JSONField(null=True, blank=True, help_text="{criterion name: points} given by staff.")
    staff_percent = models.FloatField(null=True, blank=True)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.OPEN)
    median_percent = models.FloatField(null=True, blank=True)
    calibrated_percent = models.FloatField(null=True, blank=True)
    final_percent = models.FloatField(null=True, blank=True)
    final_scores = models.JSONField(null=True, blank=True, help_text="{criterion name: points} of the grade.")
    method = models.CharField(max_length=12, blank=True)
    spread = models.FloatField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    overridden = models.BooleanField(default=False)
    escalated_at = models.DateTimeField(null=True, blank=True)
    staff_queue_at = models.DateTimeField(null=True, blank=True)
    gave_all_available = models.BooleanField(
        default=False, help_text="The author asked for work while nothing was left to review."
    )

    class Meta:
        ordering = ["assignment", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "author"],
                condition=models.Q(superseded=False, author__isnull=False),
                name="peer_one_current_submission",
            ),
        ]
        indexes = [
            models.Index(fields=["assignment", "active_reviews", "created_at"], name="peer_pool_order"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} · submission {self.pk}"

    @property
    def is_staff_scored(self) -> bool:
        return self.staff_scores is not None


class ReviewStatus(models.TextChoices):
    LEASED = "leased", "Leased"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Lease expired"
    DISCARDED = "discarded", "Discarded by staff"


class Review(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="reviews")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="peer_reviews")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.LEASED)
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    is_calibration = models.BooleanField(default=False, help_text="Of a staff-scored submission.")
    is_training = models.BooleanField(default=False)
    is_extra = models.BooleanField(default=False, help_text="Beyond the reviewer's required reviews.")
    scores = models.JSONField(default=dict, blank=True)
    comments = models.JSONField(default=dict, blank=True)
    percent = models.FloatField(null=True, blank=True)
    bias_after = models.FloatField(null=True, blank=True, help_text="Calibration: this review minus staff.")
    discard_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submission", "leased_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "reviewer"],
                condition=~models.Q(status="expired"),
                name="peer_review_once",
            ),
            models.UniqueConstraint(
                fields=["assignment", "reviewer"],
                condition=models.Q(status="leased"),
                name="peer_one_lease_at_a_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="peer_lease_expiry")]

    def __str__(self) -> str:
        return f"review {self.pk} of {self.submission_id}"


class Flag(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="flags")
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "flagged_by"], name="peer_flag_once")]

    def __str__(self) -> str:
        return f"flag on review {self.review_id}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Dispute(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="disputes")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="disputes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "author"], name="peer_dispute_once")]

    def __str__(self) -> str:
        return f"dispute on submission {self.submission_id} ({self.status})"


class StaffAction(models.Model):
    """The audit trail: who did what to which grade or review, when, the value before and after, and why."""

    class Kind(models.TextChoices):
        OVERRIDE = "override", "Grade overridden"
        STAFF_GRADE = "staff_grade", "Graded by staff"
        DISCARD = "discard", "Review discarded"
        RESOLVE_DISPUTE = "resolve_dispute", "Dispute resolved"
        ALLOW_RESUBMIT = "allow_resubmit", "Resubmission allowed"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="staff_actions")
    submission = models.ForeignKey(Submission, null=True, on_delete=models.CASCADE, related_name="staff_actions")
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"
