"""Local development: `make run`. SQLite and the filesystem broker unless env vars say otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# E-mails from every process (the web server, the worker delivering queued mail) land in one file that
# `make run` shows in its terminal (platform/scripts/run-dev.sh). EMAIL_BACKEND from the environment wins.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="config.dev_mail.TerminalEmailBackend")
DEV_MAIL_LOG = env("DEV_MAIL_LOG", default=str(VAR_DIR / "log" / "mail.log"))  # noqa: F405
