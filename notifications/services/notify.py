"""notify(): one event, its in-site notifications, and the e-mails they call for, in the caller's transaction."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from .. import emails, registry, selectors
from ..models import EmailChoice, EmailOutbox, Notification, OutboxStatus
from .outbox import deliver_after_commit, outbox_row_new

logger = logging.getLogger(__name__)


INSERT_CHUNK = 500


class InvalidNotification(ValueError):
    """A caller passed something notify() cannot store (a programming error in the calling app)."""


def is_safe_path(url: str) -> bool:
    """A same-site path: starts with one slash, no scheme, no host, no backslash tricks."""
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and not any(ch.isspace() or ord(ch) < 32 for ch in url)
    )


def check_notification(*, event_key: str, title: str, url: str) -> None:
    if not event_key or event_key != event_key.strip() or len(event_key) > 200:
        raise InvalidNotification("event_key must be 1 to 200 characters with no surrounding spaces.")
    if not title.strip():
        raise InvalidNotification("A notification needs a title.")
    if url and (len(url) > 500 or not is_safe_path(url)):
        raise InvalidNotification(f"url must be a same-site path such as '/forums/t/12/', not {url[:80]!r}.")


def _clean_ids(recipient_ids: Iterable[int]) -> list[int]:
    ids = []
    for value in recipient_ids:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidNotification(f"recipient_ids must be user ids (int), got {value!r}.")
        ids.append(value)
    return list(dict.fromkeys(ids))


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    now: datetime.datetime | None = None,
) -> int:
    """Tell each recipient about one event, in the caller's transaction. Returns how many were new.

    `event_key` names the event ("forum.reply:4711"): calling again with the same key is a no-op for every
    recipient who already has it, so callers may retry freely. The actor is never notified of their own
    action; recipients who may not receive the kind (staff-only kinds) or no longer exist are skipped.
    Recipients whose e-mail choice for the kind is "immediate" get one outbox row each, delivered after the
    commit; "digest" rows wait for the daily digest. Inactive users and users without an address get the
    in-site notification only."""
    kind_obj = registry.get_kind(kind)
    check_notification(event_key=event_key, title=title, url=url)
    ids = [user_id for user_id in _clean_ids(recipient_ids) if user_id != actor_id]
    if not ids:
        return 0
    now = now or timezone.now()
    title = _one_line(title, 200)
    User = get_user_model()
    with transaction.atomic():
        users = {
            user.pk: user
            for user in User.objects.filter(pk__in=ids).only("pk", "email", "name", "is_active", "is_staff")
        }
        recipients = [users[i] for i in ids if i in users and kind_obj.may_receive(is_staff=users[i].is_staff)]
        if not recipients:
            return 0
        routes = selectors.email_routes(kind=kind_obj, user_ids=[user.pk for user in recipients])

        def route_for(user) -> str:
            return routes[user.pk] if (user.is_active and user.email) else EmailChoice.NONE

        rows = [
            Notification(
                recipient_id=user.pk,
                kind=kind_obj.key,
                event_key=event_key,
                title=title,
                body=body,
                url=url,
                actor_id=actor_id,
                created_at=now,
                email=route_for(user),
            )
            for user in recipients
        ]
        new = _insert_skipping_duplicates(rows)  # recipient id -> new notification id
        immediate = [user for user in recipients if user.pk in new and route_for(user) == EmailChoice.IMMEDIATE]
        if immediate:
            rendered = emails.render_notifications(
                recipients=[(user.pk, user.display_name) for user in immediate],
                kind=kind_obj,
                title=title,
                body=body,
                url=url,
                email_subject=email_subject,
                email_text=email_text,
                email_html=email_html,
            )
            outbox = [
                outbox_row_new(
                    user_id=user.pk,
                    event_key=event_key,
                    kind=kind_obj.key,
                    rendered=rendered[user.pk],
                    notification_id=new[user.pk],
                    now=now,
                )
                for user in immediate
            ]
            # An outbox row can outlive its notification (deleted by staff); a retry must not e-mail twice.
            EmailOutbox.objects.bulk_create(outbox, ignore_conflicts=True)
            queued = EmailOutbox.objects.filter(
                event_key=event_key, recipient_id__in=[user.pk for user in immediate], status=OutboxStatus.PENDING
            ).values_list("pk", flat=True)
            deliver_after_commit(list(queued))
    return len(new)


def _insert_skipping_duplicates(rows: list[Notification]) -> dict[int, int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: one statement that skips the recipients who already have
    this event (a retry, or a concurrent duplicate call) and says exactly which rows are new. Django's
    bulk_create(ignore_conflicts=True) cannot say which rows it inserted. PostgreSQL and SQLite ≥ 3.35."""
    meta = Notification._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row_placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = quote(meta.db_table)
    on_conflict = (
        f"ON CONFLICT ({quote('event_key')}, {quote('recipient_id')}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('recipient_id')}"
    )
    new: dict[int, int] = {}
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in chunk for field in fields]
        values = ", ".join([row_placeholder] * len(chunk))
        # Only names quoted from the model's own metadata are formatted in; every value is a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES {values} {on_conflict}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            new.update({recipient_id: pk for pk, recipient_id in cursor.fetchall()})
    return new
