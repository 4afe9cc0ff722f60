"""Readiness checks (/readyz) and the probes behind them.

The web process has no Docker socket (only grading workers do, docker-compose.yml): each worker that takes
grading work pings its own engine every ENGINE_HEARTBEAT_SECONDS and records the answer in Redis, one entry
per worker host; the engine check is ready while at least one fresh entry says the engine answered. Without
Redis (the embedded `make run` default) the web process pings the engine itself."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

ENGINES_KEY = "mooc:ops:engines"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ms: float


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # noqa: BLE001  (any failure of a probe means "not ready", with why)
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return Check(name, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_redis() -> str:
    urls = [settings.REDIS_URL] if settings.REDIS_URL else []
    broker = str(settings.CELERY_BROKER_URL)
    if broker.startswith(("redis://", "rediss://")) and broker not in urls:
        urls.append(broker)
    if not urls:
        return "not used (embedded defaults)"
    for url in urls:
        client = _redis(url)
        try:
            client.ping()
        finally:
            client.close()
    return f"{len(urls)} answered"


def check_storage() -> str:
    """The media storage is reachable: the bucket answers, or MEDIA_ROOT is a writable folder."""
    import os

    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return f"bucket {bucket}"
    root = default_storage.path("")
    if not os.path.isdir(root) or not os.access(root, os.W_OK):
        raise OSError(f"{root} is not a writable folder")
    return "filesystem"


def ping_engine() -> str:
    """This process's Docker engine (DOCKER_HOST or the local socket) answers; its version."""
    import docker

    client = docker.from_env(timeout=3)
    try:
        return str(client.version().get("Version", "?"))
    finally:
        client.close()


def record_engine(*, hostname: str, now: float | None = None) -> dict:
    """Ping this host's engine and record the answer in Redis (what /readyz reads)."""
    try:
        entry = {"ok": True, "detail": ping_engine()}
    except Exception as exc:  # noqa: BLE001  (whatever the engine's client raises, it does not answer)
        entry = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    entry["at"] = time.time() if now is None else now
    client = _redis(settings.REDIS_URL)
    try:
        client.hset(ENGINES_KEY, hostname, json.dumps(entry))
    finally:
        client.close()
    return entry


def check_engine(now: float | None = None) -> str:
    if not settings.REDIS_URL:
        return f"local engine {ping_engine()}"
    now = time.time() if now is None else now
    client = _redis(settings.REDIS_URL)
    try:
        entries = {k.decode(): json.loads(v) for k, v in client.hgetall(ENGINES_KEY).items()}
    finally:
        client.close()
    fresh = {host: e for host, e in entries.items() if now - e["at"] <= 3 * settings.ENGINE_HEARTBEAT_SECONDS}
    answering = sorted(host for host, e in fresh.items() if e["ok"])
    if answering:
        return f"{len(answering)} of {len(fresh)} grading host(s) reach their engine"
    if fresh:
        raise RuntimeError(
            "no grading host reaches its engine: " + "; ".join(f"{h}: {e['detail']}" for h, e in fresh.items())
        )
    raise RuntimeError(f"no grading worker reported its engine in the last {3 * settings.ENGINE_HEARTBEAT_SECONDS} s")


CHECKS = {"database": check_database, "redis": check_redis, "storage": check_storage, "engine": check_engine}


def readiness() -> list[Check]:
    return [_timed(name, probe) for name, probe in CHECKS.items()]


def start_engine_heartbeat(*, hostname: str) -> threading.Thread | None:
    """In a grading worker: record the engine's answer now and every ENGINE_HEARTBEAT_SECONDS (a daemon thread)."""
    if not settings.REDIS_URL:
        return None

    def beat() -> None:
        while True:
            try:
                record_engine(hostname=hostname)
            except Exception:  # Redis down: /readyz reports that itself; keep beating
                log.warning("engine heartbeat not recorded", exc_info=True)
            time.sleep(settings.ENGINE_HEARTBEAT_SECONDS)

    thread = threading.Thread(target=beat, name="engine-heartbeat", daemon=True)
    thread.start()
    return thread


def serve_worker_metrics(port: int) -> None:
    """A Celery worker's own /metrics (its pool processes' counts, through the multiprocess folder)."""
    from prometheus_client import start_http_server

    from .metrics import _registry

    # Inside the worker's container, for Prometheus on the compose network; nothing publishes the port.
    start_http_server(port, addr="0.0.0.0", registry=_registry())  # noqa: S104
