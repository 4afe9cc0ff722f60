"""Grading benchmark: the real path, measured against its own baselines in the same run.

    .venv/bin/python bench/grading.py [--latency N] [--burst N]      (or: make bench)

Path: submission service (commit) → Celery on Redis → a worker's sandbox container → result saved in
PostgreSQL. Prints p50/p95 latency from commit to saved grade (system idle between submissions),
throughput for a burst with 1 and with 2 worker processes, and the reference points: a bare
`docker run --rm --network none IMAGE python3 -c pass` and the same notebook executed with nbclient
in a fresh container. Uses its own database (mooc_bench) on the PostgreSQL server of DATABASE_URL and
database 11 of the Redis server of REDIS_URL (BENCH_DATABASE_URL / BENCH_REDIS_URL name them outright);
labels its sandbox containers with a run id and counts only those as left behind; removes nothing it
did not create. Needs PostgreSQL, Redis and a Docker engine on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DB = "mooc_bench"
REDIS_DB = 11
RUN_ID = uuid.uuid4().hex[:12]


def bench_env(database: str = DB) -> dict:
    """The benchmark's settings: its own database and Redis database on the servers the environment names
    (DATABASE_URL, REDIS_URL), or exactly BENCH_DATABASE_URL / BENCH_REDIS_URL when set."""
    server = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/mooc")
    if not server.scheme.startswith("postgres"):
        raise SystemExit(f"DATABASE_URL must name a PostgreSQL server, not {server.scheme}")
    database_url = os.environ.get("BENCH_DATABASE_URL") or urlunsplit(server._replace(path=f"/{database}"))
    redis = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    redis_url = os.environ.get("BENCH_REDIS_URL") or urlunsplit(redis._replace(path=f"/{REDIS_DB}"))
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "SANDBOX_WARM_POOL_SIZE": "1",
        "SANDBOX_LABELS": f"mooc.bench={RUN_ID}",
        "LOG_LEVEL": "WARNING",
    }


sys.path.insert(0, str(ROOT))

# A small 5-cell numpy notebook, the kind a learner submits.
CELLS = [
    "import numpy as np",
    "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))",
    "def initialize(dim):\n    return np.zeros((dim, 1)), 0.0",
    "def propagate(w, b, X, Y):\n    m = X.shape[1]\n    A = sigmoid(w.T @ X + b)\n"
    "    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))\n"
    "    return {'dw': X @ (A - Y).T / m, 'db': float(np.mean(A - Y))}, float(cost)",
    "w, b = initialize(2)\ngrads, cost = propagate(w, b, np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1, 0]]))",
]
TESTS = [
    {"name": "sigmoid", "points": 1,
     "code": "import numpy as np\nassert np.allclose(sigmoid(np.array([0.0, 2.0])), [0.5, 0.88079708])"},
    {"name": "initialize", "points": 1, "code": "w, b = initialize(3)\nassert w.shape == (3, 1) and b == 0"},
    {"name": "cost", "points": 1, "code": "assert abs(cost - 0.6931471805599453) < 1e-6"},
    {"name": "grads", "points": 2, "visibility": "hidden",
     "code": "import numpy as np\nassert np.allclose(grads['dw'], [[0.25], [0.25]])"},
]  # fmt: skip


def notebook(cells):
    return {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"mooc": {"key": f"c{i}"}},
                "source": s,
                "outputs": [],
                "execution_count": None,
            }
            for i, s in enumerate(cells)
        ],
    }


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def reset_database():
    """Drop and create the benchmark's own database (never the one DATABASE_URL names), then migrate."""
    import psycopg2
    from psycopg2 import sql

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if name == urlsplit(os.environ.get("ORIGINAL_DATABASE_URL", "")).path.lstrip("/"):
        raise SystemExit(f"refusing to drop {name}: it is the database DATABASE_URL names")
    admin = psycopg2.connect(urlunsplit(url._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    sh(sys.executable, "manage.py", "migrate", "-v0", cwd=ROOT, env={**os.environ})


def setup_assignment():
    import django

    django.setup()
    import datetime

    from accounts.models import User
    from courses.models import Course, Item, Specialization, Week
    from grading import services
    from grading.models import Assignment
    from grading.spec import AssignmentBundle, TestSpec

    spec = Specialization.objects.create(slug="bench", title="Bench")
    course = Course.objects.create(
        specialization=spec, slug="bench", title="Bench", release_date=datetime.date(2026, 1, 1)
    )
    week = Week.objects.create(course=course, number=1, title="W")
    item = Item.objects.create(course=course, week=week, slug="logreg", title="Logistic regression", kind="assignment")
    assignment = Assignment.objects.create(item=item, cell_timeout_seconds=10, time_limit_seconds=60)
    starter = notebook([CELLS[0], "def sigmoid(z):\n    raise NotImplementedError", *CELLS[2:]])
    bundle = AssignmentBundle(
        title="logreg", starter=starter, solution=notebook(CELLS), tests=[TestSpec(**t) for t in TESTS]
    )
    version = services.grader_version_create(assignment=assignment, bundle=bundle)
    services.grader_version_publish(version=version)
    learner = User.objects.create_user(email="bench@example.com", password=None, is_staff=True)
    return Assignment.objects.get(pk=assignment.pk), learner


def start_workers(processes: int):
    log = open(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1], "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "grading", "-c", str(processes),
         "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return worker, log


def stop_workers(worker, log):
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


def submit(assignment, learner, data: bytes):
    from grading import services

    return services.submission_create(assignment=assignment, learner=learner, data=data)


def wait_graded(ids, timeout=600):
    from grading.models import Submission

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Submission.objects.filter(pk__in=ids).values_list("status", flat=True))
        if all(s in {"graded", "error"} for s in rows):
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {len(ids)} submissions")


def latencies(ids):
    from grading.models import Submission

    out = []
    for s in Submission.objects.filter(pk__in=ids).select_related("latest_run"):
        if s.status != "graded":
            raise SystemExit(
                f"submission {s.pk} ended in {s.status}: {s.latest_run.error_message if s.latest_run else ''}"
            )
        out.append((s.latest_run.finished_at - s.submitted_at).total_seconds())
    return out


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def baseline_docker_run(image, n=5):
    # --entrypoint: the image's entrypoint is the grading agent; the baseline is plain python3.
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        out = sh("docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c", "print('ok')")
        times.append(time.monotonic() - t0)
        assert out.stdout.strip() == "ok", out
    return statistics.median(times)


def baseline_nbclient(image, n=3):
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "nb.ipynb").write_text(json.dumps(notebook(CELLS)))
        os.chmod(tmp, 0o755)  # noqa: S103 - the container's unprivileged user reads the notebook
        script = (
            "import nbformat, nbclient; nb = nbformat.read('/nb/nb.ipynb', 4); "
            "nbclient.NotebookClient(nb, kernel_name='python3', timeout=60).execute(); "
            "print(len([o for c in nb.cells for o in c.outputs if o.output_type == 'error']), 'errors')"
        )
        times = []
        for _ in range(n):
            t0 = time.monotonic()
            out = sh("docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", "-e", "HOME=/tmp",
                     "-v", f"{tmp}:/nb:ro", image, "-c", script)  # fmt: skip
            times.append(time.monotonic() - t0)
            assert out.stdout.strip().endswith("0 errors"), out
    return statistics.median(times)


