"""First middleware of the stack: a request id for the request (X-Request-ID in and out), its latency
in Prometheus, and one JSON access line (logger mooc.access)."""

from __future__ import annotations

import logging
import time

from . import metrics
from .logging import bind_request_id, new_request_id, unbind_request_id

access_log = logging.getLogger("mooc.access")


class RequestIdMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        from . import views

        # Answered here, before host validation and the HTTPS redirect, and left out of the metrics.
        self.probes = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": views.metrics_view}

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        if probe is not None:
            return probe(request)
        started = time.perf_counter()
        request_id = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = bind_request_id(request_id)
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            metrics.observe_request(request=request, status=response.status_code, seconds=seconds)
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "view": metrics.route_label(request),
                },
            )
            return response
        finally:
            unbind_request_id(token)
