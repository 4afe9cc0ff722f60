from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from . import tasks_signals  # noqa: F401  (Celery signals: request id, task metrics, worker probes)