def burst(assignment, learner, data, n):
    t0 = time.monotonic()
    ids = [submit(assignment, learner, data).pk for _ in range(n)]
    wait_graded(ids)
    elapsed = time.monotonic() - t0
    return n / elapsed * 60, elapsed, latencies(ids)


def stray_containers():
    """This run's sandbox containers still on the engine (other runs and test suites are not counted)."""
    out = sh("docker", "ps", "-aq", "--filter", f"label=mooc.bench={RUN_ID}").stdout.split()
    return len(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=int, default=20, help="sequential submissions for p50/p95")
    parser.add_argument("--burst", type=int, default=100, help="submissions in each burst")
    args = parser.parse_args()

    os.environ["ORIGINAL_DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    os.environ.update(bench_env())
    reset_database()
    assignment, learner = setup_assignment()
    from config.celery import app
    from grading import runner

    app.control.purge()
    image = runner.image_tag()
    data = json.dumps(notebook(CELLS)).encode()

    bare = baseline_docker_run(image)
    nbclient = baseline_nbclient(image)

    worker, log = start_workers(1)
    try:
        wait_graded([submit(assignment, learner, data).pk for _ in range(2)], timeout=180)  # warm-up
        ids = []
        for _ in range(args.latency):
            time.sleep(1.5)  # idle: the worker's pool has refilled its warm container
            ids.append(submit(assignment, learner, data).pk)
            wait_graded([ids[-1]])
        lat = latencies(ids)
        rate1, elapsed1, _ = burst(assignment, learner, data, args.burst)
    finally:
        stop_workers(worker, log)
    worker, log = start_workers(2)
    try:
        wait_graded([submit(assignment, learner, data).pk for _ in range(2)], timeout=180)
        time.sleep(2)
        rate2, elapsed2, _ = burst(assignment, learner, data, args.burst)
    finally:
        stop_workers(worker, log)
    time.sleep(1)
    left = stray_containers()

    p50, p95 = pct(lat, 50), pct(lat, 95)
    print(f"grading benchmark · image {image} · 5-cell numpy notebook, 4 tests")
    print(f"  baseline  bare docker run --rm --network none IMAGE python3 -c ... : {bare:6.2f} s")
    print(f"  baseline  same notebook with nbclient in a fresh container       : {nbclient:6.2f} s")
    print(f"  latency   commit → saved grade, idle, n={len(lat):3d}   p50 {p50:5.2f} s   p95 {p95:5.2f} s")
    ratios = f"p50 / bare docker run = {p50 / bare:4.2f}   p50 / nbclient fresh container = {p50 / nbclient:4.2f}"
    print(f"            ratios: {ratios}")
    print(f"  burst     {args.burst} submissions, 1 worker process : {rate1:6.1f} notebooks/min ({elapsed1:5.1f} s)")
    print(f"  burst     {args.burst} submissions, 2 worker processes: {rate2:6.1f} notebooks/min ({elapsed2:5.1f} s)")
    print(f"  containers left behind: {left}")
    goals = [p50 < 1.0, p95 < 2.0, rate2 >= 50, left == 0]
    print(f"  goals (p50<1s, p95<2s, >=50/min with 2 workers, none left): {'met' if all(goals) else 'NOT met'} {goals}")


if __name__ == "__main__":
    main()
