"""The sandbox-driver interface (grading/sandbox/driver.py) on the Docker engine."""

import pytest

from grading.sandbox import DockerDriver, InfrastructureError, SandboxDriver, SandboxSession, as_driver
from tests.grading.sandbox.conftest import TEST_LIMITS

pytestmark = pytest.mark.docker


def test_the_docker_driver_implements_the_interface(docker_client):
    driver = as_driver(docker_client)
    assert isinstance(driver, DockerDriver) and isinstance(driver, SandboxDriver)
    assert as_driver(driver) is driver and driver.ping()


def test_launch_list_wait_kill_remove(docker_client, sandbox_image, test_label):
    driver = DockerDriver(docker_client)
    launched = driver.launch(sandbox_image, TEST_LIMITS, test_label)
    try:
        (listed,) = driver.list(test_label)
        assert listed.id == launched.id and listed.state == "running" and not listed.finished
        assert listed.labels["mooc.sandbox"] == "1" and int(listed.labels["mooc.created"]) > 0
        assert driver.wait(launched.id, timeout_s=0) is None  # still running
        driver.kill(launched.id)
        ended = driver.wait(launched.id, timeout_s=30)
        assert ended is not None and ended.code != 0 and not ended.oom_killed
        assert driver.list(test_label)[0].finished
        driver.kill(launched.id)  # idempotent: it is not running any more
    finally:
        launched.stream.close()
        driver.remove(launched.id)
    assert driver.list(test_label) == []
    driver.remove(launched.id)  # idempotent: gone already


def test_a_session_runs_through_a_driver(docker_client, sandbox_image, test_label):
    calls = []

    class Recording(DockerDriver):
        def remove(self, sandbox_id):
            calls.append(sandbox_id)
            super().remove(sandbox_id)

    driver = Recording(docker_client)
    with SandboxSession.start(sandbox_image, TEST_LIMITS, driver, labels=test_label) as session:
        assert session.run_cell("print(6 * 7)").outputs[0]["text"] == "42\n"
    assert calls == [session.container_id] and driver.list(test_label) == []


def test_an_unreachable_engine_is_an_infrastructure_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(InfrastructureError, match="unreachable"):
        DockerDriver()
