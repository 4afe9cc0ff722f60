"""One sandbox container running one learner's kernel, driven from the trusted side.

See the package docstring (grading/sandbox/__init__.py) for the API and the security reasoning.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import docker
import requests

from .protocol import AttachedStream, ChannelClosed, ChannelTimeout, ProtocolViolation, encode_frame
from .transfer import TransferError, decode_value, encode_args

# What talking to the engine can raise (HTTP errors, connection errors, a vanished socket).
ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException, OSError)

LABEL = "mooc.sandbox"
LABEL_CREATED = "mooc.created"
HOME = "/home/learner"
STATE = "/tmp/.mooc"  # noqa: S108 - inside the container: where the agent keeps kernel state
# Slack on top of the agent's own timeouts before the host gives up on the agent itself.
HOST_SLACK_S = 10.0
ERROR_OUTPUT_SLACK = 512 * 1024

CELL_STATUSES = ("ok", "error", "timeout", "died", "skipped")
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")


class InfrastructureError(Exception):
    """The sandbox could not be provided (engine down, image missing, container failed to start).

    Never raised for anything the learner's code does; a Celery task should retry on it.
    """


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox session (all per container)."""

    memory_mb: int = 512  # RAM for everything in the container, tmpfs pages included; no swap
    pids: int = 128  # processes + threads
    cpus: float = 1.0
    cell_timeout_s: float = 30.0  # wall clock per cell, and per fetch/call
    total_timeout_s: float = 120.0  # wall clock for the whole session, from start/acquire
    output_bytes: int = 1_000_000  # per cell, JSON-encoded size of its outputs (errors kept apart)
    tmpfs_mb: int = 64  # size of each of /tmp and the home directory (and /dev/shm)
    answer_bytes: int = 16_000_000  # one fetch/call answer, JSON + array bytes
    answer_depth: int = 64  # nesting depth of an answer
    start_timeout_s: float = 60.0  # container start + kernel ready
    interrupt_grace_s: float = 3.0  # after a timeout's interrupt, before the kernel is "wedged"

    def as_agent_limits(self) -> dict:
        return {
            "cpus": self.cpus,
            "output_bytes": self.output_bytes,
            "answer_bytes": self.answer_bytes,
            "answer_depth": self.answer_depth,
            "start_timeout_s": self.start_timeout_s,
            "interrupt_grace_s": self.interrupt_grace_s,
        }


@dataclass
class CellResult:
    """What running one cell produced.

    status: 'ok'; 'error' (the cell raised, see ename/evalue/traceback); 'timeout' (interrupted
    after the cell timeout; if the kernel did not recover the session has ended); 'died' (the
    kernel or container died, e.g. out of memory: see the session's status/flags); 'skipped' (not
    run because the session had already ended).
    outputs: nbformat v4 output dicts, capped at Limits.output_bytes (truncated=True when cut).
    """

    status: str
    outputs: list = field(default_factory=list)
    truncated: bool = False
    ename: str | None = None
    evalue: str | None = None
    traceback: list = field(default_factory=list)
    duration_s: float = 0.0
    execution_count: int | None = None


@dataclass
class Answer:
    """A value fetched from the learner's kernel, decoded on the host.

    ok=False with error set when the learner's code raised ("TypeError: ..."), the value cannot be
    transferred, is too big or too deep (always starting "cannot transfer"), or the session failed
    ("timeout: ...", "kernel died"). output is what the learner's code printed meanwhile (capped).
    """

    ok: bool
    value: Any = None
    error: str | None = None
    output: str = ""
    duration_s: float = 0.0


def docker_from_env():
    """docker.from_env() (honours DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH); for image builds
    and tools. Containers are started, listed and removed through a driver (driver.py)."""
    try:
        client = docker.from_env()
        client.ping()
        return client
    except ENGINE_ERRORS as exc:
        raise InfrastructureError(f"Docker engine unreachable: {exc}") from exc


