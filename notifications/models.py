"""In-site notifications, the e-mail outbox that delivers them, daily digests and per-kind preferences.

A notification kind is not a model: apps register kinds in code (`registry.py`); rows store its key."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class EmailChoice(models.TextChoices):
    IMMEDIATE = "immediate", "E-mail me right away"
    DIGEST = "digest", "Daily digest"
    NONE = "none", "No e-mail"


class Digest(models.Model):
    """One daily digest e-mail for one user. Unique per (user, date): the digest runs at most once a day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    created_at = models.DateTimeField()
    item_count = models.PositiveIntegerField(default=0)
    # Empty when nothing was e-mailed (the user had become unreachable); the rows were still digested.
    outbox = models.OneToOneField("EmailOutbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-date", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="notifications_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Digest {self.date} for user {self.user_id}"


class Notification(models.Model):
    """One thing that happened, for one recipient. `event_key` names the happening (e.g. "forum.reply:4711"),
    so sending the same event twice never shows it twice."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    event_key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="A same-site path the notification opens.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # The recipient's e-mail preference when the notification was made: what the e-mail side did with it.
    email = models.CharField(max_length=16, choices=EmailChoice.choices)
    digest = models.ForeignKey(Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient"], name="notifications_notification_once"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
            # The header bell counts these on every page.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notif_unread"),
            models.Index(
                fields=["recipient"], condition=Q(email="digest", digest__isnull=True), name="notif_digest_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class EmailOutbox(models.Model):
    """One e-mail to send, written in the same transaction as what caused it, and sent after the commit.
    See docs/decisions/0001-outbox.md for the states and what "exactly once" means here."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=64, help_text="The notification kind, or 'digest'.")
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=250)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=250, unique=True)
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(help_text="Not claimed before this time (retry back-off).")
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="While sending: after this the row counts as abandoned and is sent again."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    to_email = models.EmailField(blank=True, help_text="The address it was sent to.")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "e-mail in the outbox"
        verbose_name_plural = "e-mail outbox"
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient"], name="notifications_outbox_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_due"),
            models.Index(fields=["lease_expires_at"], condition=Q(status="sending"), name="outbox_leased"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → user {self.recipient_id} ({self.status})"


class Preference(models.Model):
    """A user's e-mail choice for one kind. No row: the kind's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    email = models.CharField(max_length=16, choices=EmailChoice.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notifications_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.email}"
