"""A grading fleet on one machine: private Docker engines ("grading hosts"), Celery workers beside them,
beat and a default-queue worker, and a kill -9 failover run with its checks.

Used by bench/grading_failover.py (50 kills, throughput with one and two hosts) and by
tests/grading/test_failover.py (a few kills, in the suite). Nothing Django is imported at module level:
the caller sets the environment up and calls django.setup() first.

Each private engine is its own dockerd: its own socket, data root, exec root, pidfile and cgroup
parent, no bridge and no iptables rules (sandboxes run with network none), the sandbox image loaded
into it from the shared engine with `docker save | docker load` (no registry). The data roots are kept
under /var/tmp/mooc-fleet/<engine>-<checkout hash> so the image is loaded once per checkout, not on
every run; `--clean` of the bench removes them. Every process started here is stopped here, by its PID.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLEET_DATA = Path(os.environ.get("MOOC_FLEET_DATA", "/var/tmp/mooc-fleet"))
FLEET_RUN = Path("/run/mooc-fleet")  # sockets: short paths (a unix socket path has at most 107 bytes)


def _wait_for(predicate: Callable[[], bool], timeout_s: float, what: str, *, every_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


class PrivateEngine:
    """One dockerd of our own, started and stopped by PID.

    Its directories are named after the engine and this checkout (two checkouts on one machine never
    share an engine), and a lock file keeps two runs of the same checkout (the test and the bench) from
    using it at once."""

    def __init__(self, name: str):
        self.name = name
        self.key = f"{name}-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:6]}"
        self.data_root = FLEET_DATA / self.key / "data"
        self.run_dir = FLEET_RUN / self.key
        self.exec_root = self.run_dir / "exec"
        self.socket = self.run_dir / "docker.sock"
        self.pidfile = self.run_dir / "docker.pid"
        self.log_path = FLEET_DATA / self.key / "dockerd.log"
        self.host = f"unix://{self.socket}"
        self.process: subprocess.Popen | None = None
        self._lock = None

    def _acquire(self, timeout_s: float) -> None:
        (FLEET_DATA / self.key).mkdir(parents=True, exist_ok=True)
        self._lock = (FLEET_DATA / self.key / "lock").open("w")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._lock.close()
                    self._lock = None
                    raise RuntimeError(f"engine {self.key} is in use by another run of this checkout") from None
                time.sleep(1)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

    def docker(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True, **kwargs)

    def answers(self) -> bool:
        return self.socket.exists() and self.docker("version", "--format", "{{.Server.Version}}").returncode == 0

    def _stop_leftover(self) -> None:
        """A dockerd of ours from an interrupted run (same pidfile and socket): stop it by its PID."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return
        if "dockerd" in cmdline and str(self.socket) in cmdline:
            os.kill(pid, signal.SIGTERM)
            _wait_for(lambda: not Path(f"/proc/{pid}").exists(), 60, f"the old dockerd {pid} to stop")

    def start(self, timeout_s: float = 90.0, lock_timeout_s: float = 120.0) -> None:
        self._acquire(lock_timeout_s)
        self._stop_leftover()  # holding the lock: a dockerd on these paths belongs to a run that died
        for path in (self.data_root, self.exec_root):
            path.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / "daemon.json"
        config.write_text("{}\n")  # never the machine's /etc/docker/daemon.json
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            ["dockerd", f"--host={self.host}", f"--data-root={self.data_root}", f"--exec-root={self.exec_root}",
             f"--pidfile={self.pidfile}", f"--config-file={config}", "--bridge=none", "--iptables=false",
             "--ip-masq=false", "--ip-forward=false", "--storage-driver=overlay2",
             f"--cgroup-parent=mooc-fleet-{self.key}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        try:
            _wait_for(lambda: self.process.poll() is None and self.answers(), timeout_s, f"dockerd {self.key}")
        except TimeoutError:
            self.stop()
            raise

    def load_image(self, tag: str) -> float:
        """Copy the sandbox image from the shared engine (docker save | docker load); 0 when present."""
        if self.docker("image", "inspect", tag).returncode == 0:
            return 0.0
        t0 = time.monotonic()
        save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", self.host, "load", "-q"], stdin=save.stdout, capture_output=True, text=True
        )
        save.stdout.close()
        if save.wait() != 0 or load.returncode != 0:
            raise RuntimeError(f"loading {tag} into {self.key} failed: {load.stderr[-2000:]}")
        return time.monotonic() - t0

    def sandboxes(self, status: str = "") -> list[str]:
        filters = ["--filter", "label=mooc.sandbox=1"] + (["--filter", f"status={status}"] if status else [])
        out = self.docker("ps", "-aq", *filters)
        return out.stdout.split() if out.returncode == 0 else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # dockerd stops its containers and its containerd
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.process = None
        self._release()

    def remove_data(self) -> None:
        shutil.rmtree(FLEET_DATA / self.key / "data", ignore_errors=True)


