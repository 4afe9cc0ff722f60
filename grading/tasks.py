"""Celery tasks for grading: thin callers of grading.services. Only infrastructure faults retry."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_shutdown
from django.conf import settings

from . import runner, sandbox, services

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    queue="grading",
    # Its own limits, below the broker's visibility timeout (config/settings/base.py): a grading that
    # hangs is ended, never redelivered while it may still run. Exactly-once comes from the lease.
    time_limit=settings.GRADING_TASK_TIME_LIMIT,
    soft_time_limit=settings.GRADING_TASK_SOFT_TIME_LIMIT,
)
def grade_submission(self, submission_id: int) -> None:
    try:
        services.submission_grade(submission_id=submission_id)
    except sandbox.InfrastructureError as exc:
        if self.request.retries >= self.max_retries:
            services.submission_mark_failed(submission_id=submission_id, reason=f"{type(exc).__name__}: {exc}")
            return
        log.warning("grading %s: infrastructure fault, retrying: %s", submission_id, exc)
        raise self.retry(exc=exc, countdown=min(60, 2 ** (self.request.retries + 1))) from exc


@shared_task(queue="grading")
def run_regrade(job_id: int) -> None:
    """Fan a regrade job out: one task per submission still to grade."""
    from .models import RegradeJob

    job = RegradeJob.objects.get(pk=job_id)
    pending = services.regrade_pending_ids(job=job)
    for submission_id in pending:
        regrade_one.delay(job_id, submission_id)
    if not pending:
        services.regrade_update_progress(job_id=job_id)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    queue="grading",
    time_limit=settings.GRADING_TASK_TIME_LIMIT,
    soft_time_limit=settings.GRADING_TASK_SOFT_TIME_LIMIT,
)
def regrade_one(self, job_id: int, submission_id: int) -> None:
    try:
        services.regrade_submission(job_id=job_id, submission_id=submission_id)
    except sandbox.InfrastructureError as exc:
        if self.request.retries >= self.max_retries:
            services.regrade_record_failure(job_id=job_id, submission_id=submission_id, reason=str(exc))
            return
        raise self.retry(exc=exc, countdown=min(60, 2 ** (self.request.retries + 1))) from exc


@shared_task(queue="celery")
def requeue_stale_submissions() -> int:
    """Beat, every GRADING_SWEEP_SECONDS, on the default queue: expired leases and lost messages."""
    count = services.submissions_requeue_stale()
    if count:
        log.warning("re-queued %d stale submission(s)", count)
    return count


@shared_task(queue="grading")
def requeue_engine_failures() -> int:
    """Beat, on the grading queue (so it runs beside an engine): once the engine answers again, the
    submissions that gave up because it did not are queued again."""
    count = services.submissions_requeue_engine_failures()
    if count:
        log.warning("engine back: re-queued %d submission(s)", count)
    return count


@shared_task(queue="grading")
def reap_sandboxes() -> int:
    """Remove sandbox containers left behind (a worker killed mid-grading, an engine restart)."""
    try:
        removed = sandbox.reap_stale_containers(None, older_than_s=settings.SANDBOX_REAP_AFTER_SECONDS)
    except sandbox.InfrastructureError as exc:
        log.warning("reaper: engine unreachable: %s", exc)
        return 0
    if removed:
        log.info("reaper: removed %d stray sandbox container(s)", removed)
    return removed


@worker_process_shutdown.connect
def _close_warm_containers(**kwargs) -> None:
    """A worker process that stops removes the containers it had started ahead of demand."""
    runner.close_pools()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5, queue="grading")
def publish_grader_version(self, version_id: int) -> None:
    """Self-check a grader version in the sandbox and publish it when it passes (queued from the admin)."""
    from .models import GraderVersion

    version = GraderVersion.objects.filter(pk=version_id).first()
    if version is None:
        return
    try:
        services.grader_version_publish(version=version)
    except services.PublishError as exc:  # the failed report is kept on the version; nothing to retry
        log.info("grader %s not published: %s", version_id, exc)
    except sandbox.InfrastructureError as exc:
        if self.request.retries >= self.max_retries:
            services.grader_version_publish_gave_up(version_id=version_id, reason=str(exc))
            return
        GraderVersion.objects.filter(pk=version_id).update(status=GraderVersion.Status.CHECKING)
        raise self.retry(exc=exc, countdown=min(60, 2 ** (self.request.retries + 1))) from exc