def container_config(image: str, limits: Limits, labels: dict | None = None) -> dict:
    """Keyword arguments for ``client.containers.create`` (exposed for inspection and tests)."""
    tmpfs_opts = f"rw,noexec,nosuid,nodev,size={int(limits.tmpfs_mb)}m"
    all_labels = {LABEL: "1", LABEL_CREATED: str(int(time.time()))}
    all_labels.update(labels or {})
    return {
        "image": image,
        # detach=False is what makes docker-py set StdinOnce: when our attach socket closes (worker
        # killed), the agent reads EOF and the container stops by itself.
        "detach": False,
        "stdin_open": True,
        "tty": False,
        "network_mode": "none",
        "mem_limit": f"{int(limits.memory_mb)}m",
        "memswap_limit": f"{int(limits.memory_mb)}m",
        "pids_limit": int(limits.pids),
        "nano_cpus": int(limits.cpus * 1e9),
        "read_only": True,
        # uid/gid: docker keeps the image directory's mode, but the tmpfs root would be root-owned.
        "tmpfs": {"/tmp": tmpfs_opts + ",mode=1777", HOME: tmpfs_opts + ",uid=1000,gid=1000"},  # noqa: S108
        "shm_size": f"{int(limits.tmpfs_mb)}m",
        "user": "1000:1000",
        "working_dir": HOME,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "ulimits": [docker.types.Ulimit(name="core", soft=0, hard=0)],
        "log_config": docker.types.LogConfig(type="none"),
        "hostname": "sandbox",
        # Otherwise docker copies the host's resolv.conf in; the name server would be unreachable
        # anyway, but the container should not even learn its address.
        "dns": ["127.0.0.1"],
        "environment": {
            "HOME": HOME,
            "LANG": "C.UTF-8",
            "IPYTHONDIR": f"{STATE}/ipython",
            "JUPYTER_RUNTIME_DIR": f"{STATE}/runtime",
            "MPLCONFIGDIR": f"{STATE}/mpl",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        "labels": all_labels,
    }


class SandboxSession:
    """A started container with a ready kernel. Use :meth:`start` or ``SandboxPool.acquire()``."""

    def __init__(self, *, driver, container_id: str, stream: AttachedStream, nonce: str, limits: Limits, image: str):
        self._driver = driver
        self._stream = stream
        self._nonce = nonce
        self.limits = limits
        self.image = image
        self.container_id: str = container_id
        self.status = "ok"
        self.flags: set[str] = set()
        self.created_monotonic = time.monotonic()
        self.start_s: float | None = None  # create -> kernel ready
        self._deadline: float | None = None
        self._closed = False

    # -- life cycle -------------------------------------------------------------------------------
    @classmethod
    def start(cls, image: str, limits: Limits | None = None, docker_client=None, *, labels: dict | None = None):
        """Start a fresh container and kernel; the total-time clock starts when this returns."""
        session = cls.launch(image, limits or Limits(), docker_client, labels=labels)
        session.begin()
        return session

    @classmethod
    def launch(cls, image: str, limits: Limits, docker_client=None, *, labels: dict | None = None):
        """Start a container and wait until its kernel is ready; the clock is not started yet.

        `docker_client`: a sandbox driver (driver.py), a docker-py client, or None for the engine
        of the environment."""
        from .driver import as_driver

        driver = as_driver(docker_client)
        t0 = time.monotonic()
        launched = driver.launch(image, limits, labels or {})
        stream = launched.stream
        try:
            session = cls(
                driver=driver,
                container_id=launched.id,
                stream=stream,
                nonce=secrets.token_hex(16),
                limits=limits,
                image=image,
            )
            deadline = time.monotonic() + limits.start_timeout_s
            stream.send(encode_frame(session._nonce, {"op": "hello", "limits": limits.as_agent_limits()}), deadline)
            reply, _ = stream.read_frame(session._nonce, 1 << 16, deadline)
            if reply.get("ok") is not True:
                raise InfrastructureError(f"sandbox agent failed to start: {reply.get('error')}")
        except BaseException as exc:
            detail = stream.stderr_tail()[-2000:]
            stream.close()
            driver.remove(launched.id)
            if isinstance(exc, InfrastructureError):
                raise
            if isinstance(exc, (Exception,)):
                raise InfrastructureError(f"sandbox failed to start: {exc!r} {detail}".strip()) from exc
            raise
        session.start_s = time.monotonic() - t0
        return session

    def begin(self) -> None:
        """Start the total-time clock (done by start() and by the pool on acquire)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.limits.total_timeout_s

    @property
    def alive(self) -> bool:
        return not self._closed and self.status == "ok"

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.created_monotonic

    def close(self) -> None:
        """Remove the container (idempotent). The socket is closed first, then the container killed."""
        if self._closed:
            return
        self._closed = True
        self._stream.close()
        self._driver.remove(self.container_id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):  # last resort; the reaper covers a crashed process
        try:
            if not self._closed:
                self.close()
        except ENGINE_ERRORS:
            pass

    # -- internals --------------------------------------------------------------------------------
    def _end(self, status: str, *flags: str) -> None:
        if self.status == "ok":
            self.status = status
        self.flags.add(status)
        self.flags.update(flags)
        self.close()

    def _remaining(self) -> float:
        self.begin()
        return self._deadline - time.monotonic()

    def _died_status(self) -> str:
        try:
            ended = self._driver.wait(self.container_id, timeout_s=2.0)
        except InfrastructureError:
            return "died"
        return "memory" if ended is not None and ended.oom_killed else "died"

    def _request(self, obj: dict, *, timeout_s: float, max_bytes: int):
        """Send one request and read its reply; None when the session ended on the way."""
        deadline = time.monotonic() + timeout_s
        try:
            if self._stream.pending_stdout():
                raise ProtocolViolation("unsolicited bytes on the channel")
            self._stream.send(encode_frame(self._nonce, obj), deadline)
            return self._stream.read_frame(self._nonce, max_bytes, deadline)
        except ProtocolViolation:
            self._end("protocol_violation")
        except ChannelTimeout:
            self._end("timeout", "agent_unresponsive")
        except ChannelClosed:
            self._end(self._died_status())
        return None

    def _after_kernel_report(self, reply: dict) -> None:
        kernel = reply.get("kernel")
        if kernel == "wedged":
            self._end("timeout", "kernel_wedged")
        elif kernel == "dead" or reply.get("status") == "died":
            self._end("memory" if reply.get("oom") is True else self._died_status())

    def _precheck(self) -> float | None:
        if not self.alive:
            return None
        remaining = self._remaining()
        if remaining <= 0:
            self._end("timeout", "total_timeout")
            return None
        return min(self.limits.cell_timeout_s, remaining)

    # -- operations -------------------------------------------------------------------------------
    def ping(self, timeout_s: float = 5.0) -> bool:
        """True if the agent answers and the kernel is alive (used by the pool before handing out)."""
        if not self.alive:
            return False
        reply = self._request({"op": "ping"}, timeout_s=timeout_s, max_bytes=1 << 12)
        return bool(reply) and reply[0].get("kernel") == "alive"

    def run_cell(self, code: str) -> CellResult:
        """Execute one code cell in the learner's kernel."""
        timeout = self._precheck()
        if timeout is None:
            return CellResult(status="skipped")
        if not isinstance(code, str):
            raise TypeError("code must be str")
        t0 = time.monotonic()
        reply = self._request(
            {"op": "run", "code": code, "timeout_s": timeout, "output_bytes": self.limits.output_bytes},
            timeout_s=timeout + self.limits.interrupt_grace_s + HOST_SLACK_S,
            max_bytes=self.limits.output_bytes + ERROR_OUTPUT_SLACK,
        )
        if reply is None:
            return CellResult(
                status="timeout" if self.status == "timeout" else "died", duration_s=time.monotonic() - t0
            )
        body = reply[0]
        try:
            result = _parse_cell_result(body)
        except ValueError:
            self._end("protocol_violation")
            return CellResult(status="died", duration_s=time.monotonic() - t0)
        if result.truncated:
            self.flags.add("output_truncated")
        if result.status == "timeout":
            self.flags.add("timeout")
        if result.ename == "MemoryError":
            self.flags.add("memory")
        self._after_kernel_report(body)
        if result.status == "died" and self.status == "memory":
            result.ename, result.evalue = result.ename or "MemoryError", result.evalue or "out of memory"
        return result

    def fetch(self, expr: str) -> Answer:
        """Evaluate a Python expression in the learner's namespace and return its value as plain data."""
        return self._value_op({"op": "fetch", "expr": str(expr)})

    def call(self, name: str, args=(), kwargs: dict | None = None) -> Answer:
        """Call the learner's top-level function ``name`` with plain-data arguments.

        Raises TransferError (a ValueError) when the arguments themselves cannot be sent.
        """
        args_json, blobs = encode_args(
            args, kwargs or {}, max_depth=self.limits.answer_depth, max_bytes=self.limits.answer_bytes
        )
        return self._value_op({"op": "call", "name": str(name), "args_json": args_json, "blobs_b64": blobs})

    def _value_op(self, req: dict) -> Answer:
        timeout = self._precheck()
        if timeout is None:
            return Answer(ok=False, error=f"session ended ({self.status})")
        t0 = time.monotonic()
        req.update(timeout_s=timeout, answer_bytes=self.limits.answer_bytes, depth=self.limits.answer_depth)
        reply = self._request(
            req,
            timeout_s=timeout + self.limits.interrupt_grace_s + HOST_SLACK_S,
            max_bytes=2 * self.limits.answer_bytes + ERROR_OUTPUT_SLACK,
        )
        if reply is None:
            return Answer(ok=False, error=f"session ended ({self.status})", duration_s=time.monotonic() - t0)
        body, blob = reply
        duration = time.monotonic() - t0
        status = body.get("status")
        output = body.get("output") if isinstance(body.get("output"), str) else ""
        if status == "timeout":
            self.flags.add("timeout")
        self._after_kernel_report(body)
        if status == "timeout":
            error = f"timeout: no result within {timeout:.0f}s"
            return Answer(ok=False, error=error, output=output, duration_s=duration)
        if status == "died" or body.get("kernel") in ("dead", "wedged"):
            return Answer(ok=False, error=f"kernel died ({self.status})", output=output, duration_s=duration)
        if body.get("answer_ok") is not True:
            error = body.get("error")
            if not isinstance(error, str):
                error = "no answer" if "error" not in body else "malformed error"
            return Answer(ok=False, error=error[:4096], output=output, duration_s=duration)
        sizes = body.get("blobs", [])
        if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes) or sum(sizes) != len(blob):
            self._end("protocol_violation")
            return Answer(ok=False, error="malformed answer", output=output, duration_s=duration)
        parts, pos = [], 0
        for n in sizes:
            parts.append(blob[pos : pos + n])
            pos += n
        try:
            value = decode_value(
                body.get("value_json"), parts, max_depth=self.limits.answer_depth, max_bytes=self.limits.answer_bytes
            )
        except TransferError as exc:
            # One prefix for every "exists but is not plain data" outcome, whichever side found it.
            error = str(exc) if str(exc).startswith("cannot transfer") else f"cannot transfer: {exc}"
            return Answer(ok=False, error=error, output=output, duration_s=duration)
        return Answer(ok=True, value=value, output=output, duration_s=duration)


