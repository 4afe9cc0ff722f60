"""Fixtures for the sandbox tests: a real Docker engine, the real image, small limits.

These tests need no database or Django settings: the project-wide autouse fixtures are replaced
by no-ops for this directory.
"""

import os
import uuid

import pytest

from grading.sandbox import Limits, SandboxSession, ensure_image

# Small, fast limits: the adversarial tests hit them on purpose.
TEST_LIMITS = Limits(
    memory_mb=256,
    pids=64,
    cpus=1.0,
    cell_timeout_s=4.0,
    total_timeout_s=60.0,
    output_bytes=200_000,
    tmpfs_mb=16,
    answer_bytes=2_000_000,
    answer_depth=64,
    start_timeout_s=60.0,
    interrupt_grace_s=2.0,
)


def pytest_configure(config):
    config.addinivalue_line("markers", "docker: needs the Docker engine (make engine)")


@pytest.fixture(autouse=True)
def _media_root():
    """Overrides the project-wide fixture: the sandbox layer has no Django settings."""


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide fixture: the sandbox layer uses no cache."""


@pytest.fixture(scope="session")
def docker_client():
    import docker
    import requests

    try:
        client = docker.from_env()
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        pytest.skip(f"Docker engine not reachable ({exc}); run platform/docker/ensure-engine.sh as root")
    return client


@pytest.fixture(scope="session")
def sandbox_image(docker_client):
    # Builds the image when the recipe's tag is missing (a few minutes on a fresh machine).
    return ensure_image(docker_client=docker_client)


@pytest.fixture
def test_label(docker_client):
    """A label unique to this test; afterwards, no container carrying it may remain."""
    value = uuid.uuid4().hex[:12]
    yield {"mooc.test": value}
    left = docker_client.containers.list(all=True, filters={"label": f"mooc.test={value}"})
    for c in left:
        c.remove(force=True)
    assert not left, f"containers left behind: {[c.short_id for c in left]}"


@pytest.fixture
def start(sandbox_image, docker_client, test_label):
    """start(**limit_overrides) -> a SandboxSession with this test's label (closed afterwards)."""
    sessions = []

    def _start(**overrides):
        limits = Limits(**{**TEST_LIMITS.__dict__, **overrides})
        session = SandboxSession.start(sandbox_image, limits, docker_client, labels=test_label)
        sessions.append(session)
        return session

    yield _start
    for s in sessions:
        s.close()


def containers_with(docker_client, label: dict) -> list:
    ((key, value),) = label.items()
    return docker_client.containers.list(all=True, filters={"label": f"{key}={value}"})


os.environ.setdefault("MOOC_SANDBOX_TEST_HOST_SECRET", "host-only-" + uuid.uuid4().hex)
