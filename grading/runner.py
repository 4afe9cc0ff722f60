"""The worker's side of the sandbox: one warm pool per worker process, one container per grading.

`grade_with_sandbox` is what the Celery task, the `grade` command, the self-check and the benchmark
call; it takes a container (warm when the pool has one), runs the pipeline, and always disposes of
the container."""

from __future__ import annotations

import threading

from django.conf import settings

from . import sandbox
from .pipeline import GradeReport, grade_notebook
from .sandbox.session import docker_from_env
from .spec import TestSpec

_pool_lock = threading.Lock()
# Grading never runs longer than this, whatever an assignment says (the reaper and the sweeper rely on it).
MAX_TIME_LIMIT_SECONDS = 600
STALE_MARGIN_SECONDS = 120
_pools: dict[tuple, sandbox.SandboxPool] = {}


def limits_for(assignment) -> sandbox.Limits:
    return sandbox.Limits(
        memory_mb=assignment.memory_mb,
        pids=settings.SANDBOX_PIDS_LIMIT,
        cpus=settings.SANDBOX_CPUS,
        cell_timeout_s=float(assignment.cell_timeout_seconds),
        total_timeout_s=float(min(assignment.time_limit_seconds, MAX_TIME_LIMIT_SECONDS)),
        output_bytes=settings.SANDBOX_OUTPUT_BYTES,
        tmpfs_mb=settings.SANDBOX_TMPFS_MB,
    )


def image_tag() -> str:
    return sandbox.image_tag(settings.SANDBOX_RECIPE_DIR)


def _pool(image: str, limits: sandbox.Limits) -> sandbox.SandboxPool | None:
    size = settings.SANDBOX_WARM_POOL_SIZE
    if size <= 0:
        return None
    key = (image, limits)
    with _pool_lock:
        pool = _pools.get(key)
        if pool is None:
            # Warm containers have their memory limit fixed at start: one pool per distinct limits.
            pool = _pools[key] = sandbox.SandboxPool(
                image=image, limits=limits, size=size, labels=settings.SANDBOX_LABELS or None
            )
        return pool


def close_pools() -> None:
    with _pool_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def grade_with_sandbox(
    *,
    assignment,
    starter: dict,
    tests: list[TestSpec],
    locked_hashes: dict,
    notebook: dict,
    collect_expected: bool = False,
    warm: bool = True,
) -> tuple[GradeReport, str]:
    """Grade in a fresh container. Returns the report and the image tag. Raises
    sandbox.InfrastructureError when the engine or the image is not usable (the caller retries)."""
    image = image_tag()
    limits = limits_for(assignment)
    pool = _pool(image, limits) if warm else None
    session = (
        pool.acquire()
        if pool is not None
        else sandbox.SandboxSession.start(image=image, limits=limits, labels=settings.SANDBOX_LABELS or None)
    )
    with session:
        report = grade_notebook(
            session,
            starter=starter,
            tests=tests,
            locked_hashes=locked_hashes,
            notebook=notebook,
            collect_expected=collect_expected,
        )
        died = session.status == "died"
    if died and not engine_reachable():
        # The container "died" because the engine went away, not because of the notebook: retry.
        raise sandbox.InfrastructureError("the Docker engine stopped answering during grading")
    return report, image


def engine_reachable() -> bool:
    try:
        return bool(docker_from_env().ping())
    except Exception:  # noqa: BLE001 - any failure to reach the engine is "not reachable"
        return False