def _parse_cell_result(body: dict) -> CellResult:
    """Check the agent's reply shape (it runs inside the container, so it is not trusted)."""
    status = body.get("status")
    outputs = body.get("outputs", [])
    if status not in CELL_STATUSES or not isinstance(outputs, list):
        raise ValueError("bad reply")
    for out in outputs:
        if not isinstance(out, dict) or out.get("output_type") not in OUTPUT_TYPES:
            raise ValueError("bad output")
        kind = out["output_type"]
        if kind == "stream" and not (out.get("name") in ("stdout", "stderr") and isinstance(out.get("text"), str)):
            raise ValueError("bad stream")
        if kind in ("display_data", "execute_result") and not isinstance(out.get("data"), dict):
            raise ValueError("bad display")
        if kind == "error" and not (
            isinstance(out.get("ename"), str)
            and isinstance(out.get("evalue"), str)
            and isinstance(out.get("traceback"), list)
        ):
            raise ValueError("bad error")
    ename, evalue, tb = body.get("ename"), body.get("evalue"), body.get("traceback") or []
    if not (ename is None or isinstance(ename, str)) or not (evalue is None or isinstance(evalue, str)):
        raise ValueError("bad error fields")
    if not isinstance(tb, list) or not all(isinstance(x, str) for x in tb):
        raise ValueError("bad traceback")
    duration = body.get("duration_s", 0.0)
    count = body.get("execution_count")
    return CellResult(
        status=status,
        outputs=outputs,
        truncated=body.get("truncated") is True,
        ename=ename,
        evalue=evalue,
        traceback=tb,
        duration_s=float(duration) if isinstance(duration, (int, float)) else 0.0,
        execution_count=count if type(count) is int else None,
    )
