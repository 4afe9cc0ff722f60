"""gunicorn settings of the stack (`gunicorn -c python:ops.gunicorn_conf`, platform/deploy/entrypoint.sh)."""

import os


def child_exit(server, worker):
    """A gunicorn worker that exited leaves its metric files; Prometheus's multiprocess mode is told so."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
