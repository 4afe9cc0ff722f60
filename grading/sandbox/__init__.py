"""The grading sandbox: run a learner's notebook in a throw-away container, ask it for plain data.

Pure Python on top of the Docker SDK; no Django here (settings come in as arguments).

    from grading.sandbox import (Limits, SandboxSession, SandboxPool, InfrastructureError,
                                 image_tag, ensure_image, reap_stale_containers)

    tag = ensure_image()                       # builds platform/sandbox if the tag is missing
    limits = Limits(memory_mb=512, pids=128, cpus=1.0, cell_timeout_s=30, total_timeout_s=120,
                    output_bytes=1_000_000, tmpfs_mb=64, answer_bytes=16_000_000)
    with SandboxSession.start(image=tag, limits=limits) as s:      # or: with pool.acquire() as s:
        r = s.run_cell("x = 1\\nprint(x)")     # CellResult(status, outputs, truncated, ename, ...)
        a = s.fetch("x + 1")                   # Answer(ok=True, value=2)
        a = s.call("squares", args=[3])        # the learner's function, plain data in and out
        s.status, s.flags                      # 'ok' | 'timeout' | 'memory' | 'died' | 'protocol_violation'

Results
  CellResult.status: 'ok', 'error' (the cell raised; ename/evalue/traceback), 'timeout' (interrupted
  after Limits.cell_timeout_s), 'died' (kernel or container died), 'skipped' (the session had
  already ended, nothing ran). outputs are nbformat v4 output dicts, at most Limits.output_bytes
  per cell (JSON-encoded size; error outputs are kept, each capped at 64 KiB), with truncated=True
  and a closing "[grader] output truncated" note when cut.
  Answer(ok, value, error, output, duration_s): error is the learner's exception as
  "TypeError: ..."; or a transfer problem, always starting "cannot transfer" ("cannot transfer Foo",
  "cannot transfer: answer larger than N bytes", "cannot transfer: nesting deeper than 64 levels",
  "cannot transfer: malformed answer"); or "timeout: ..." / "kernel died (...)" / "session ended (...)".
  Values: None, bool, int, float (NaN/inf), str, list, tuple, dict with str keys, numpy arrays
  (no object or structured dtypes) and scalars, pandas DataFrame/Series as DataFrameData /
  SeriesData. Nothing else crosses; nothing is unpickled or evaluated on the host.
  Session status: stays 'ok' while the session is usable; otherwise it names why it ended:
  'timeout' (total time used up, or a cell's kernel did not recover from the interrupt),
  'memory' (the kernel was OOM-killed), 'died' (kernel exited or crashed: os._exit, segfault),
  'protocol_violation' (garbage on the channel). flags collects every event seen, including
  'output_truncated', 'timeout' for a recovered per-cell timeout, 'kernel_wedged',
  'total_timeout', 'agent_unresponsive' and 'memory' for a MemoryError the kernel survived.
  After the kernel dies the session ends: the kernel is NOT restarted (the notebook's state is
  gone, later cells would fail confusingly); later calls return 'skipped' / Answer(ok=False).

Errors
  InfrastructureError: the engine is unreachable, the image is missing, or a container or its
  kernel failed to start. Retry the task. Nothing the learner's code does raises it.
  TransferError (ValueError): arguments given to call() cannot be sent (a grader bug).

Drivers (driver.py)
  Where containers run is behind SandboxDriver: launch, wait, kill, remove, list (and ping).
  DockerDriver implements it on a Docker engine; every `docker_client=` parameter also takes a
  driver. A Kubernetes Job driver could implement the same five calls (not built; see driver.py).

Pool, reaper, image
  SandboxPool(image, limits, size=N, docker_client=None, max_age_s=600): keeps N containers with
  their kernel up; acquire() hands each out exactly once (cold start if empty); close() removes the
  idle ones. reap_stale_containers(client, older_than_s) force-removes labelled containers older
  than the threshold and returns the count. image_tag(recipe_dir) / ensure_image(recipe_dir, force).
  docker.from_env() is used when no client is given, so DOCKER_HOST and the TLS variables work.

Trust model (why this is safe even though the learner's code shares the kernel with our helpers)
  The container holds nothing secret: no expected values, no hidden tests, no pass/fail decision,
  no host environment. The trusted side only sends code cells, expressions and plain-data
  arguments, and receives plain data that it decodes with its own strict, capped decoder
  (transfer.py) before comparing outside. Learner code can tamper with the in-kernel encoder, and a
  sufficiently clever same-uid process might even forge agent frames (the agent is non-dumpable
  and keeps the channel on private descriptors, and frames carry a per-session nonce, but these are
  defence in depth); the worst it can achieve is to hand the grader some plain data of its choosing,
  which returning that value from a function achieves anyway. It cannot reach the host: no
  network (network_mode=none), read-only root, unprivileged uid 1000, no capabilities,
  no-new-privileges, memory/pids/CPU limits, small noexec tmpfs, capped channel and log.

Container
  One container per session, removed (force) when the session closes or ends on any error path.
  Labels mooc.sandbox=1 and mooc.created=<epoch> let reap_stale_containers find strays.
"""

from .driver import DockerDriver, ExitInfo, Launched, SandboxDriver, SandboxInfo, as_driver
from .image import DEFAULT_RECIPE_DIR, ensure_image, image_tag, recipe_hash
from .pool import SandboxPool
from .reaper import reap_stale_containers
from .session import Answer, CellResult, InfrastructureError, Limits, SandboxSession, container_config
from .transfer import DataFrameData, SeriesData, TransferError

__all__ = [
    "DEFAULT_RECIPE_DIR",
    "Answer",
    "CellResult",
    "DataFrameData",
    "DockerDriver",
    "ExitInfo",
    "InfrastructureError",
    "Launched",
    "Limits",
    "SandboxDriver",
    "SandboxInfo",
    "SandboxPool",
    "SandboxSession",
    "SeriesData",
    "TransferError",
    "as_driver",
    "container_config",
    "ensure_image",
    "image_tag",
    "reap_stale_containers",
    "recipe_hash",
]
