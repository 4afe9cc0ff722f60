"""A real Celery worker (started here, stopped by its own handle) on the test run's Redis: a task queued
during a request logs JSON lines carrying that request's id, the worker serves its own metrics, and a worker
on the grading queue reports its Docker engine to /readyz."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from ops import health
from ops.logging import bind_request_id, unbind_request_id

pytestmark = pytest.mark.slow  # a subprocess per test: make check skips it; make test runs it

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def worker(transactional_db, celery_eager, tmp_path):
    """celery worker -Q celery,grading with JSON logs, its metrics port and an engine heartbeat every second."""
    broker = settings.REDIS_URL
    celery_eager.conf.task_always_eager = False
    _use_broker(celery_eager, broker)
    redis.Redis.from_url(settings.REDIS_URL).delete(health.ENGINES_KEY)
    db = connection.settings_dict
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"} | {
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": broker,
        "TEST_CELERY_BROKER_URL": broker,
        "LOG_FORMAT": "json",
        "METRICS_WORKER_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "ENGINE_HEARTBEAT_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", "celery,grading",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    yield process, lines, port
    process.terminate()
    process.wait(timeout=30)
    reader.join(timeout=5)
    _use_broker(celery_eager, settings.CELERY_BROKER_URL)


def _use_broker(app, url: str) -> None:
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def _wait(predicate, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_task_logs_the_request_id_of_the_request_that_queued_it(worker, client):
    from restapi.tasks import purge_idempotency_records

    process, lines, port = worker
    token = bind_request_id("req-1234abcd")  # as the middleware does for a request
    try:
        purge_idempotency_records.delay()
    finally:
        unbind_request_id(token)

    def finished():
        for line in list(lines):
            if line.startswith("{") and "purge_idempotency_records" in line and "succeeded" in line:
                return json.loads(line)
        return None

    entry = _wait(finished, "the task's JSON log line")
    assert entry["request_id"] == "req-1234abcd"
    assert entry["level"] == "INFO" and entry["logger"].startswith("celery")
    assert process.poll() is None

    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert (
        'mooc_task_duration_seconds_count{queue="celery",state="SUCCESS",task="restapi.tasks.purge_idempotency_records"}'
        " 1.0" in metrics
    )

    # The same worker takes grading work, so it reports its engine: /readyz is ready with it.
    _wait(lambda: client.get("/readyz").status_code == 200, "/readyz to be ready through the worker's heartbeat")
    assert "grading host(s) reach their engine" in client.get("/readyz").json()["checks"]["engine"]["detail"]


@pytest.mark.django_db
def test_the_request_id_comes_from_the_proxy_or_is_made(client):
    given = client.get("/accounts/login/", HTTP_X_REQUEST_ID="nginx-0123456789abcdef")
    assert given["X-Request-ID"] == "nginx-0123456789abcdef"
    hostile = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    made = hostile["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert client.get("/accounts/login/")["X-Request-ID"] != made
