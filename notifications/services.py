"""Writes: notifications and their e-mails (outbox), delivery, daily digests, preferences, read marks.

The delivery design (claiming with SKIP LOCKED, leases, retries, the one at-least-once gap) is explained
in docs/decisions/0001-outbox.md."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import emails, registry, selectors
from .models import Digest, EmailChoice, EmailOutbox, Notification, OutboxStatus, Preference
from .tokens import BadUnsubscribeLink, unsubscribe_token_read

logger = logging.getLogger(__name__)

DIGEST_MAX_LINES = 50
INSERT_CHUNK = 500


class InvalidNotification(ValueError):
    """A caller passed something notify() cannot store (a programming error in the calling app)."""


class PreferenceRefused(ValueError):
    """A preference the user may not set; the message is written for them."""


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_attempts() -> int:
    return _setting("NOTIFICATIONS_MAX_ATTEMPTS", 5)


def lease_seconds() -> int:
    return _setting("NOTIFICATIONS_LEASE_SECONDS", 300)


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most an hour."""
    base = _setting("NOTIFICATIONS_RETRY_BASE_SECONDS", 60)
    return datetime.timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 3600))


# ---- checks ----------------------------------------------------------------------------------------


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


# ---- notify ----------------------------------------------------------------------------------------


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
            outbox = []
            for user in immediate:
                rendered = emails.render_notification(
                    user_id=user.pk,
                    user_name=user.display_name,
                    kind=kind_obj,
                    title=title,
                    body=body,
                    url=url,
                    email_subject=email_subject,
                    email_text=email_text,
                    email_html=email_html,
                )
                outbox.append(
                    _outbox_row(
                        user_id=user.pk,
                        event_key=event_key,
                        kind=kind_obj.key,
                        rendered=rendered,
                        notification_id=new[user.pk],
                        now=now,
                    )
                )
            # An outbox row can outlive its notification (deleted by staff); a retry must not e-mail twice.
            EmailOutbox.objects.bulk_create(outbox, ignore_conflicts=True)
            queued = EmailOutbox.objects.filter(
                event_key=event_key, recipient_id__in=[user.pk for user in immediate], status=OutboxStatus.PENDING
            ).values_list("pk", flat=True)
            _deliver_after_commit(list(queued))
    return len(new)


def _outbox_row(
    *, user_id: int, event_key: str, kind: str, rendered: emails.RenderedEmail, notification_id: int | None, now
) -> EmailOutbox:
    return EmailOutbox(
        recipient_id=user_id,
        event_key=event_key,
        kind=kind,
        notification_id=notification_id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        message_id=emails.message_id_new(),
        created_at=now,
        next_attempt_at=now,
    )


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


def _deliver_after_commit(outbox_ids: list[int]) -> None:
    """Queue delivery once the rows are committed. robust=True: a broker outage must not fail the caller's
    request after its data is saved; the minute sweep (deliver_pending) sends what was not queued."""
    if outbox_ids:
        transaction.on_commit(partial(_queue_delivery, outbox_ids), robust=True)


def _queue_delivery(outbox_ids: list[int]) -> None:
    from .tasks import deliver_email

    for outbox_id in outbox_ids:
        deliver_email.delay(outbox_id)


# ---- delivery --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    outbox_id: int
    lease_expires_at: datetime.datetime


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    released: int = 0  # handed back unsent: too little of the lease was left to start it
    lost: int = 0  # our lease ran out and another worker took the row over before we recorded the result

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (self.sent, self.retrying, self.failed, self.cancelled, self.released, self.lost)


def _due(now: datetime.datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_expires_at__lte=now
    )


def outbox_claim(*, now: datetime.datetime, limit: int, outbox_id: int | None = None) -> list[Claim]:
    """Take up to `limit` due rows for this worker and commit them as `sending` with a lease, before anything
    is sent. SKIP LOCKED: a concurrent claimer passes over rows another is claiming instead of waiting for
    them, so two workers never take the same row. A row whose lease ran out (its worker died mid-send) is
    due again; one that has already used every attempt that way is marked failed instead."""
    lease = now + datetime.timedelta(seconds=lease_seconds())
    with transaction.atomic():
        rows = EmailOutbox.objects.select_for_update(skip_locked=True).filter(_due(now))
        if outbox_id is not None:
            rows = rows.filter(pk=outbox_id)
        picked = list(rows.order_by("next_attempt_at", "id").values_list("pk", "status", "attempts")[:limit])
        abandoned = [
            pk for pk, status, attempts in picked if status == OutboxStatus.SENDING and attempts >= max_attempts()
        ]
        if abandoned:
            EmailOutbox.objects.filter(pk__in=abandoned).update(
                status=OutboxStatus.FAILED,
                lease_expires_at=None,
                last_error=f"Abandoned: the worker sending it stopped {max_attempts()} times without finishing.",
            )
        claimed = [pk for pk, _status, _attempts in picked if pk not in abandoned]
        EmailOutbox.objects.filter(pk__in=claimed).update(
            status=OutboxStatus.SENDING, lease_expires_at=lease, attempts=F("attempts") + 1
        )
    return [Claim(outbox_id=pk, lease_expires_at=lease) for pk in claimed]


