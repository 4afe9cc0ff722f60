"""Reads: unread counts, lists, effective preferences. Nothing here writes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from . import registry
from .models import EmailChoice, Notification, Preference

# The header shows "99+" beyond this; counting stops there, so a huge backlog costs no more than a small one.
BELL_CAP = 100


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    url: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None
    actor_id: int | None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class PreferenceView:
    kind: registry.Kind
    email: str
    is_default: bool


def _label(kind_key: str) -> str:
    kind = registry.kind_or_none(kind_key)
    return kind.label if kind else kind_key


def notification_view(notification: Notification) -> NotificationView:
    return NotificationView(
        id=notification.pk,
        kind=notification.kind,
        kind_label=_label(notification.kind),
        title=notification.title,
        body=notification.body,
        url=notification.url,
        created_at=notification.created_at,
        read_at=notification.read_at,
        actor_id=notification.actor_id,
    )


def unread_count(*, user_id: int, cap: int | None = None) -> int:
    unread = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if cap is not None:
        # COUNT over a LIMITed subquery: bounded work however many are unread.
        return unread.values("pk")[:cap].count()
    return unread.count()


def notifications_for(*, user_id: int) -> QuerySet[Notification]:
    """Newest first, for the list page (which paginates it)."""
    return Notification.objects.filter(recipient_id=user_id).order_by("-created_at", "-id")


def recent_for(*, user_id: int, limit: int = 10) -> list[NotificationView]:
    return [notification_view(row) for row in notifications_for(user_id=user_id)[: max(0, limit)]]


def notifications_page(
    *, user_id: int, after: tuple[datetime.datetime, int] | None = None, limit: int = 20
) -> list[NotificationView]:
    """Newest first after the (created_at, id) of `after`: a keyset page (the REST API's events)."""
    rows = notifications_for(user_id=user_id)
    if after is not None:
        at, pk = after
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    return [notification_view(row) for row in rows[: max(0, limit)]]


def email_routes(*, kind: registry.Kind, user_ids: list[int]) -> dict[int, str]:
    """Each user's effective e-mail choice for a kind, in one query: their row, or the kind's default.
    A required kind is e-mailed at once whatever a stored row says."""
    if kind.required:
        return dict.fromkeys(user_ids, EmailChoice.IMMEDIATE.value)
    chosen = dict(Preference.objects.filter(kind=kind.key, user_id__in=user_ids).values_list("user_id", "email"))
    return {user_id: chosen.get(user_id, kind.default_email) for user_id in user_ids}


def preference_for(*, user_id: int, kind: str) -> str:
    kind_obj = registry.get_kind(kind)
    return email_routes(kind=kind_obj, user_ids=[user_id])[user_id]


def preferences_for(*, user_id: int, is_staff: bool) -> list[PreferenceView]:
    """Every kind this user can receive, with their choice (or the default), for the preferences page."""
    chosen = dict(Preference.objects.filter(user_id=user_id).values_list("kind", "email"))
    return [
        PreferenceView(kind=kind, email=chosen.get(kind.key, kind.default_email), is_default=kind.key not in chosen)
        for kind in registry.kinds_for(is_staff=is_staff)
    ]


def digest_kinds_for(*, user_id: int, is_staff: bool) -> list[str]:
    """The kinds whose e-mail currently goes to this user's daily digest."""
    return [
        row.kind.key for row in preferences_for(user_id=user_id, is_staff=is_staff) if row.email == EmailChoice.DIGEST
    ]
