"""Writes: notifications and their e-mails (outbox), delivery, daily digests, preferences, read marks.
Other apps call these through notifications.api only."""

from .digest import digest_send_one, digests_send
from .inbox import notification_open, notifications_mark_read
from .notify import InvalidNotification, check_notification, is_safe_path, notify
from .outbox import (
    Claim,
    DeliveryReport,
    lease_seconds,
    max_attempts,
    outbox_claim,
    outbox_deliver_due,
    outbox_deliver_one,
    outbox_retry,
    outbox_send,
    retry_delay,
)
from .preferences import (
    PreferenceRefused,
    UnsubscribeResult,
    check_preference,
    preference_set,
    preferences_save,
    unsubscribe,
    unsubscribe_target,
)

__all__ = [
    "Claim",
    "DeliveryReport",
    "InvalidNotification",
    "PreferenceRefused",
    "UnsubscribeResult",
    "check_notification",
    "check_preference",
    "digest_send_one",
    "digests_send",
    "is_safe_path",
    "lease_seconds",
    "max_attempts",
    "notification_open",
    "notifications_mark_read",
    "notify",
    "outbox_claim",
    "outbox_deliver_due",
    "outbox_deliver_one",
    "outbox_retry",
    "outbox_send",
    "preference_set",
    "preferences_save",
    "retry_delay",
    "unsubscribe",
    "unsubscribe_target",
]
