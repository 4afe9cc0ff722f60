"""Local development: `make run`. SQLite and the filesystem broker unless env vars say otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
