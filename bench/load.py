"""Load benchmark (issue 15): req/s and p95 of the catalog, a course, a lecture, a forum list, a forum search and
two API endpoints, each as a ratio to a minimal Django view (bench/load_urls.py: the whole middleware stack, then
"ok") served the same way in the same run. Goal: every page at least 40 % of the minimal view's throughput.

    .venv/bin/python bench/load.py                  # 10,000 learners, 100,000 posts, 20,000 submissions
    .venv/bin/python bench/load.py --reduced        # a tenth of the data, shorter runs (a busy machine)
    .venv/bin/python bench/load.py --base http://127.0.0.1:8080 --session KEY --lecture URL --course SLUG
                                                    # against a running stack (nginx), e.g. for its memory

Without --base: a database `mooc_bench_load_<learners>` on the local PostgreSQL (LOAD_BENCH_DATABASE_URL
overrides) filled by bench/populate.py (once; reused afterwards), and gunicorn with production settings
(bench/load_settings.py), GUNICORN_WORKERS workers (2, as the compose stack), on 127.0.0.1. The load comes from
locust (FastHttpUser, no think time) in this process: every endpoint gets the same users and seconds, one after
the other, with the minimal view measured first, in the middle and last (its mean is the baseline). With
--stack PROJECT, the compose stack's memory (docker stats, all its containers) is sampled at idle and throughout.
Loopback only: the script refuses any other address.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# What the TLS proxy in front of a production stack says; gunicorn started here ignores it (plain HTTP allowed).
PROXY = {"X-Forwarded-Proto": "https"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(learners: int) -> str:
    import psycopg2
    from psycopg2 import sql

    url = os.environ.get("LOAD_BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/mooc_bench_load_{learners}")
    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    return url


def _server_env(database_url: str) -> dict[str, str]:
    redis = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.load_settings",
        "DJANGO_SECRET_KEY": "load-benchmark-secret-key-0123456789abcdef",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def _populate(env: dict[str, str], sizes: dict[str, int]) -> dict[str, str]:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "bench/populate.py"],
        cwd=ROOT,
        env=env | {f"POPULATE_{k.upper()}": str(v) for k, v in sizes.items()},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(out.rstrip())
    print(f"(populate: {time.perf_counter() - started:.0f} s)")
    return dict(part.split("=", 1) for part in out.strip().splitlines()[-1].split())


def _gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "--config", "python:ops.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not answer within 120 s")


class StackMemory:
    """Sum of the memory of a compose project's containers (docker stats), sampled in a thread."""

    def __init__(self, project: str):
        self.project = project
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def now_mib(self) -> float:
        names = subprocess.run(
            ["docker", "ps", "--filter", f"label=com.docker.compose.project={self.project}", "--format", "{{.Names}}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        stats = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", *names],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()  # fmt: skip
        units = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
        total = 0.0
        for line in stats:
            used = line.split("/")[0].strip()
            number = used.rstrip("KMGiB")
            total += float(number) * units[used[len(number) :]]
        return total

    def __enter__(self):
        import gevent  # locust's gevent patches subprocess: sample in a greenlet, not a thread

        def sample():
            while not self._stop.is_set():
                self.samples.append(self.now_mib())
                gevent.sleep(0.5)

        self._thread = gevent.spawn(sample)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)


