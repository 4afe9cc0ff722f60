"""Remove sandbox containers left behind (a worker killed mid-grading, a host crash)."""

from __future__ import annotations

import time

from .session import LABEL, LABEL_CREATED, InfrastructureError, docker_from_env


def reap_stale_containers(client=None, older_than_s: float = 3600.0, *, now: float | None = None) -> int:
    """Force-remove containers labelled ``mooc.sandbox=1`` that have exited, or that were created more
    than ``older_than_s`` ago.

    Returns how many were removed. Choose ``older_than_s`` above the pool's max_age_s plus
    Limits.total_timeout_s, so that idle warm containers and running sessions are never taken.
    """
    import docker

    client = client or docker_from_env()
    now = time.time() if now is None else now
    try:
        containers = client.containers.list(all=True, filters={"label": f"{LABEL}=1"})
    except docker.errors.DockerException as exc:
        raise InfrastructureError(f"Docker engine unreachable: {exc}") from exc
    removed = 0
    for container in containers:
        try:
            created = float(container.labels.get(LABEL_CREATED, "0"))
        except ValueError:
            created = 0.0  # a label we did not write: treat as ancient
        # An exited container is never in use (each serves one session): remove it whatever its age.
        if now - created < older_than_s and container.status not in ("exited", "dead"):
            continue
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError:
            pass  # e.g. removal already in progress; the next run retries
    return removed
