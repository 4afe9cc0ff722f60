"""The notifications app's public door: the only module other apps import.

    from notifications import api as notifications

    # in your AppConfig.ready():
    notifications.register_kind("forum.reply", label="Replies in threads you follow", default_email="immediate")

    # in the service that makes the change, inside its transaction:
    notifications.notify(event_key=f"forum.reply:{post.pk}", kind="forum.reply", recipient_ids=follower_ids,
                         title=f"{author} replied in “{thread.title}”", url=post_path, actor_id=author_id)

Everything returned is a plain value or a frozen dataclass; models stay inside the app."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from . import registry, selectors, services, tokens
from .models import EmailChoice
from .registry import Kind, UnknownKind
from .selectors import NotificationView
from .services import InvalidNotification, PreferenceRefused

EMAIL_IMMEDIATE = EmailChoice.IMMEDIATE.value
EMAIL_DIGEST = EmailChoice.DIGEST.value
EMAIL_NONE = EmailChoice.NONE.value
DIGEST = registry.DIGEST_KIND

__all__ = [
    "DIGEST",
    "EMAIL_DIGEST",
    "EMAIL_IMMEDIATE",
    "EMAIL_NONE",
    "InvalidNotification",
    "Kind",
    "NotificationView",
    "PreferenceRefused",
    "UnknownKind",
    "mark_read",
    "notify",
    "page_for",
    "preference_for",
    "recent_for",
    "register_kind",
    "set_preference",
    "unread_count",
    "unsubscribe_url",
]


def register_kind(
    key: str,
    *,
    label: str,
    description: str = "",
    default_email: str = EMAIL_IMMEDIATE,
    staff_only: bool = False,
    required: bool = False,
) -> Kind:
    """Declare a kind of notification ("forum.reply"). Call from your AppConfig.ready(). `label` and
    `description` are what learners see on the preferences page; `default_email` is "immediate", "digest" or
    "none"; staff_only kinds are offered to, and delivered to, staff only. required kinds (account e-mails:
    payments, access) are always e-mailed at once, cannot be turned off and carry no unsubscribe link."""
    return registry.register_kind(
        key,
        label=label,
        description=description,
        default_email=default_email,
        staff_only=staff_only,
        required=required,
    )


def notify(
    *,
    event_key: str,
    kind: str,
    recipient_ids: Iterable[int],
    title: str,
    body: str = "",
    url: str = "",
    email_subject: str | None = None,
    email_text: str | None = None,
    email_html: str | None = None,
    actor_id: int | None = None,
) -> int:
    """Notify recipients of one event, inside the caller's transaction; returns how many were new.

    `event_key` identifies the event ("forum.reply:4711"): a retried call with the same key notifies nobody
    twice. `url` is a same-site path. E-mail follows each recipient's preference for the kind: immediate
    (sent after the commit), daily digest, or none; `email_subject`/`email_text` default to the title and
    body, `email_html` adds an HTML part (inserted as is: render it from an autoescaping template). Raises
    UnknownKind, InvalidNotification."""
    return services.notify(
        event_key=event_key,
        kind=kind,
        recipient_ids=recipient_ids,
        title=title,
        body=body,
        url=url,
        email_subject=email_subject,
        email_text=email_text,
        email_html=email_html,
        actor_id=actor_id,
    )


def unread_count(user) -> int:
    """How many of this user's notifications are unread (0 for an anonymous user)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return selectors.unread_count(user_id=user.pk)


def recent_for(user, limit: int = 10) -> list[NotificationView]:
    """The user's newest notifications, newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    return selectors.recent_for(user_id=user.pk, limit=limit)


def page_for(user, *, after: tuple[datetime.datetime, int] | None = None, limit: int = 20) -> list[NotificationView]:
    """The user's notifications newest first, `limit` of them after the (created_at, id) of `after`: keyset
    pages for the REST API (one query on the recipient's index)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return selectors.notifications_page(user_id=user.pk, after=after, limit=limit)


def mark_read(user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the given notifications of this user (or, with None, all of them) read; returns how many changed."""
    return services.notifications_mark_read(user_id=user.pk, notification_ids=notification_ids)


def set_preference(*, user_id: int, kind: str, email: str) -> None:
    """Set a user's e-mail choice for a kind: "immediate", "digest" or "none". Raises PreferenceRefused."""
    services.preference_set(user_id=user_id, kind=kind, email=email)


def preference_for(*, user_id: int, kind: str) -> str:
    """The user's e-mail choice for a kind in effect now (their own, or the kind's default)."""
    return selectors.preference_for(user_id=user_id, kind=kind)


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    """An absolute, signed one-click link that turns this kind's e-mail off for this user (no log-in).
    kind=DIGEST gives the link that stops the daily digest."""
    if kind != DIGEST:
        registry.get_kind(kind)
    return tokens.unsubscribe_url(user_id=user_id, kind=kind)
