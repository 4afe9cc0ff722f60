"""What a credential may do at all (its scope), before the access module says what its user may do."""

from __future__ import annotations

from oauth2_provider.models import AbstractAccessToken
from rest_framework import permissions

from .models import PersonalAccessToken


def needed_scope(request) -> str:
    return "read" if request.method in permissions.SAFE_METHODS else "write"


def token_allows(auth, scope: str) -> bool:
    """A read token reads; a write token reads and writes; the session (no token) may do both."""
    if isinstance(auth, PersonalAccessToken):
        return scope == "read" or auth.can_write
    if isinstance(auth, AbstractAccessToken):
        return auth.allow_scopes([scope])
    return True


class TokenScope(permissions.BasePermission):
    """Refuse a write with a read-only token (personal or OAuth2)."""

    code = "insufficient_scope"

    def has_permission(self, request, view) -> bool:
        scope = needed_scope(request)
        if token_allows(request.auth, scope):
            return True
        self.message = f"This token's scope does not include '{scope}'. Use a token with the {scope} scope."
        return False


class SignedIn(permissions.BasePermission):
    """Endpoints about the caller's own learning need a learner: a client-credentials token has none."""

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        if request.auth is not None:
            self.message = (
                "This endpoint acts for a learner: use a personal access token or an OAuth2 token from the "
                "authorization-code flow, not client credentials."
            )
        return False
