"""Celery signals: the request id travels in a task's message headers and is bound while the task runs (so
its log lines carry it); every task's run time is measured; a worker serves its metrics on
METRICS_WORKER_PORT and, when it takes grading work, reports whether its Docker engine answers."""

from __future__ import annotations

import logging
import time

from celery import signals

from . import health, metrics
from .logging import bind_request_id, current_request_id, unbind_request_id

log = logging.getLogger(__name__)
HEADER = "request_id"
_running: dict[str, tuple[float, object]] = {}


@signals.before_task_publish.connect(dispatch_uid="ops_request_id_out")
def _carry_request_id(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if request_id and headers is not None and not headers.get(HEADER):
        headers[HEADER] = request_id


@signals.task_prerun.connect(dispatch_uid="ops_task_start")
def _task_start(task_id=None, task=None, **kwargs) -> None:
    request_id = (getattr(task.request, HEADER, None) if task is not None else None) or ""
    _running[task_id] = (time.perf_counter(), bind_request_id(request_id))


@signals.task_postrun.connect(dispatch_uid="ops_task_end")
def _task_end(task_id=None, task=None, state=None, **kwargs) -> None:
    started, token = _running.pop(task_id, (None, None))
    if token is not None:
        unbind_request_id(token)
    if started is None or task is None:
        return
    queue = (getattr(task.request, "delivery_info", None) or {}).get("routing_key") or ""
    metrics.observe_task(task=task.name, queue=queue, state=state or "", seconds=time.perf_counter() - started)


@signals.worker_ready.connect(dispatch_uid="ops_worker_ready")
def _worker_ready(sender=None, **kwargs) -> None:
    from django.conf import settings

    port = getattr(settings, "METRICS_WORKER_PORT", 0)
    if port:
        health.serve_worker_metrics(port)
        log.info("worker metrics on :%s/metrics", port)
    queues = set()
    try:
        queues = {queue.name for queue in sender.task_consumer.queues}
    except AttributeError:
        pass
    if "grading" in queues:
        health.start_engine_heartbeat(hostname=getattr(sender, "hostname", "") or "worker")
