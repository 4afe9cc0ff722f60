"""Quizzes: a quiz item's settings, its question pools, questions and options, and learners' attempts."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

DEFAULT_PASS_PERCENT = 80
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_WINDOW_HOURS = 8


class Quiz(models.Model):
    """The graded part of a quiz item. Its primary key is the item's, so `Item.quiz` reaches it."""

    item = models.OneToOneField("courses.Item", on_delete=models.CASCADE, related_name="quiz", primary_key=True)
    instructions = models.TextField(blank=True, help_text="Markdown, shown before an attempt.")
    pass_percent = models.PositiveSmallIntegerField(
        default=DEFAULT_PASS_PERCENT, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_ATTEMPTS,
        validators=[MinValueValidator(1)],
        help_text="Attempts a learner may start within the window below.",
    )
    attempt_window_hours = models.PositiveSmallIntegerField(
        default=DEFAULT_WINDOW_HOURS, validators=[MinValueValidator(1)]
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: no time limit. Enforced on the server."
    )
    shuffle_questions = models.BooleanField(default=True, help_text="Shuffle the drawn questions per attempt.")
    shuffle_options = models.BooleanField(default=True, help_text="Shuffle the options of each question per attempt.")

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return f"{self.item.course.slug}/{self.item.slug}"


class QuestionPool(models.Model):
    """Questions an attempt draws from: `draw` of them at random, or all when empty."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="pools")
    order = models.PositiveIntegerField(default=0)
    name = models.SlugField(blank=True)
    draw = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: every question of the pool.")

    class Meta:
        ordering = ["quiz", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["quiz", "order"], name="unique_pool_order")]

    def __str__(self) -> str:
        return f"{self.quiz} · pool {self.name or self.order}"


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple select"
    NUMERIC = "numeric", "Numeric"
    TEXT = "text", "Short text"


class Question(models.Model):
    pool = models.ForeignKey(QuestionPool, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    prompt = models.TextField(help_text="Markdown with code and $math$.")
    explanation = models.TextField(help_text="Markdown, shown after the attempt is submitted.")
    points = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    numeric_answer = models.FloatField(null=True, blank=True)
    tolerance = models.FloatField(default=0, help_text="Numeric: accepted absolute difference.")
    text_answers = models.JSONField(default=list, blank=True, help_text="Short text: accepted answers.")
    text_pattern = models.CharField(max_length=300, blank=True, help_text="Short text: a regular expression.")
    case_sensitive = models.BooleanField(default=False)
    retired = models.BooleanField(
        default=False, help_text="Removed from the pack but answered in past attempts: kept, never drawn."
    )

    class Meta:
        ordering = ["pool", "order", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.prompt[:60]}"


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveIntegerField(default=0)
    text = models.TextField(help_text="Markdown.")
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Expired"


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(default=0)
    max_score = models.FloatField(default=0)
    percent = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(default=False)

    class Meta:
        ordering = ["quiz", "user", "number"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "user", "number"], name="unique_attempt_number"),
            models.UniqueConstraint(
                fields=["quiz", "user"],
                condition=models.Q(status="in_progress"),
                name="one_attempt_in_progress",
            ),
        ]
        indexes = [models.Index(fields=["user", "quiz", "started_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.quiz} · attempt {self.number}"


class AttemptQuestion(models.Model):
    """A question drawn into an attempt, with its option order, the learner's answer and its result."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="questions")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    option_order = models.JSONField(default=list, blank=True, help_text="Option ids in the order shown.")
    response = models.JSONField(null=True, blank=True)
    is_correct = models.BooleanField(null=True)
    points_awarded = models.FloatField(default=0)
    max_points = models.FloatField(default=1)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="unique_attempt_position"),
            models.UniqueConstraint(fields=["attempt", "question"], name="unique_attempt_question"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} · Q{self.position}"
