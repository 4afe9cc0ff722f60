"""Settings of the load benchmark's gunicorn (bench/load.py): production's, served on 127.0.0.1 over plain HTTP,
plus one minimal view (bench/load_urls.py) that passes through the same middleware as every page."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# No collectstatic for a benchmark: {% static %} resolves without the manifest (a dictionary lookup in production).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