def outbox_send(*, claims: list[Claim], now: datetime.datetime | None = None) -> DeliveryReport:
    """Send claimed rows over one mail connection and record each result. Each result is written only if this
    worker still holds the row's lease (the lease time is the fencing token)."""
    if not claims:
        return DeliveryReport()
    leases = {claim.outbox_id: claim.lease_expires_at for claim in claims}
    rows = list(
        EmailOutbox.objects.filter(pk__in=leases, status=OutboxStatus.SENDING)
        .select_related("recipient")
        .order_by("id")
    )
    rows = [row for row in rows if row.lease_expires_at == leases[row.pk]]  # still ours
    unsubscribed = set(
        Preference.objects.filter(
            email=EmailChoice.NONE, user_id__in=[row.recipient_id for row in rows], kind__in={row.kind for row in rows}
        ).values_list("user_id", "kind")
    )
    report = DeliveryReport()
    mail = get_connection()
    try:
        mail.open()
    except Exception as exc:  # noqa: BLE001 - mail server down: every claimed row waits for its next attempt
        for row in rows:
            report += _record_failure(row=row, lease=leases[row.pk], error=exc, now=now)
        return report
    try:
        for row in rows:
            if (now or timezone.now()) + _send_budget() > leases[row.pk]:
                # Not enough lease left to finish this send: hand the row back rather than risk a second
                # worker sending it while we still are.
                report += _record_release(row=row, lease=leases[row.pk])
                continue
            user = row.recipient
            if not user.is_active or not user.email:
                report += _record_cancel(row=row, lease=leases[row.pk], reason="The recipient has no active address.")
                continue
            if (user.pk, row.kind) in unsubscribed:
                report += _record_cancel(
                    row=row, lease=leases[row.pk], reason="The recipient turned these e-mails off before it was sent."
                )
                continue
            message = emails.build_message(
                subject=row.subject,
                text=row.body_text,
                html=row.body_html,
                to_email=user.email,
                message_id=row.message_id,
                user_id=user.pk,
                kind=row.kind,
                connection=mail,
            )
            try:
                message.send()
            except Exception as exc:  # noqa: BLE001 - SMTP refusals, timeouts, dropped connections: retried
                report += _record_failure(row=row, lease=leases[row.pk], error=exc, now=now)
            else:
                report += _record_sent(row=row, lease=leases[row.pk], to_email=user.email, now=now)
    finally:
        try:
            mail.close()
        except Exception:
            logger.warning("Closing the mail connection failed", exc_info=True)
    return report


def _held(row: EmailOutbox, lease: datetime.datetime):
    return EmailOutbox.objects.filter(pk=row.pk, status=OutboxStatus.SENDING, lease_expires_at=lease)


def _lost(row: EmailOutbox) -> DeliveryReport:
    logger.warning("Outbox row %s: lease lost before its result was recorded (sent twice is possible)", row.pk)
    return DeliveryReport(lost=1)


def _send_budget() -> datetime.timedelta:
    """The longest one send may take: the SMTP timeout plus a margin."""
    return datetime.timedelta(seconds=(getattr(settings, "EMAIL_TIMEOUT", None) or 60) + 5)


def _record_release(*, row: EmailOutbox, lease) -> DeliveryReport:
    _held(row, lease).update(
        status=OutboxStatus.PENDING, lease_expires_at=None, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
    )
    return DeliveryReport(released=1)


def _record_sent(*, row: EmailOutbox, lease, to_email: str, now) -> DeliveryReport:
    updated = _held(row, lease).update(
        status=OutboxStatus.SENT, sent_at=now or timezone.now(), to_email=to_email, lease_expires_at=None, last_error=""
    )
    return DeliveryReport(sent=1) if updated else _lost(row)


