"""Writes of the API app: personal access tokens (made, used, revoked) and idempotency records."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyRecord, PersonalAccessToken, TokenScope

# Every personal token starts with this, so a leaked one is recognisable (secret scanners) and the API
# can tell it from an OAuth2 access token before any lookup.
TOKEN_PREFIX = "dlpat_"  # noqa: S105 (a prefix, not a secret)
TOKEN_EXPIRY_CHOICES = (7, 30, 90, 365)  # days; a token always expires (ADR 0001)
MAX_ACTIVE_TOKENS = 20


class TokenRefused(Exception):
    """A token could not be made or revoked; the message is written for its owner."""


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", errors="replace")).hexdigest()


def check_token_request(*, user, name: str, scope: str, expires_in_days: int, now: datetime.datetime) -> str:
    """Validate a request for a new token; returns the cleaned name or raises TokenRefused."""
    name = (name or "").strip()
    if not name:
        raise TokenRefused("Give the token a name, so you can tell it apart later.")
    if len(name) > 100:
        raise TokenRefused("The name may be at most 100 characters.")
    if scope not in TokenScope.values:
        raise TokenRefused("Choose a scope: read, or read and write.")
    if expires_in_days not in TOKEN_EXPIRY_CHOICES:
        raise TokenRefused(f"Choose an expiry of {', '.join(map(str, TOKEN_EXPIRY_CHOICES))} days.")
    active = (
        PersonalAccessToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now).count()
        if user.pk
        else 0
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise TokenRefused(f"You have {active} active tokens, the most allowed. Revoke one you no longer use.")
    return name


def token_create(
    *, user, name: str, scope: str, expires_in_days: int, now: datetime.datetime | None = None
) -> tuple[PersonalAccessToken, str]:
    """Make a personal access token. Returns the row and the secret, which is shown once and never stored."""
    now = now or timezone.now()
    name = check_token_request(user=user, name=name, scope=scope, expires_in_days=expires_in_days, now=now)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
        scope=scope,
        created_at=now,
        expires_at=now + datetime.timedelta(days=expires_in_days),
    )
    return token, secret


def token_revoke(*, user, token_id: int, now: datetime.datetime | None = None) -> PersonalAccessToken:
    """Revoke one of the user's own tokens (at once, for every request after this one). Revoking twice
    keeps the first date."""
    now = now or timezone.now()
    token = PersonalAccessToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise TokenRefused("No such token.")
    if token.revoked_at is None:
        PersonalAccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.revoked_at = now
    return token


# How often a token's "last used" date is written: not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def token_touch(*, token: PersonalAccessToken, now: datetime.datetime) -> None:
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# ---- idempotency ----------------------------------------------------------------------------------


class IdempotencyError(Exception):
    status_code = 400
    code = "idempotency_key_invalid"


class IdempotencyKeyInvalid(IdempotencyError):
    pass


class IdempotencyKeyInUse(IdempotencyError):
    """The first request with this key is still running."""

    status_code = 409
    code = "idempotency_key_in_use"


class IdempotencyKeyReused(IdempotencyError):
    """The key was used before with a different request."""

    status_code = 422
    code = "idempotency_key_reused"


@dataclasses.dataclass(frozen=True)
class Replay:
    status_code: int
    body: object
    location: str


def check_idempotency_key(key: str) -> str:
    if not (1 <= len(key) <= 255) or not all(33 <= ord(c) <= 126 for c in key):
        raise IdempotencyKeyInvalid(
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is a good choice)."
        )
    return key


def idempotency_begin(
    *, user, key: str, method: str, path: str, fingerprint: str, now: datetime.datetime | None = None
) -> IdempotencyRecord | Replay:
    """Claim `key` for this request, or say what happened to the first request with it.

    Returns a new (running) record to finish with `idempotency_finish`, or the first answer to replay.
    Raises IdempotencyKeyReused when the key came with a different request, IdempotencyKeyInUse when the
    first request is still running. A running record whose lock passed belongs to a request that died:
    this one takes it over."""
    check_idempotency_key(key)
    now = now or timezone.now()
    lock = datetime.timedelta(seconds=settings.API_IDEMPOTENCY_LOCK_SECONDS)
    expires = now + datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    with transaction.atomic():
        record = IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
        if record is not None and record.expires_at <= now:
            record.delete()
            record = None
        if record is not None:
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"This Idempotency-Key was already used with a different request ({record.method} "
                    f"{record.path}, other content). Use a new key for a new request."
                )
            if record.is_complete:
                return Replay(status_code=record.status_code, body=record.body, location=record.location)
            if record.locked_until > now:
                raise IdempotencyKeyInUse(
                    "A request with this Idempotency-Key is still being processed. Retry in a few seconds."
                )
            record.locked_until = now + lock
            record.save(update_fields=["locked_until"])
            return record
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    method=method,
                    path=path[:500],
                    created_at=now,
                    locked_until=now + lock,
                    expires_at=expires,
                )
        except IntegrityError:  # another request with this key got there first
            raise IdempotencyKeyInUse(
                "A request with this Idempotency-Key is still being processed. Retry in a few seconds."
            ) from None


def idempotency_finish(*, record: IdempotencyRecord, status_code: int, body, location: str = "") -> None:
    """Store the first answer. A server error is not stored: the retry runs the request again."""
    if status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    record.status_code = status_code
    record.body = body
    record.location = location[:500]
    record.save(update_fields=["status_code", "body", "location"])


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotency_purge_expired(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now).delete()
    return deleted
