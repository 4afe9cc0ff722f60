"""Warm sandboxes: containers whose kernel is already up, so grading does not wait ~2 s for one."""

from __future__ import annotations

import collections
import logging
import threading

from .driver import as_driver
from .session import InfrastructureError, Limits, SandboxSession

log = logging.getLogger(__name__)


class SandboxPool:
    """Keeps ``size`` started containers with a ready kernel; each is handed out exactly once.

    ``acquire()`` returns a warm session (its total-time clock starts then), or starts a cold one
    when none is idle; a background thread refills the pool one container at a time. A warm
    container older than ``max_age_s`` or whose kernel no longer answers is removed, never used.
    ``close()`` stops the refill thread and removes the idle containers; sessions already handed
    out belong to their callers. Use one pool per worker process (not shared across forks).
    """

    def __init__(
        self,
        image: str,
        limits: Limits | None = None,
        size: int = 1,
        docker_client=None,
        *,
        max_age_s: float = 600.0,
        labels: dict | None = None,
    ):
        if size < 0:
            raise ValueError("size must be >= 0")
        self.image = image
        self.limits = limits or Limits()
        self.size = size
        self.max_age_s = max_age_s
        self.labels = labels
        self._client = as_driver(docker_client)  # a driver, a docker-py client or None (driver.py)
        self._idle: collections.deque[SandboxSession] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self.last_error: Exception | None = None
        self.started = 0  # containers started by this pool (warm and cold)
        self._thread = threading.Thread(target=self._refill_loop, name="sandbox-pool", daemon=True)
        self._thread.start()

    def _launch(self) -> SandboxSession:
        session = SandboxSession.launch(self.image, self.limits, self._client, labels=self.labels)
        with self._lock:
            self.started += 1
        return session

    @property
    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def acquire(self) -> SandboxSession:
        """A ready session for one submission; the caller must close() it (or use ``with``)."""
        if self._closed:
            raise RuntimeError("pool is closed")
        while True:
            with self._lock:
                session = self._idle.popleft() if self._idle else None
            self._wake.set()
            if session is None:
                session = self._launch()
                session.begin()
                return session
            if session.age_s > self.max_age_s or not session.ping(timeout_s=2.0):
                session.close()
                continue
            session.begin()
            return session

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """Block until the pool holds ``size`` idle sessions (for start-up and tests)."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.idle_count >= self.size:
                return True
            time.sleep(0.05)
        return False

    def _expire(self) -> None:
        with self._lock:
            old = [s for s in self._idle if s.age_s > self.max_age_s]
            for s in old:
                self._idle.remove(s)
        for s in old:
            s.close()

    def _refill_loop(self) -> None:
        failures = 0
        while not self._closed:
            self._expire()
            with self._lock:
                need = self.size - len(self._idle)
            if need > 0:
                try:
                    session = self._launch()
                except InfrastructureError as exc:
                    self.last_error = exc
                    failures += 1
                    log.warning("sandbox pool could not start a container: %s", exc)
                    self._wake.wait(min(30.0, 0.5 * 2 ** min(failures, 6)))
                    self._wake.clear()
                    continue
                failures = 0
                with self._lock:
                    if not self._closed:
                        self._idle.append(session)
                        session = None
                if session is not None:
                    session.close()
                continue
            self._wake.wait(min(5.0, max(0.5, self.max_age_s / 4)))
            self._wake.clear()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=self.limits.start_timeout_s + 10)
        with self._lock:
            idle, self._idle = list(self._idle), collections.deque()
        for session in idle:
            session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
