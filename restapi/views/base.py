"""The base of every API view: credentials, scope, rate limits with their headers, and Idempotency-Key."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import encoders
from rest_framework.views import APIView

from .. import services, throttling

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ApiView(APIView):
    """Rate-limit headers go on every answer, errors included."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in throttling.response_headers(request).items():
            response.setdefault(name, value)
        return response


def request_fingerprint(request: Request) -> str:
    """What makes two requests "the same": method, path and query, and the content as parsed (a multipart
    boundary differs between retries; the fields and the files' bytes do not)."""
    data = request.data
    if hasattr(data, "lists"):
        fields = {key: values for key, values in data.lists() if key not in request.FILES}
    else:
        fields = data
    files = {}
    for name in sorted(request.FILES):
        digests = []
        for upload in request.FILES.getlist(name):
            sha = hashlib.sha256()
            for chunk in upload.chunks():
                sha.update(chunk)
            upload.seek(0)
            digests.append(sha.hexdigest())
        files[name] = digests
    canonical = json.dumps(
        {"method": request.method, "path": request.get_full_path(), "fields": fields, "files": files},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotentCreate(ApiView):
    """POST with an `Idempotency-Key` header: the first answer (status and body) is stored and a retry
    with the same key gets it again, without the request running twice; the same key with another request
    is a 422; a retry while the first is still running is a 409. A replay counts against no rate limit.

    Subclasses implement `create(request) -> Response`."""

    _idempotency = None

    def check_throttles(self, request):
        self._idempotency = None
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method == "POST" and key is not None and request.user.is_authenticated:
            self._idempotency = services.idempotency_begin(
                user=request.user,
                key=key,
                method=request.method,
                path=request.get_full_path(),
                fingerprint=request_fingerprint(request),
            )
            if isinstance(self._idempotency, services.Replay):
                return  # the first request was counted; its replay is not
        try:
            super().check_throttles(request)
        except Exception:
            if isinstance(self._idempotency, services.Replay) or self._idempotency is None:
                raise
            services.idempotency_abandon(record=self._idempotency)  # refused before it ran: nothing to keep
            self._idempotency = None
            raise

    def post(self, request, *args, **kwargs):
        record = self._idempotency
        if record is None:
            return self.create(request)
        if isinstance(record, services.Replay):
            headers = {"Idempotent-Replayed": "true"}
            if record.location:
                headers["Location"] = record.location
            return Response(record.body, status=record.status_code, headers=headers)
        try:
            # The change and its stored answer commit together: a crash between them cannot leave a
            # submission whose key would run it again.
            with transaction.atomic():
                response = self.create(request)
                response = self._render_data(response)
                services.idempotency_finish(
                    record=record,
                    status_code=response.status_code,
                    body=response.data,
                    location=response.get("Location", ""),
                )
        except Exception as exc:  # noqa: BLE001 (answered as without a key, then stored)
            response = self.handle_exception(exc)  # the same error answer as without a key
            services.idempotency_finish(record=record, status_code=response.status_code, body=response.data)
        return response

    @staticmethod
    def _render_data(response: Response) -> Response:
        # Stored as the client saw it: JSON types only (dates as strings).
        response.data = json.loads(json.dumps(response.data, cls=encoders.JSONEncoder))
        return response

    def create(self, request) -> Response:  # pragma: no cover - every subclass has its own
        raise NotImplementedError
