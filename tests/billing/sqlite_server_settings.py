"""Settings for the server process of test_sqlite_webhooks: the embedded default of `make run`
(config.settings.dev on a SQLite file from DATABASE_URL), with Celery tasks run in the web process as
they are sent, standing in for make run's worker (so event processing writes concurrently too)."""

from config.settings.dev import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}  # the test reads responses, not the log
