"""E-mail preferences per kind, and the one-click unsubscribe that turns one off."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from .. import registry, selectors
from ..models import EmailChoice, Preference
from ..tokens import BadUnsubscribeLink, unsubscribe_token_read

logger = logging.getLogger(__name__)


class PreferenceRefused(ValueError):
    """A preference the user may not set; the message is written for them."""


def check_preference(*, kind: registry.Kind, email: str, is_staff: bool) -> None:
    if email not in EmailChoice.values:
        raise PreferenceRefused(f"Choose one of: {', '.join(label for _, label in EmailChoice.choices)}.")
    if not kind.may_receive(is_staff=is_staff):
        raise PreferenceRefused(f"“{kind.label}” notifications are for staff only.")
    if kind.required and email != EmailChoice.IMMEDIATE:
        raise PreferenceRefused(f"“{kind.label}” e-mails are about your account and are always sent.")


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
    if kind.required:
        raise BadUnsubscribeLink(f"“{kind.label}” e-mails are about your account and are always sent.")
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
