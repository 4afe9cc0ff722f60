"""Warm pool, stray-container reaper, image tag and infrastructure failures."""

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import docker
import pytest

from grading.sandbox import (
    DEFAULT_RECIPE_DIR,
    InfrastructureError,
    Limits,
    SandboxPool,
    SandboxSession,
    image_tag,
    reap_stale_containers,
)
from grading.sandbox.session import docker_from_env

from .conftest import TEST_LIMITS, containers_with


@pytest.mark.docker
def test_pool_hands_out_warm_sessions_fast_and_each_container_once(sandbox_image, docker_client, test_label):
    with SandboxPool(sandbox_image, TEST_LIMITS, size=2, docker_client=docker_client, labels=test_label) as pool:
        assert pool.wait_ready(60)
        seen = set()
        for i in range(3):
            t0 = time.monotonic()
            session = pool.acquire()
            acquire_s = time.monotonic() - t0
            with session:
                if i < 2:  # the first two come straight from the warm pool
                    assert acquire_s < 0.5, acquire_s
                assert session.container_id not in seen
                seen.add(session.container_id)
                t1 = time.monotonic()
                r = session.run_cell(f"value = {i} * 10")
                assert r.status == "ok"
                assert session.fetch("value").value == i * 10
                assert time.monotonic() - t1 < 1.0
            # Closed session: its container is gone right away.
            assert session.container_id not in {c.id for c in containers_with(docker_client, test_label)}
        assert pool.wait_ready(60)
        idle = {c.id for c in containers_with(docker_client, test_label)}
        assert len(idle) == 2 and not (idle & seen)
    assert not containers_with(docker_client, test_label)


@pytest.mark.docker
def test_pool_discards_warm_containers_past_their_max_age(sandbox_image, docker_client, test_label):
    with SandboxPool(
        sandbox_image, TEST_LIMITS, size=1, docker_client=docker_client, labels=test_label, max_age_s=600
    ) as pool:
        assert pool.wait_ready(60)
        first = {c.id for c in containers_with(docker_client, test_label)}
        # Aged only now: a busy machine may take more than a short max age just to start a container.
        pool.max_age_s = 1.0
        time.sleep(1.5)
        with pool.acquire() as session:
            assert session.container_id not in first
            assert session.run_cell("print('fresh')").status == "ok"


@pytest.mark.docker
def test_reaper_removes_only_old_labelled_containers(sandbox_image, docker_client, test_label):
    now = time.time()

    def make(age_s, sandbox_label=True):
        labels = dict(test_label)
        if sandbox_label:
            labels.update({"mooc.sandbox": "1", "mooc.created": str(int(now - age_s))})
        return docker_client.containers.create(sandbox_image, network_mode="none", labels=labels)

    old, fresh, foreign, exited = make(7200), make(10), make(7200, sandbox_label=False), make(10)
    unstarted = make(600)  # created, never started: its worker died in between
    exited.start()  # the agent exits at once without its host: a used-up container, never in use again
    exited.wait(timeout=30)
    try:
        removed = reap_stale_containers(docker_client, older_than_s=3600)
        remaining = {c.id for c in containers_with(docker_client, test_label)}
        assert removed >= 3
        assert old.id not in remaining and exited.id not in remaining and unstarted.id not in remaining
        assert fresh.id in remaining and foreign.id in remaining
    finally:
        for c in (old, fresh, foreign, exited, unstarted):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)


def test_image_tag_follows_the_recipe(tmp_path):
    tag = image_tag()
    assert tag.startswith("mooc-sandbox:") and len(tag.split(":")[1]) == 12
    script = subprocess.run(
        ["bash", str(DEFAULT_RECIPE_DIR / "build-image.sh"), "--print-tag"], capture_output=True, text=True, check=True
    )
    assert script.stdout.strip() == tag  # the shell script and the Python side agree
    copy = Path(tmp_path, "recipe")
    shutil.copytree(DEFAULT_RECIPE_DIR, copy)
    (copy / "agent" / "__pycache__").mkdir(exist_ok=True)
    (copy / "agent" / "__pycache__" / "x.pyc").write_bytes(b"ignored")
    assert image_tag(copy) == tag
    with open(copy / "packages.txt", "a") as fh:
        fh.write("python3-sympy\n")
    assert image_tag(copy) != tag


@pytest.mark.docker
def test_missing_image_is_an_infrastructure_error(docker_client, test_label):
    with pytest.raises(InfrastructureError, match="missing"):
        SandboxSession.start("mooc-sandbox:doesnotexist", TEST_LIMITS, docker_client, labels=test_label)


def test_unreachable_engine_is_an_infrastructure_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(InfrastructureError, match="unreachable"):
        docker_from_env()
    with pytest.raises(InfrastructureError):
        SandboxSession.start("mooc-sandbox:any", Limits())


@pytest.mark.docker
def test_a_container_that_cannot_start_is_an_infrastructure_error(sandbox_image, docker_client, test_label):
    # An impossible memory limit: the engine refuses or the kernel cannot start. Either way: infra.
    t0 = time.monotonic()
    with pytest.raises(InfrastructureError):
        SandboxSession.start(sandbox_image, Limits(memory_mb=6, start_timeout_s=15), docker_client, labels=test_label)
    assert time.monotonic() - t0 < 20
