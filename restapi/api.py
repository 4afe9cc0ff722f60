"""The REST API app's public door. It sits on top of every other app and serves them over HTTP
(/api/v1/, docs at /api/v1/docs/), so nothing imports it but the URL configuration; what it offers
here is a fact about a user's personal access tokens, for pages that mention them."""

from __future__ import annotations

from django.utils import timezone

from .models import PersonalAccessToken


def active_token_count(*, user_id: int) -> int:
    """How many of the user's personal access tokens work right now."""
    return PersonalAccessToken.objects.filter(
        user_id=user_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


__all__ = ["active_token_count"]
