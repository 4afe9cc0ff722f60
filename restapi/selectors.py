"""Reads of the API app: tokens by owner and by secret."""

from __future__ import annotations

from .models import PersonalAccessToken
from .services import TOKEN_PREFIX, token_digest


def tokens_of(*, user_id: int) -> list[PersonalAccessToken]:
    """A user's tokens, newest first: active, expired and revoked alike (the page shows each state)."""
    return list(PersonalAccessToken.objects.filter(user_id=user_id))


def token_for_secret(secret: str) -> PersonalAccessToken | None:
    """The token row for a presented secret (active or not), with its user; None when no token has it."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    return PersonalAccessToken.objects.select_related("user").filter(digest=token_digest(secret)).first()