def _record_cancel(*, row: EmailOutbox, lease, reason: str) -> DeliveryReport:
    updated = _held(row, lease).update(status=OutboxStatus.CANCELLED, lease_expires_at=None, last_error=reason)
    return DeliveryReport(cancelled=1) if updated else _lost(row)


def _record_failure(*, row: EmailOutbox, lease, error: Exception, now) -> DeliveryReport:
    now = now or timezone.now()
    message = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= max_attempts():
        updated = _held(row, lease).update(status=OutboxStatus.FAILED, lease_expires_at=None, last_error=message)
        logger.error("Outbox row %s failed for good after %s attempts: %s", row.pk, row.attempts, message)
        return DeliveryReport(failed=1) if updated else _lost(row)
    updated = _held(row, lease).update(
        status=OutboxStatus.PENDING,
        lease_expires_at=None,
        next_attempt_at=now + retry_delay(row.attempts),
        last_error=message,
    )
    logger.warning("Outbox row %s attempt %s failed, will retry: %s", row.pk, row.attempts, message)
    return DeliveryReport(retrying=1) if updated else _lost(row)


def outbox_deliver_one(*, outbox_id: int, now: datetime.datetime | None = None) -> DeliveryReport:
    """Send one row now if it is due and nobody else holds it (the task queued right after the commit)."""
    now = now or timezone.now()
    return outbox_send(claims=outbox_claim(now=now, limit=1, outbox_id=outbox_id), now=now)


def outbox_deliver_due(
    *, now: datetime.datetime | None = None, batch: int = 20, max_batches: int = 50
) -> DeliveryReport:
    """The sweep: send every due row (never queued, retries, abandoned leases), a batch at a time so a lease
    never has to cover more than a batch of sends. Bounded, so one run cannot outlive the next beat forever."""
    report = DeliveryReport()
    for _ in range(max_batches):
        claims = outbox_claim(now=now or timezone.now(), limit=batch)
        if not claims:
            break
        report += outbox_send(claims=claims, now=now)
    return report


def outbox_retry(*, outbox_ids: Iterable[int], now: datetime.datetime | None = None) -> int:
    """Give failed rows a fresh set of attempts (the admin's "retry failed" action)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = EmailOutbox.objects.filter(pk__in=list(outbox_ids), status=OutboxStatus.FAILED)
        ids = list(rows.values_list("pk", flat=True))
        EmailOutbox.objects.filter(pk__in=ids).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, lease_expires_at=None
        )
        _deliver_after_commit(ids)
    return len(ids)


# ---- daily digest ----------------------------------------------------------------------------------


def digests_send(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """One digest e-mail per user per day listing their digest notifications since the last one. Safe to run
    again or concurrently: the Digest row (unique per user and day) is taken before anything is written."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    waiting = (
        Notification.objects.filter(email=EmailChoice.DIGEST, digest__isnull=True, created_at__lte=now)
        .exclude(recipient_id__in=Digest.objects.filter(date=today).values("user_id"))
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    return sum(1 for user_id in list(waiting) if digest_send_one(user_id=user_id, today=today, now=now))


def digest_send_one(*, user_id: int, today: datetime.date, now: datetime.datetime) -> bool:
    """Returns True when an e-mail was queued. False: already done today, or nothing left to send."""
    User = get_user_model()
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = Digest.objects.create(user_id=user_id, date=today, created_at=now)
        except IntegrityError:
            return False  # another run has this user's digest for today
        user = User.objects.get(pk=user_id)
        waiting = list(
            Notification.objects.select_for_update()
            .filter(recipient_id=user_id, email=EmailChoice.DIGEST, digest__isnull=True, created_at__lte=now)
            .order_by("created_at", "id")
        )
        # A kind turned off since is left out; one switched to immediate still appears (nothing was sent).
        off = set(Preference.objects.filter(user_id=user_id, email=EmailChoice.NONE).values_list("kind", flat=True))
        listed = [row for row in waiting if row.kind not in off]
        Notification.objects.filter(pk__in=[row.pk for row in waiting]).update(digest=digest)
        digest.item_count = len(listed)
        if not listed or not user.is_active or not user.email:
            digest.save(update_fields=["item_count"])
            return False
        lines = [
            emails.DigestLine(
                title=row.title,
                body=row.body,
                kind_label=selectors.notification_view(row).kind_label,
                created_at=row.created_at,
                link=emails.absolute(row.url),
            )
            for row in listed[-DIGEST_MAX_LINES:]
        ]
        rendered = emails.render_digest(user_id=user_id, user_name=user.display_name, date=today, lines=lines)
        outbox = _outbox_row(
            user_id=user_id,
            event_key=f"digest:{today.isoformat()}",
            kind=registry.DIGEST_KIND,
            rendered=rendered,
            notification_id=None,
            now=now,
        )
        outbox.save()
        digest.outbox = outbox
        digest.save(update_fields=["item_count", "outbox"])
        _deliver_after_commit([outbox.pk])
    return True


