"""Plans, Stripe customers and subscriptions, invoices, refunds, disputes and the webhook log.

Stripe is the source of truth; these rows are our copy of it, written only by billing.services
from webhooks, API responses and the nightly reconciliation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .stripe_payloads import FINAL_STATUSES


class Plan(models.Model):
    """What a learner pays. Stripe prices are immutable: a changed amount or currency gets a new price,
    and subscriptions keep the amount they started with."""

    name = models.CharField(max_length=200, default="Deep Learning Specialization")
    amount_cents = models.PositiveIntegerField(default=4900, help_text="Monthly price in the smallest unit (cents).")
    currency = models.CharField(max_length=3, default="usd")
    trial_days = models.PositiveIntegerField(default=7)
    is_active = models.BooleanField(default=True, help_text="The plan new learners subscribe to.")
    stripe_product_id = models.CharField(max_length=100, blank=True)
    stripe_price_id = models.CharField(max_length=100, blank=True, help_text="Set by 'sync with Stripe'.")
    synced_amount_cents = models.PositiveIntegerField(null=True, blank=True, editable=False)
    synced_currency = models.CharField(max_length=3, blank=True, editable=False)
    price_version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.amount_cents / 100:.2f} {self.currency.upper()}/month)"

    @property
    def needs_sync(self) -> bool:
        return (
            not self.stripe_price_id
            or self.synced_amount_cents != self.amount_cents
            or self.synced_currency != self.currency
        )


class Customer(models.Model):
    """The learner's Stripe customer, and the row their billing changes lock (SELECT ... FOR UPDATE), so
    one learner's sign-ups and Checkout completions happen one at a time (decision 0005).

    The row outlives a customer deleted in Stripe: the id is cleared and `generation` counts up, so the
    next customer is created under a new idempotency key (the old key would return the deleted one)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stripe_customer")
    stripe_customer_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    generation = models.PositiveIntegerField(default=0, help_text="Customers deleted in Stripe so far.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.stripe_customer_id})"


class Checkout(models.Model):
    """One attempt to start a subscription; its id keys every Stripe call the attempt makes."""

    class Mode(models.TextChoices):
        STRIPE = "stripe", "Stripe Checkout"
        LOCAL = "local", "Local test-card page"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        REFUSED = "refused", "Refused"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkouts")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    with_trial = models.BooleanField(default=True)
    # What the subscription create sends, fixed at the first attempt: a retry under the same idempotency
    # key must send the same parameters (Stripe refuses it otherwise).
    stripe_price_id = models.CharField(max_length=100, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    stripe_session_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"checkout {self.pk} for {self.user} ({self.status})"


class Subscription(models.Model):
    """Our copy of a Stripe subscription. `status` is Stripe's string; the access policy derives the
    learner's state from it together with trial_end, past_due_since and the period end."""

    FINAL_STATUSES = FINAL_STATUSES

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=30)
    amount_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    trial_start = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    ends_for_completion = models.BooleanField(
        default=False, help_text="Set to end at the period's end because the learner finished the specialization."
    )
    # Out-of-order guard: the Stripe time (seconds) and rank of the newest snapshot applied.
    synced_at_stripe = models.BigIntegerField(default=0)
    synced_rank = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.stripe_subscription_id} · {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES or self.ended_at is not None

    def is_trialing(self, now=None) -> bool:
        """A future trial_end means trialing, whatever the status string says (localstripe never says it)."""
        now = now or timezone.now()
        return not self.is_final and self.trial_end is not None and self.trial_end > now


class TrialClaim(models.Model):
    """One free trial per learner, and per card."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trial_claim")
    card_fingerprint = models.CharField(max_length=100, null=True, blank=True, unique=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"trial of {self.user}"


class Invoice(models.Model):
    STATUS_RANK = {"draft": 1, "open": 2, "uncollectible": 3, "paid": 4, "void": 4}

    stripe_invoice_id = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, blank=True)
    billing_reason = models.CharField(max_length=40, blank=True)
    amount_due = models.IntegerField(default=0)
    amount_paid = models.IntegerField(default=0)
    amount_refunded = models.IntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    stripe_charge_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True)
    hosted_invoice_url = models.URLField(max_length=2000, blank=True)
    invoice_pdf = models.URLField(max_length=2000, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    stripe_created = models.DateTimeField(null=True, blank=True)
    synced_at_stripe = models.BigIntegerField(default=0, help_text="Stripe time of the newest snapshot applied.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-stripe_created", "-id"]

    def __str__(self) -> str:
        return f"{self.number or self.stripe_invoice_id} · {self.amount_paid / 100:.2f} {self.currency.upper()}"

    @property
    def refundable_cents(self) -> int:
        return max(0, self.amount_paid - self.amount_refunded)


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    # Null while a refund seen on a charge waits for its invoice's event (webhooks arrive in any order).
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    stripe_charge_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_refund_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    automatic = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Requests sent to Stripe for this refund.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The automatic refund of a trial conversion happens once per invoice.
            models.UniqueConstraint(
                fields=["invoice"], condition=models.Q(automatic=True), name="one_automatic_refund_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return f"refund {self.amount_cents / 100:.2f} of {self.invoice}"


class Dispute(models.Model):
    """A chargeback. Flagged for staff, who mark it handled."""

    stripe_dispute_id = models.CharField(max_length=100, unique=True)
    stripe_charge_id = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    amount_cents = models.IntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    reason = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=40, blank=True)
    handled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"dispute {self.stripe_dispute_id} ({self.status})"


class WebhookEvent(models.Model):
    """Every event Stripe sent, kept with what processing made of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (unknown type)"
        FAILED = "failed", "Failed (will be retried)"
        UNMATCHED = "unmatched", "Unmatched (customer not known yet)"
        GAVE_UP = "gave_up", "Gave up (staff alerted)"

    # What processing may still change; the nightly run re-queues these (within its bounds).
    RETRYABLE = (Status.RECEIVED, Status.FAILED, Status.UNMATCHED)

    stripe_event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    stripe_created = models.BigIntegerField(default=0)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"


class ReconciliationRun(models.Model):
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0)
    repaired = models.PositiveIntegerField(default=0)
    report = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"reconciliation {self.started_at:%Y-%m-%d %H:%M}: {self.repaired} repaired of {self.checked}"


class StaffAction(models.Model):
    """What a staff member asked Stripe to do to a subscription from the admin, and why. The subscription
    itself changes only from Stripe's answer and its webhooks; this row is the record of who asked."""

    class Kind(models.TextChoices):
        CANCEL_AT_PERIOD_END = "cancel_at_period_end", "Cancel at period end"
        END_NOW = "end_now", "End now (no refund)"
        END_NOW_REFUND = "end_now_refund", "End now and refund the last payment"
        RESUME = "resume", "Resume (undo a cancel at period end)"
        EXTEND_TRIAL = "extend_trial", "Extend the free trial"

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="staff_actions")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    detail = models.CharField(max_length=300, blank=True, help_text="What exactly (a new trial end, a refund).")
    succeeded = models.BooleanField(default=False)
    outcome = models.TextField(blank=True, help_text="Stripe's answer, or why it refused.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.staff} at {self.created_at:%Y-%m-%d %H:%M}"


class AccessGrant(models.Model):
    """Complimentary access without a subscription (financial aid, staff, partners): chosen courses, or the
    whole specialization, until a date. The access policy reads it through billing.api."""

    class Kind(models.TextChoices):
        FINANCIAL_AID = "financial_aid", "Financial aid"
        STAFF = "staff", "Staff"
        PARTNER = "partner", "Partner"
        OTHER = "other", "Other"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FINANCIAL_AID)
    whole_specialization = models.BooleanField(default=False)
    course_ids = models.JSONField(default=list, blank=True, help_text="The courses it opens (ids).")
    until = models.DateField(help_text="Open up to and including this day.")
    reason = models.CharField(max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "until"])]

    def __str__(self) -> str:
        what = "the whole specialization" if self.whole_specialization else f"{len(self.course_ids)} course(s)"
        return f"{self.get_kind_display()} for {self.user}: {what} until {self.until}"


class FinancialAidApplication(models.Model):
    """A learner's request for free access, reviewed by staff: approved (with a grant) or declined."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aid_applications")
    whole_specialization = models.BooleanField(default=True)
    course_ids = models.JSONField(default=list, blank=True)
    circumstances = models.TextField(help_text="Why the learner cannot pay.")
    goals = models.TextField(help_text="What the learner wants to do with the courses.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True, help_text="Sent to the learner.")
    grant = models.OneToOneField(
        AccessGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One open application at a time: a second waits for the first's decision.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="one_pending_aid_application"
            )
        ]

    def __str__(self) -> str:
        return f"financial aid for {self.user} ({self.get_status_display()})"