class Service:
    """A Celery process (worker or beat) in its own process group, so kill -9 takes all of it."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name, self.args, self.env, self.log_dir = name, args, env, log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"{self.name}.{self.starts}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *self.args],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def ready(self) -> bool:
        """A worker that has connected and consumes (Celery logs "<name> ready." at INFO)."""
        log = self.log_dir / f"{self.name}.{self.starts}.log"
        return self.alive and log.exists() and " ready." in log.read_text(errors="replace")

    def kill9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None


def grader(name: str, engine: PrivateEngine, env: dict, log_dir: Path) -> Service:
    """The worker of one grading host: the grading queue only, one submission at a time, its own engine."""
    host_env = env | {"DOCKER_HOST": engine.host, "GRADING_WORKER_ID": name}
    args = ["worker", "-Q", "grading", "-P", "solo", "-n", f"{name}@%h", "--prefetch-multiplier", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]  # fmt: skip
    return Service(name, args, host_env, log_dir)


def control_plane(env: dict, log_dir: Path) -> list[Service]:
    """Beat and the default-queue worker (the lease sweeper runs there)."""
    beat = Service("beat", ["beat", "-s", str(log_dir / "beat-schedule"), "--loglevel", "INFO"], env, log_dir)
    default = Service(
        "default",
        ["worker", "-Q", "celery", "-P", "solo", "-n", "default@%h", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel", "INFO"],
        env, log_dir,
    )  # fmt: skip
    return [beat, default]


def purge_broker(broker_url: str) -> None:
    import redis

    client = redis.Redis.from_url(broker_url)
    client.delete("grading", "celery", "email", "unacked", "unacked_index", "unacked_mutex")


@dataclasses.dataclass
class Kill:
    worker: str
    submission_id: int
    attempt: str
    at: float  # time.time()
    recovered_after_s: float | None = None  # kill → the sweeper took the lease back and re-queued it
    graded_after_s: float | None = None  # kill → the submission's grade saved (by the other attempt)


@dataclasses.dataclass
class FailoverReport:
    submissions: int
    kills: list[Kill]
    graded_once: int
    not_graded: list[int]
    graded_more_than_once: list[int]
    abandoned_runs: int
    refused_results: int  # attempts alive but too slow: their lease expired and their result was refused
    bound_s: float  # lease + one sweep interval
    containers_running: int  # sandboxes still running once every worker was stopped (must be 0)
    containers_left_before_reap: int  # exited or never started: what the reaper is for
    containers_left: int
    seconds: float

    @property
    def ok(self) -> bool:
        return (
            not self.not_graded
            and not self.graded_more_than_once
            and self.graded_once == self.submissions
            and all(k.recovered_after_s is not None for k in self.kills)
            and self.containers_running == 0
            and self.containers_left == 0
        )

    def summary(self) -> str:
        recovered = sorted(k.recovered_after_s for k in self.kills if k.recovered_after_s is not None)
        graded = sorted(k.graded_after_s for k in self.kills if k.graded_after_s is not None)

        def stats(values):
            if not values:
                return "n/a"
            p50 = values[len(values) // 2]
            return f"min {values[0]:.1f} s · p50 {p50:.1f} s · max {values[-1]:.1f} s"

        within = sum(1 for v in recovered if v <= self.bound_s)
        return "\n".join([
            f"  kills (kill -9 of a worker holding a lease): {len(self.kills)}",
            f"  submissions: {self.submissions} · graded exactly once: {self.graded_once} · not graded: "
            f"{len(self.not_graded)} · graded twice or more: {len(self.graded_more_than_once)}",
            f"  kill → lease taken back and re-queued: {stats(recovered)}  "
            f"({within}/{len(recovered)} within lease + one sweep = {self.bound_s:.0f} s)",
            f"  kill → grade saved by another attempt: {stats(graded)}",
            f"  runs abandoned: {self.abandoned_runs} · results refused (lease lost while alive): "
            f"{self.refused_results}",
            f"  sandbox containers once the workers stopped: {self.containers_running} running, "
            f"{self.containers_left_before_reap} left (exited or never started), "
            f"{self.containers_left} after the reaper",
            f"  wall time: {self.seconds:.0f} s",
        ])  # fmt: skip


def fleet_env(base: dict, *, lease_s: float, renew_s: float, sweep_s: float) -> dict:
    return base | {
        "GRADING_LEASE_SECONDS": str(int(lease_s)),
        "GRADING_LEASE_RENEW_SECONDS": str(renew_s),
        "GRADING_SWEEP_SECONDS": str(sweep_s),
        "SANDBOX_WARM_POOL_SIZE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def run_failover(
    *,
    engines: list[PrivateEngine],
    env: dict,
    log_dir: Path,
    submit: Callable[[], int],
    kills: int,
    min_submissions: int,
    lease_s: float,
    sweep_s: float,
    seed: int = 0,
    timeout_s: float = 1800,
    progress: Callable[[str], None] = lambda line: None,
) -> FailoverReport:
    """Two (or more) grading hosts; kill -9 a worker holding a lease `kills` times in a row, restarting it
    each time, while submissions keep coming; then check every submission was graded exactly once."""
    from django.utils import timezone

    from grading.models import GradingRun, Submission
    from grading.sandbox import DockerDriver, reap_stale_containers

    rng = random.Random(seed)
    started = time.monotonic()
    deadline = started + timeout_s
    services = control_plane(env, log_dir)
    graders = {f"host-{e.name}": grader(f"host-{e.name}", e, env, log_dir) for e in engines}
    submitted: list[int] = []
    done: list[Kill] = []
    try:
        for service in [*services, *graders.values()]:
            service.start()

        def feed(backlog: int = 2) -> None:
            queued = Submission.objects.filter(pk__in=submitted, status="queued").count()
            for _ in range(max(0, backlog - queued)):
                submitted.append(submit())

        while len(done) < kills:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(done)} of {kills} kills in {timeout_s:.0f} s")
            for service in [*services, *graders.values()]:
                if not service.alive:
                    raise RuntimeError(f"{service.name} exited: see {log_dir}/{service.name}.{service.starts}.log")
            feed()
            # One host down at a time: the next kill waits until every worker is back and consuming.
            if not all(g.ready for g in graders.values()):
                time.sleep(0.2)
                continue
            # A live lease held by a host's current process, on a submission not killed before: each kill
            # tests the recovery of another submission (killing the same one again and again would test
            # the give-up rule, GRADING_MAX_ABANDONED, instead).
            killed = {k.submission_id for k in done}
            holding = [
                row
                for row in Submission.objects.filter(
                    pk__in=submitted, status="running", lease_expires_at__gt=timezone.now(),
                    lease_worker__in=list(graders),
                ).values_list("pk", "lease_worker", "lease_attempt")
                if row[0] not in killed
            ]  # fmt: skip
            if not holding:
                time.sleep(0.1)
                continue
            pk, worker, attempt = rng.choice(holding)
            time.sleep(rng.uniform(0, 0.4))  # somewhere in the grading, not always at its start
            still = Submission.objects.filter(pk=pk, status="running", lease_attempt=attempt).exists()
            if not still:
                continue
            graders[worker].kill9()
            done.append(Kill(worker=worker, submission_id=pk, attempt=str(attempt), at=time.time()))
            progress(f"kill {len(done)}/{kills}: {worker} while grading submission {pk}")
            graders[worker].start()  # the host's worker comes back (as a supervisor would restart it)
        while len(submitted) < min_submissions:
            submitted.append(submit())
        # Every submission ends graded: the killed ones through their expired leases.
        wait_until = min(deadline, time.monotonic() + 120 + len(submitted) * 5)
        while Submission.objects.filter(pk__in=submitted).exclude(status__in=["graded", "error"]).exists():
            if time.monotonic() > wait_until:
                break
            time.sleep(0.2)
    finally:
        for service in [*graders.values(), *services]:
            service.stop()

    # Checks, from the database: one graded first-grading run per submission, none missing.
    graded_runs: dict[int, int] = {}
    for run in GradingRun.objects.filter(submission_id__in=submitted, status="graded", regrade__isnull=True):
        graded_runs[run.submission_id] = graded_runs.get(run.submission_id, 0) + 1
    abandoned = GradingRun.objects.filter(submission_id__in=submitted, status="abandoned")
    for kill in done:
        run = abandoned.filter(attempt_id=kill.attempt).first()
        if run is not None and run.finished_at is not None:
            kill.recovered_after_s = run.finished_at.timestamp() - kill.at
        final = GradingRun.objects.filter(submission_id=kill.submission_id, status="graded", regrade__isnull=True)
        final = final.first()
        if final is not None and final.finished_at is not None:
            kill.graded_after_s = final.finished_at.timestamp() - kill.at
    running = sum(len(e.sandboxes("running")) for e in engines)
    left_before = sum(len(e.sandboxes()) for e in engines)
    for engine in engines:
        # Every worker is stopped, so no sandbox is in use: the reaper may take all of them, whatever their age.
        reap_stale_containers(DockerDriver(_client_for(engine)), older_than_s=0, unstarted_after_s=0)
    left_after = sum(len(e.sandboxes()) for e in engines)
    return FailoverReport(
        submissions=len(submitted),
        kills=done,
        graded_once=sum(1 for pk in submitted if graded_runs.get(pk) == 1),
        not_graded=[pk for pk in submitted if pk not in graded_runs],
        graded_more_than_once=[pk for pk, n in graded_runs.items() if n > 1],
        abandoned_runs=abandoned.count(),
        refused_results=abandoned.filter(log__contains="lost its lease").count(),
        bound_s=lease_s + sweep_s,
        containers_running=running,
        containers_left_before_reap=left_before,
        containers_left=left_after,
        seconds=time.monotonic() - started,
    )


def _client_for(engine: PrivateEngine):
    import docker

    return docker.DockerClient(base_url=engine.host)


def throughput(
    *, engines: list[PrivateEngine], env: dict, log_dir: Path, submit: Callable[[], int], n: int, warmup: int = 2
) -> tuple[float, float]:
    """Notebooks per minute for a burst of `n` with one worker per engine given; returns (rate, seconds)."""
    from grading.models import Submission

    graders = [grader(f"host-{e.name}", e, env, log_dir) for e in engines]
    services = control_plane(env, log_dir)
    try:
        for service in [*services, *graders]:
            service.start()
        first = [submit() for _ in range(warmup * len(engines))]
        _wait_for(lambda: not Submission.objects.filter(pk__in=first).exclude(status="graded").exists(), 300, "warm-up")
        time.sleep(2)  # the warm pools refill
        t0 = time.monotonic()
        ids = [submit() for _ in range(n)]
        _wait_for(lambda: not Submission.objects.filter(pk__in=ids).exclude(status="graded").exists(), 1200, "burst")
        elapsed = time.monotonic() - t0
    finally:
        for service in [*graders, *services]:
            service.stop()
    return n / elapsed * 60, elapsed


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def as_json(report: FailoverReport) -> str:
    data = dataclasses.asdict(report)
    data["ok"] = report.ok
    return json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, datetime.datetime) else str(v))