# ---- preferences and unsubscribe -------------------------------------------------------------------


def check_preference(*, kind: registry.Kind, email: str, is_staff: bool) -> None:
    if email not in EmailChoice.values:
        raise PreferenceRefused(f"Choose one of: {', '.join(label for _, label in EmailChoice.choices)}.")
    if not kind.may_receive(is_staff=is_staff):
        raise PreferenceRefused(f"“{kind.label}” notifications are for staff only.")


def preference_set(*, user_id: int, kind: str, email: str) -> Preference:
    kind_obj = registry.get_kind(kind)
    user = get_user_model().objects.only("pk", "is_staff").get(pk=user_id)
    check_preference(kind=kind_obj, email=email, is_staff=user.is_staff)
    preference, _ = Preference.objects.update_or_create(user_id=user_id, kind=kind, defaults={"email": email})
    return preference


def preferences_save(*, user_id: int, is_staff: bool, choices: dict[str, str]) -> int:
    """Save the preferences page: every kind at once, or nothing. Only choices that differ from what is in
    effect are stored, so a kind whose default later changes still moves the users who never chose.
    Returns how many changed."""
    current = {row.kind.key: row.email for row in selectors.preferences_for(user_id=user_id, is_staff=is_staff)}
    changed = 0
    with transaction.atomic():
        for kind, email in choices.items():
            if current.get(kind) != email:
                preference_set(user_id=user_id, kind=kind, email=email)
                changed += 1
    return changed


@dataclass(frozen=True)
class UnsubscribeResult:
    what: str  # "these e-mails" phrase for the page: a kind's label, or "the daily digest"
    changed: int


def unsubscribe_target(*, token: str):
    """Read an unsubscribe link: (user, what it turns off). Raises BadUnsubscribeLink."""
    request = unsubscribe_token_read(token)
    user = get_user_model().objects.filter(pk=request.user_id).first()
    if user is None:
        raise BadUnsubscribeLink("This unsubscribe link belongs to an account that no longer exists.")
    if request.kind == registry.DIGEST_KIND:
        return user, "the daily digest"
    kind = registry.kind_or_none(request.kind)
    if kind is None:
        raise BadUnsubscribeLink("These e-mails are no longer sent, so there is nothing to unsubscribe from.")
    return user, f"“{kind.label}” e-mails"


def unsubscribe(*, token: str) -> UnsubscribeResult:
    """Turn e-mail off for the link's kind (or every kind now in the digest, for a digest link). Only ever
    turns e-mail off, which is why it needs no log-in and no CSRF token."""
    request = unsubscribe_token_read(token)
    user, what = unsubscribe_target(token=token)
    if request.kind == registry.DIGEST_KIND:
        kinds = selectors.digest_kinds_for(user_id=user.pk, is_staff=user.is_staff)
    else:
        kinds = [request.kind]
    with transaction.atomic():
        before = dict(Preference.objects.filter(user_id=user.pk, kind__in=kinds).values_list("kind", "email"))
        changed = 0
        for kind in kinds:
            if before.get(kind, registry.get_kind(kind).default_email) != EmailChoice.NONE:
                changed += 1
            Preference.objects.update_or_create(user_id=user.pk, kind=kind, defaults={"email": EmailChoice.NONE})
    return UnsubscribeResult(what=what, changed=changed)


# ---- reading ---------------------------------------------------------------------------------------


def notifications_mark_read(
    *, user_id: int, notification_ids: Iterable[int] | None = None, now: datetime.datetime | None = None
) -> int:
    """Mark some (or, with None, all) of a user's unread notifications read. Returns how many changed."""
    rows = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    return rows.update(read_at=now or timezone.now())


def notification_open(*, user_id: int, notification_id: int, now: datetime.datetime | None = None) -> Notification:
    """The recipient opens a notification: it is read from now on. Raises Notification.DoesNotExist for
    anyone else's (so a guessed id tells nothing)."""
    notification = Notification.objects.get(pk=notification_id, recipient_id=user_id)
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification
