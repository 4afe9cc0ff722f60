"""One JSON shape for every error the API returns:

    {"error": {"status": 403, "code": "access_denied", "message": "Start your free trial to submit graded work.",
               "reason": "needs_subscription", "fields": null}}

`message` is a sentence for a person; `code` is for programs; `reason` is the access decision's reason
when the access module refused (the same reason the pages show); `fields` maps a field to its problems
for validation errors. 500s keep the shape and say nothing about the inside.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from access import api as access

from . import services

log = logging.getLogger("restapi")


class AccessRefused(exceptions.APIException):
    """The access module said no: 403 (401 when the answer is 'sign in') with its reason and sentence."""

    def __init__(self, decision):
        self.decision = decision
        signed_out = decision.reason == access.Reason.SIGN_IN
        self.status_code = status.HTTP_401_UNAUTHORIZED if signed_out else status.HTTP_403_FORBIDDEN
        super().__init__(detail=decision.message, code="not_authenticated" if signed_out else "access_denied")
        if signed_out:
            self.auth_header = 'Bearer realm="api"'


def require(decision) -> None:
    """Raise AccessRefused unless the access module's decision allows."""
    if not decision:
        raise AccessRefused(decision)


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def error_body(*, status_code: int, code: str, message: str, reason: str | None = None, fields=None) -> dict:
    return {"error": {"status": status_code, "code": code, "message": message, "reason": reason, "fields": fields}}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception a view raises becomes one JSON error, 500s included."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, access.AccessDenied):
        exc = AccessRefused(exc.decision)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException("The request is too large.", code="request_too_large")
        exc.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be read.")
    elif isinstance(exc, services.IdempotencyError):
        api_exc = exceptions.APIException(str(exc), code=exc.code)
        api_exc.status_code = exc.status_code
        exc = api_exc

    if not isinstance(exc, exceptions.APIException):
        request = context.get("request")
        log.exception("Unhandled error in the API: %s %s", getattr(request, "method", ""), getattr(request, "path", ""))
        set_rollback()
        body = error_body(
            status_code=500,
            code="server_error",
            message="Something went wrong on our side. It was logged; try again in a moment.",
        )
        return Response(body, status=500)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"

    reason = None
    fields = None
    if isinstance(exc, AccessRefused):
        reason = str(exc.decision.reason)
        message = exc.decision.message
        code = _code(exc)
    elif isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {key: value for key, value in detail.items() if key != "non_field_errors"}
            non_field = detail.get("non_field_errors")
            message = _first_message(non_field) if non_field else "Some fields are not valid: " + ", ".join(fields)
            fields = fields or None
            if len(detail) == 1 and fields:
                key = next(iter(fields))
                message = f"{key}: {_first_message(fields[key])}"
        else:
            message = _first_message(detail) or "The request is not valid."
    else:
        code = _code(exc)
        message = _first_message(exc.detail)
        if code == "insufficient_scope":
            reason = "insufficient_scope"
    if isinstance(exc, exceptions.Throttled):
        message = f"Too many requests. Try again in {int(exc.wait or 1)} seconds."
    set_rollback()
    body = error_body(status_code=exc.status_code, code=code, message=message, reason=reason, fields=fields)
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # a POST to no endpoint is a 404, not the CSRF middleware's HTML 403
def not_found(request, *args, **kwargs):
    """Any path under /api/ that names no endpoint: the JSON 404, not the site's HTML page."""
    body = error_body(status_code=404, code="not_found", message=f"No API endpoint at {request.path}.")
    return JsonResponse(body, status=404)
