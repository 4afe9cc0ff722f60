"""Who is calling: a personal access token, an OAuth2 access token, or the browser's session.

All three end in the same `request.user`, and every rule after that is the access module's. A Bearer
header that names no valid credential is a 401, never a silent fall back to anonymous.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import authentication, exceptions

from . import selectors, services

REALM = "api"


def _bearer(request) -> str | None:
    parts = authentication.get_authorization_header(request).split()
    if not parts or parts[0].lower() != b"bearer":
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("Malformed Authorization header: send 'Authorization: Bearer <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("The token contains characters a token never has.") from None


class PersonalAccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer dlpat_…`: a token made on the profile's token page."""

    def authenticate(self, request):
        secret = _bearer(request)
        if secret is None or not secret.startswith(services.TOKEN_PREFIX):
            return None
        token = selectors.token_for_secret(secret)
        now = timezone.now()
        if token is None:
            raise exceptions.AuthenticationFailed("This token is not valid.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This token was revoked. Make a new one on your profile's token page."
            )
        if not token.is_active(now):
            raise exceptions.AuthenticationFailed(
                f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Make a new one on your profile's token page."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        services.token_touch(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request):
        return f'Bearer realm="{REALM}"'


class OAuthTokenAuthentication(OAuth2Authentication):
    """`Authorization: Bearer <OAuth2 access token>` from django-oauth-toolkit.

    A client-credentials token acts for no learner: it is the anonymous user (what the public may see:
    catalog, certificate verification) with the token kept for scopes and throttling."""

    www_authenticate_realm = REALM

    def authenticate(self, request):
        secret = _bearer(request)
        if secret is None or secret.startswith(services.TOKEN_PREFIX):
            return None
        result = super().authenticate(request)
        if result is None:
            raise exceptions.AuthenticationFailed("This access token is not valid or has expired.")
        user, token = result
        if user is not None and not user.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        return (user or AnonymousUser()), token


class BrowserSessionAuthentication(authentication.SessionAuthentication):
    """The site's own log-in, for pages that call the API (and the docs page's "Try it out"): CSRF
    protected like every form of the site."""
