"""Signed one-click unsubscribe links. No expiry: a link in a years-old e-mail must still work. The signature
is salted for this purpose only, and rotating SECRET_KEY keeps old links valid through SECRET_KEY_FALLBACKS."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "notifications.unsubscribe.v1"


class BadUnsubscribeLink(ValueError):
    """The link was changed, cut short, or signed with a key this site does not have."""


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    kind: str


def _signer() -> signing.Signer:
    # A plain Signer (no timestamp) gives the same token for the same user and kind every time.
    return signing.Signer(salt=SALT)


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return _signer().sign_object({"u": int(user_id), "k": kind})


def unsubscribe_token_read(token: str) -> UnsubscribeRequest:
    try:
        data = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadUnsubscribeLink("This unsubscribe link is not valid: it may have been cut short or changed.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("k"), str):
        raise BadUnsubscribeLink("This unsubscribe link is not valid.")
    return UnsubscribeRequest(user_id=data["u"], kind=data["k"])


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    return unsubscribe_urls(user_ids=[user_id], kind=kind)[user_id]


def unsubscribe_urls(*, user_ids: list[int], kind: str) -> dict[int, str]:
    """The links for many users at once: one reverse() (the slow part), then one signature each."""
    template = settings.SITE_URL.rstrip("/") + reverse("notifications:unsubscribe", kwargs={"token": "TOKEN"})
    return {user_id: template.replace("TOKEN", unsubscribe_token(user_id=user_id, kind=kind)) for user_id in user_ids}
