"""Where sandbox containers run: the driver interface, and the Docker engine driver that implements it.

The session (session.py), the warm pool (pool.py) and the reaper (reaper.py) need five things from
the place that runs containers, and nothing else:

    launch(image, limits, labels) -> Launched(id, stream)   start one sandbox, its agent's channel attached
    wait(id, timeout_s)           -> ExitInfo | None         how it ended (None: still running at the timeout)
    kill(id)                                                 stop it now (idempotent)
    remove(id)                                               stop it and delete every trace of it (idempotent)
    list(labels)                  -> [SandboxInfo]           the sandboxes carrying these labels
    ping()                        -> bool                    is the engine there at all

`DockerDriver` does it with a Docker engine (DOCKER_HOST, the local socket by default). A Kubernetes
driver could do the same with one Job per submission (launch: a Job whose pod has the same limits,
`automountServiceAccountToken: false`, a NetworkPolicy denying all traffic and the channel on an attach
stream; wait/kill/remove: the Job's status and deletion; list: a label selector); it is not built here.
Every method raises InfrastructureError (never anything else) when the engine cannot do it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import docker
import requests

from .protocol import AttachedStream

ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException, OSError)


@dataclass(frozen=True)
class SandboxInfo:
    """One sandbox as the engine lists it."""

    id: str
    labels: dict = field(default_factory=dict)
    state: str = ""  # created | running | exited | dead | ... (finished: no longer in use)

    @property
    def finished(self) -> bool:
        return self.state in {"exited", "dead"}


@dataclass(frozen=True)
class ExitInfo:
    """How a sandbox ended."""

    code: int | None
    oom_killed: bool = False


@dataclass
class Launched:
    """A started sandbox and the channel to its agent (stdin/stdout)."""

    id: str
    stream: AttachedStream


@runtime_checkable
class SandboxDriver(Protocol):
    name: str

    def launch(self, image: str, limits, labels: dict) -> Launched: ...

    def wait(self, sandbox_id: str, timeout_s: float) -> ExitInfo | None: ...

    def kill(self, sandbox_id: str) -> None: ...

    def remove(self, sandbox_id: str) -> None: ...

    def list(self, labels: dict) -> list[SandboxInfo]: ...

    def ping(self) -> bool: ...


def _infrastructure_error(message: str):
    from .session import InfrastructureError

    return InfrastructureError(message)


class DockerDriver:
    """Sandboxes as containers of one Docker engine (docker.from_env(): DOCKER_HOST and the TLS variables
    work, for the remote-engine set-up described in platform/deploy/README.md)."""

    name = "docker"

    def __init__(self, client=None):
        if client is None:
            try:
                client = docker.from_env()
                client.ping()
            except ENGINE_ERRORS as exc:
                raise _infrastructure_error(f"Docker engine unreachable: {exc}") from exc
        self.client = client

    def launch(self, image: str, limits, labels: dict) -> Launched:
        from .session import container_config

        try:
            container = self.client.containers.create(**container_config(image, limits, labels))
        except docker.errors.ImageNotFound as exc:
            raise _infrastructure_error(f"sandbox image {image} is missing (build it with ensure_image)") from exc
        except ENGINE_ERRORS as exc:
            raise _infrastructure_error(f"could not create a sandbox container: {exc}") from exc
        stream = None
        try:
            sock = self.client.api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            stream = AttachedStream(sock)
            container.start()
        except ENGINE_ERRORS as exc:
            detail = stream.stderr_tail()[-2000:] if stream is not None else ""
            if stream is not None:
                stream.close()
            self.remove(container.id)
            raise _infrastructure_error(f"sandbox failed to start: {exc!r} {detail}".strip()) from exc
        except BaseException:
            if stream is not None:
                stream.close()
            self.remove(container.id)
            raise
        return Launched(id=container.id, stream=stream)

    def wait(self, sandbox_id: str, timeout_s: float) -> ExitInfo | None:
        if timeout_s > 0:
            try:
                self.client.api.wait(sandbox_id, timeout=timeout_s)
            except requests.exceptions.ConnectionError:  # the read timed out: still running
                return None
            except docker.errors.NotFound:
                return ExitInfo(code=None)
            except ENGINE_ERRORS as exc:
                raise _infrastructure_error(f"could not wait for sandbox {sandbox_id[:12]}: {exc}") from exc
        try:
            state = self.client.api.inspect_container(sandbox_id).get("State", {})
        except docker.errors.NotFound:
            return ExitInfo(code=None)
        except ENGINE_ERRORS as exc:
            raise _infrastructure_error(f"could not inspect sandbox {sandbox_id[:12]}: {exc}") from exc
        if state.get("Running"):
            return None
        return ExitInfo(code=state.get("ExitCode"), oom_killed=bool(state.get("OOMKilled")))

    def kill(self, sandbox_id: str) -> None:
        try:
            self.client.api.kill(sandbox_id)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: not running, which is what was asked
                raise _infrastructure_error(f"could not kill sandbox {sandbox_id[:12]}: {exc}") from exc
        except ENGINE_ERRORS as exc:
            raise _infrastructure_error(f"could not kill sandbox {sandbox_id[:12]}: {exc}") from exc

    def remove(self, sandbox_id: str) -> None:
        # Twice: under load the engine may time out or still be removing; then at least stop it, and the
        # reaper removes exited containers on its next run. Never raises: it runs on every error path.
        import time

        for attempt in range(2):
            try:
                self.client.api.remove_container(sandbox_id, force=True)
                return
            except docker.errors.NotFound:
                return
            except ENGINE_ERRORS:
                if attempt == 0:
                    time.sleep(0.2)
        try:
            self.client.api.kill(sandbox_id)
        except ENGINE_ERRORS:
            pass

    def list(self, labels: dict) -> list[SandboxInfo]:
        filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
        try:
            containers = self.client.api.containers(all=True, filters=filters)
        except ENGINE_ERRORS as exc:
            raise _infrastructure_error(f"Docker engine unreachable: {exc}") from exc
        return [SandboxInfo(id=c["Id"], labels=c.get("Labels") or {}, state=c.get("State", "")) for c in containers]

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except ENGINE_ERRORS:
            return False


def as_driver(engine=None) -> SandboxDriver:
    """A driver from what callers pass: None (the engine from the environment), a driver, or a
    docker-py client (kept so existing callers and tests go on passing `docker_client`)."""
    if engine is None:
        return DockerDriver()
    if isinstance(engine, SandboxDriver):
        return engine
    return DockerDriver(engine)
