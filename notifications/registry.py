"""The notification kinds apps register at start (in their AppConfig.ready).

A kind is code, not data: its key is stored on rows, its label and default come from here. Keys are
namespaced by the app that owns them ("forum.reply", "peer_review.reminder") so two apps never collide;
"digest" (no dot) is the outbox's own kind for daily digests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from .models import EmailChoice

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
DIGEST_KIND = "digest"


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    description: str
    default_email: str
    staff_only: bool
    # Account e-mails (a payment failed, access ended): always e-mailed at once, never offered on the
    # preferences page and without an unsubscribe link, because a learner must hear what they pay for.
    required: bool = False

    def may_receive(self, *, is_staff: bool) -> bool:
        return is_staff or not self.staff_only


_kinds: dict[str, Kind] = {}


class UnknownKind(ValueError):
    """A notification kind nobody registered (a typo in the caller, or the app is not installed)."""


def register_kind(
    key: str,
    *,
    label: str,
    description: str = "",
    default_email: str = EmailChoice.IMMEDIATE,
    staff_only: bool = False,
    required: bool = False,
) -> Kind:
    """Register a kind. Registering the same definition again is harmless (tests, reloaded apps);
    a different definition under a taken key is a programming error and refuses to start."""
    if not KEY_PATTERN.match(key) or len(key) > 64:
        raise ImproperlyConfigured(
            f"Notification kind {key!r}: use 'app.name' (lower case, dots between parts, at most 64 characters)."
        )
    if default_email not in EmailChoice.values:
        raise ImproperlyConfigured(
            f"Notification kind {key!r}: default_email must be one of {', '.join(EmailChoice.values)}."
        )
    if required and default_email != EmailChoice.IMMEDIATE:
        raise ImproperlyConfigured(f"Notification kind {key!r}: a required kind is e-mailed right away.")
    if not label.strip():
        raise ImproperlyConfigured(f"Notification kind {key!r} needs a label (shown on the preferences page).")
    kind = Kind(
        key=key,
        label=label.strip(),
        description=description.strip(),
        default_email=str(default_email),
        staff_only=staff_only,
        required=required,
    )
    existing = _kinds.get(key)
    if existing is not None and existing != kind:
        raise ImproperlyConfigured(f"Notification kind {key!r} is already registered with a different definition.")
    _kinds[key] = kind
    return kind


def get_kind(key: str) -> Kind:
    try:
        return _kinds[key]
    except KeyError:
        raise UnknownKind(
            f"Unknown notification kind {key!r}: register it with notifications.api.register_kind."
        ) from None


def kind_or_none(key: str) -> Kind | None:
    return _kinds.get(key)


def all_kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda kind: (kind.staff_only, kind.label.lower()))


def kinds_for(*, is_staff: bool) -> list[Kind]:
    """The kinds a user can choose e-mail for (required kinds are not a choice)."""
    return [kind for kind in all_kinds() if kind.may_receive(is_staff=is_staff) and not kind.required]
