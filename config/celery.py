"""The Celery application. Configuration comes from Django settings (CELERY_* names)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("mooc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

FILESYSTEM_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "data_folder_processed", "control_folder")


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender: Celery, **kwargs) -> None:
    """With the filesystem broker (the embedded default), make its folders: kombu reads and writes them
    but creates none. This runs once per process, when the configuration is first read, which is before
    any task is sent or received, in the web process and the worker alike; settings stay free of writes."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for name in FILESYSTEM_BROKER_FOLDERS:
        if options.get(name):
            Path(options[name]).mkdir(parents=True, exist_ok=True)
