"""Probes and metrics for the operator: /healthz (the process answers), /readyz (what it depends on answers),
/metrics (Prometheus). None of them touches a session or a template. ops.middleware answers these three paths
before any other middleware (no host check, no HTTPS redirect: probes call a container by its address)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from . import health, metrics


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    checks = health.readiness()
    ready = all(check.ok for check in checks)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for c in checks},
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
def metrics_view(request):
    token = settings.METRICS_TOKEN
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(offered.encode(), token.encode()):
            return HttpResponse("A bearer token is needed (METRICS_TOKEN).\n", status=401, content_type="text/plain")
    return HttpResponse(metrics.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")
