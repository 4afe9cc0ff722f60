"""Test settings: real PostgreSQL and Redis on this machine (see README), fast hashing, locmem e-mail."""

import os

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/mooc")}
# Each pytest-xdist worker gets its own Redis database (the URL's number plus the worker's), because
# clearing a cache flushes its whole database.
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_redis_base, _redis_db = env("REDIS_URL", default="redis://127.0.0.1:6379/1").rsplit("/", 1)
REDIS_URL = f"{_redis_base}/{(int(_redis_db or 0) + _worker) % 16}"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Nothing is collected in tests (the live server serves static files from the finders), so WhiteNoise
# gets no STATIC_ROOT to index, rather than warn about a folder nobody made.
STATIC_ROOT = None
# Tests raise rate limits they do not test, so parallel workers do not trip over each other.
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/key"}

# Browser tests run a real Celery worker on Redis; each xdist worker has its own broker database.
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default=f"{_redis_base}/{15 - _worker % 8}")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": GRADING_TASK_TIME_LIMIT + 300}  # noqa: F405 - as in base
SANDBOX_WARM_POOL_SIZE = env.int("SANDBOX_WARM_POOL_SIZE", default=0)

# Stripe: nothing leaves this machine. A test that wants a Stripe-compatible server starts localstripe
# (tests/conftest.py `stripe_local`); everywhere else a call is refused at once by a closed loopback port.
STRIPE_API_BASE = env("TEST_STRIPE_API_BASE", default="http://127.0.0.1:9")
# ... and at once: no retry pauses against the closed port (localstripe on loopback needs none either).
STRIPE_MAX_NETWORK_RETRIES = env.int("TEST_STRIPE_MAX_NETWORK_RETRIES", default=0)
