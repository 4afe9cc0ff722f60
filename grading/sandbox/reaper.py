"""Remove sandbox containers left behind (a worker killed mid-grading, a host crash)."""

from __future__ import annotations

import time

from .driver import as_driver
from .session import LABEL, LABEL_CREATED


def reap_stale_containers(
    client=None, older_than_s: float = 3600.0, *, now: float | None = None, unstarted_after_s: float = 300.0
) -> int:
    """Force-remove sandboxes labelled ``mooc.sandbox=1`` that have exited, that were created more than
    ``older_than_s`` ago, or that were never started ``unstarted_after_s`` after their creation (their
    worker died between creating and starting them; a start takes at most Limits.start_timeout_s).

    `client`: a sandbox driver, a docker-py client, or None (the engine of the environment). Returns how
    many were removed. Choose ``older_than_s`` above the pool's max_age_s plus Limits.total_timeout_s, so
    that idle warm containers and running sessions are never taken.
    """
    driver = as_driver(client)
    now = time.time() if now is None else now
    removed = 0
    for found in driver.list({LABEL: "1"}):
        try:
            created = float(found.labels.get(LABEL_CREATED, "0"))
        except ValueError:
            created = 0.0  # a label we did not write: treat as ancient
        # An exited container is never in use (each serves one session): remove it whatever its age.
        age = now - created
        unstarted = found.state == "created" and age >= unstarted_after_s
        if age < older_than_s and not found.finished and not unstarted:
            continue
        driver.remove(found.id)  # never raises; a removal that failed is retried at the next run
        removed += 1
    return removed