def _measure(base: str, path: str, cookie: str, users: int, seconds: float) -> tuple[float, float, int]:
    """locust: `users` users requesting `path` with no pause for `seconds`; (req/s, p95 ms, failures)."""
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    class Visitor(FastHttpUser):
        host = base
        wait_time = constant(0)

        @task
        def get(self):
            with self.client.get(path, headers={"Cookie": cookie, **PROXY}, catch_response=True, name=path) as response:
                if response.status_code != 200:
                    response.failure(f"status {response.status_code}")

    env = Environment(user_classes=[Visitor])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(1)  # everyone started, connections open
    env.stats.reset_all()
    gevent.sleep(seconds)
    total = env.stats.total
    result = (total.total_rps, total.get_response_time_percentile(0.95), total.num_failures)
    runner.quit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reduced", action="store_true", help="a tenth of the data, 8 s per endpoint, 4 users")
    parser.add_argument("--users", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 2)))
    parser.add_argument("--base", help="a running site (its nginx) instead of a gunicorn started here")
    parser.add_argument("--session", help="with --base: a subscribed learner's session key")
    parser.add_argument("--lecture", help="with --base: a lecture's URL path")
    parser.add_argument("--course", help="with --base: a course slug")
    parser.add_argument("--minimal", default="/bench/minimal/", help="the minimal view's path (/healthz with --base)")
    parser.add_argument("--stack", help="a compose project whose memory to sample (idle, then under the load)")
    args = parser.parse_args()
    sizes = {"learners": 10_000, "posts": 100_000, "submissions": 20_000}
    if args.reduced:
        sizes = {k: v // 10 for k, v in sizes.items()}
    users = args.users or (4 if args.reduced else 8)
    seconds = args.seconds or (8 if args.reduced else 20)
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 CPUs shared with other work: ratios, not absolutes)")

    server = None
    if args.base:
        if urlsplit(args.base).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("bench/load.py only loads this machine (127.0.0.1)")
        base, info = args.base, {"session": args.session, "lecture": args.lecture, "course": args.course}
        minimal = args.minimal
    else:
        env = _server_env(_database(sizes["learners"]))
        info = _populate(env, sizes)
        port = _free_port()
        server = _gunicorn(env, port, args.workers)
        base, minimal = f"http://127.0.0.1:{port}", args.minimal
    course, cookie = info["course"], f"sessionid={info['session']}"
    pages = {
        "catalog": "/courses/",
        "course": f"/courses/{course}/",
        "lecture": info["lecture"],
        "forum list": f"/forums/{course}/",
        "forum search": f"/forums/{course}/?q=gradient+descent+learning+rate",
        "API courses": "/api/v1/courses/",
        "API submissions": "/api/v1/submissions/",
    }
    for name, path in {"minimal": minimal, **pages}.items():
        request = urllib.request.Request(base + path, headers={"Cookie": cookie, **PROXY})  # noqa: S310 (loopback)
        status = urllib.request.urlopen(request, timeout=30).status  # noqa: S310
        assert status == 200, f"{name} {path}: {status}"

    memory = None
    if args.stack:
        memory = StackMemory(args.stack)
        idle = [memory.now_mib() for _ in range(3)]
        print(f"stack {args.stack} memory at idle: {min(idle):.0f} MiB")
        memory.__enter__()
    order = [("minimal", minimal)]
    names = list(pages)
    for index, name in enumerate(names):
        order.append((name, pages[name]))
        if index == len(names) // 2:
            order.append(("minimal", minimal))
    order.append(("minimal", minimal))
    results: dict[str, list[tuple[float, float, int]]] = {}
    try:
        for name, path in order:
            results.setdefault(name, []).append(_measure(base, path, cookie, users, seconds))
    finally:
        if memory:
            memory.__exit__()
        if server:
            server.terminate()
            server.wait(timeout=30)
    baseline = sum(r[0] for r in results["minimal"]) / len(results["minimal"])
    print(f"\n{users} users, {seconds:.0f} s each; load average after: {os.getloadavg()[0]:.1f}")
    print(f"{'endpoint':<18}{'req/s':>8}{'p95 ms':>9}{'ratio':>8}{'fails':>7}")
    worst = 1.0
    for name in ["minimal", *names]:
        rps = sum(r[0] for r in results[name]) / len(results[name])
        p95 = max(r[1] for r in results[name])
        fails = sum(r[2] for r in results[name])
        ratio = rps / baseline if baseline else 0
        if name != "minimal":
            worst = min(worst, ratio)
        print(f"{name:<18}{rps:>8.1f}{p95:>9.0f}{ratio:>7.0%}{fails:>7}")
    print(f"lowest ratio {worst:.0%} (goal >= 40 %): {'met' if worst >= 0.4 else 'NOT met'}")
    if memory and memory.samples:
        peak, count = max(memory.samples), len(memory.samples)
        print(f"stack {args.stack} memory under load: peak {peak:.0f} MiB over {count} samples")


if __name__ == "__main__":
    main()
