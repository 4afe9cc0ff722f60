"""The OpenAPI description: security schemes of our credentials, and the error answers every operation
may give (one `Error` shape), added here once instead of on every view.

The schema is committed (docs/api/openapi.yaml); tests/restapi/test_schema.py fails when it drifts.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema

from .permissions import needed_scope

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API returns has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "code": {
                    "type": "string",
                    "description": (
                        "For programs: validation_error, parse_error, not_authenticated, authentication_failed, "
                        "access_denied, permission_denied, insufficient_scope, not_found, method_not_allowed, "
                        "not_acceptable, unsupported_media_type, idempotency_key_invalid, idempotency_key_in_use, "
                        "idempotency_key_reused, submission_rejected, throttled, server_error, …"
                    ),
                },
                "message": {"type": "string", "description": "One sentence for a person."},
                "reason": {
                    "type": "string",
                    "nullable": True,
                    "description": (
                        "When the access module refused: its reason (sign_in, not_released, needs_subscription, "
                        "access_ended, completed_read_only, not_yours, staff_only, role_required, not_completed), "
                        "the same the pages show. insufficient_scope for a token without the needed scope."
                    ),
                },
                "fields": {
                    "type": "object",
                    "nullable": True,
                    "additionalProperties": {},
                    "description": "Validation errors: each field and its problems.",
                },
            },
            "required": ["status", "code", "message", "reason", "fields"],
        }
    },
    "required": ["error"],
}

RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": ("integer", "Requests allowed in the window of the tightest limit that applies."),
    "RateLimit-Remaining": ("integer", "Requests left in that window."),
    "RateLimit-Reset": ("integer", "Seconds until that window ends."),
    "X-RateLimit-Limit": ("integer", "Same as RateLimit-Limit."),
    "X-RateLimit-Remaining": ("integer", "Same as RateLimit-Remaining."),
    "X-RateLimit-Reset": ("integer", "When that window ends, in seconds since the epoch."),
}

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid (see `fields`).",
    "401": "No valid credentials: log in, or send a token (`Authorization: Bearer …`).",
    "403": "Refused: by the access module (`reason`, `message` as on the pages) or by the token's scope.",
    "404": "Not found (or not yours to see).",
    "409": "A request with this Idempotency-Key is still running.",
    "413": "The request body is too large.",
    "415": "Send JSON (or multipart where a file is uploaded).",
    "422": "The Idempotency-Key was used with another request, or the request was refused by a rule.",
    "429": "Rate limited: wait `Retry-After` seconds.",
    "500": "Something broke on our side (logged).",
}

# Components whose fields an answer may leave out (`requested_fields`).
SELECTABLE_COMPONENTS = ("CourseTree", "WeekNode", "ItemNode", "CourseProgressSummary", "SpecializationRef", "Access")


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "restapi.authentication.PersonalAccessTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A personal access token (`dlpat_…`) made on your profile's token page: read or write scope, "
                "an expiry, revocable. Send `Authorization: Bearer dlpat_…`."
            ),
        }


class OAuthScheme(OpenApiAuthenticationExtension):
    target_class = "restapi.authentication.OAuthTokenAuthentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema):
        return {self.name: [needed_scope(_Method(auto_schema.method))]}

    def get_security_definition(self, auto_schema):
        scopes = settings.OAUTH2_PROVIDER["SCOPES"]
        return {
            "type": "oauth2",
            "description": (
                "For integrations: authorization code with PKCE (S256) to act for a learner, client credentials "
                "to read what the public may (catalog, certificate verification). Applications are registered "
                "by staff in the admin."
            ),
            "flows": {
                "authorizationCode": {"authorizationUrl": "/o/authorize/", "tokenUrl": "/o/token/", "scopes": scopes},
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
            },
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "restapi.authentication.BrowserSessionAuthentication"
    name = "session"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The site's log-in. Writes need the CSRF token in `X-CSRFToken`.",
        }


class _Method:
    def __init__(self, method: str):
        self.method = method.upper()


class AutoSchema(BaseAutoSchema):
    """Views open to visitors say so (`public = True`): their security lists "no credentials" too."""

    def get_description(self):
        # Only what extend_schema says: a view's docstring is written for the code's readers.
        return ""

    def get_auth(self):
        auths = super().get_auth()
        if getattr(self.view, "public", False):
            auths.append({})
        return auths


def _error_response(code: str) -> dict:
    response = {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": ERROR_REF}}}
    if code == "429":
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "Seconds to wait."}
        }
    if code == "401":
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    return response


def postprocess(result, generator, request, public):
    """drf-spectacular hook: the Error component, the error answers of each operation, rate-limit headers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in SELECTABLE_COMPONENTS:
        schemas.get(name, {}).pop("required", None)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            params = operation.get("parameters", [])
            codes = ["401", "403", "404", "429", "500"]
            if method != "get" or any(p["in"] == "query" for p in params):
                codes.append("400")
            if "requestBody" in operation:
                codes += ["413", "415"]
            if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in params):
                codes += ["409", "422"]
            for code in codes:
                responses.setdefault(code, _error_response(code))
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {}).update(
                        {
                            name: {"schema": {"type": kind}, "description": text}
                            for name, (kind, text) in RATE_LIMIT_HEADERS.items()
                        }
                    )
            operation["responses"] = dict(sorted(responses.items()))
    return result
