"""Prometheus metrics of the site. Other apps record through ops.api (lease_expired, webhook_failed);
requests and Celery tasks are measured here (middleware, Celery signals).

Several processes (gunicorn workers, Celery's pool) each count for themselves: with PROMETHEUS_MULTIPROC_DIR
set (the compose stack sets it, platform/deploy/entrypoint.sh) they write to files there and a scrape adds
them up. Queue depth is read from the broker at scrape time, not counted."""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

# Request latency from the first middleware to the response: up to a minute (gunicorn's timeout).
REQUEST_SECONDS = Histogram(
    "mooc_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status class.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TASK_SECONDS = Histogram(
    "mooc_task_duration_seconds",
    "Run time of a Celery task, by task, queue and how it ended (SUCCESS, RETRY, FAILURE).",
    ["task", "queue", "state"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
GRADING_SECONDS = Histogram(
    "mooc_grading_duration_seconds",
    "Time a worker spent grading one submission (the grading task), by outcome: done, retry (an infrastructure "
    "fault: the engine or the sandbox), error (the task raised).",
    ["outcome"],
    buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)
GRADING_ERRORS = Counter(
    "mooc_grading_errors_total", "Grading tasks that did not finish: retried after an infrastructure fault, or raised.",
    ["outcome"],
)  # fmt: skip
LEASE_EXPIRIES = Counter(
    "mooc_lease_expiries_total",
    "Claims whose lease expired before the holder finished (re-queued), by queue.",
    ["queue"],
)
WEBHOOK_FAILURES = Counter(
    "mooc_webhook_failures_total",
    "Webhooks that failed: rejected (bad signature or payload), failed (will be retried), gave_up.",
    ["source", "outcome"],
)

GRADING_TASKS = {"grading.tasks.grade_submission", "grading.tasks.regrade_one"}


def route_label(request) -> str:
    """A bounded label for a request: the URL pattern's name, never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


def observe_request(*, request, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route_label(request), request.method, f"{status // 100}xx").observe(seconds)


def observe_task(*, task: str, queue: str, state: str, seconds: float) -> None:
    TASK_SECONDS.labels(task, queue or "", state).observe(seconds)
    if task in GRADING_TASKS:
        outcome = {"SUCCESS": "done", "RETRY": "retry"}.get(state, "error")
        GRADING_SECONDS.labels(outcome).observe(seconds)
        if outcome != "done":
            GRADING_ERRORS.labels(outcome).inc()


def queue_names() -> list[str]:
    """The Celery queues of this site: the default one, those tasks are routed to, and METRICS_QUEUES."""
    from django.conf import settings

    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or ():
        names.add(getattr(queue, "name", queue))
    names.update(getattr(settings, "METRICS_QUEUES", ()))
    return sorted(str(name) for name in names)


class QueueDepthCollector:
    """mooc_queue_depth{queue}: messages waiting in each queue of a Redis broker, read at scrape time."""

    def collect(self):
        from django.conf import settings

        family = GaugeMetricFamily("mooc_queue_depth", "Messages waiting in the Celery queue.", labels=["queue"])
        url = str(settings.CELERY_BROKER_URL)
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                with client.pipeline(transaction=False) as pipe:
                    names = queue_names()
                    for name in names:
                        pipe.llen(name)
                    for name, depth in zip(names, pipe.execute(), strict=True):
                        family.add_metric([name], depth)
            except redis.RedisError:
                pass  # the broker is down: /readyz says so; the scrape still answers
            finally:
                client.close()
        yield family


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition(*, with_queues: bool = True) -> bytes:
    """The text exposition format of every metric of this process (or of all processes sharing the
    multiprocess folder), plus queue depth."""
    body = generate_latest(_registry())
    if with_queues:
        queues = CollectorRegistry(auto_describe=False)
        queues.register(QueueDepthCollector())
        body += generate_latest(queues)
    return body
