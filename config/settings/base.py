"""Settings shared by every environment. Everything that differs between machines is an env var."""

from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local state of the embedded default: SQLite, broker folders, media, submissions. Importing settings
# creates none of it: `make setup` makes this folder, Celery its broker folders (config/celery.py),
# collectstatic STATIC_ROOT, the storages their own subfolders.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# The django.contrib.sites row (SITE_ID) follows these on every `migrate` (accounts/sites.py): allauth
# names the site and its domain in e-mails from them.
SITE_DOMAIN = env("SITE_DOMAIN", default=urlsplit(SITE_URL).netloc or "127.0.0.1:8000")
SITE_NAME = env("SITE_NAME", default="Deep Learning Specialization")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "django.contrib.postgres",  # full-text search and trigram similarity (forums); inert on SQLite
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, pinned from PyPI: the docs page loads nothing from a CDN
    "allauth",
    "allauth.account",
    # Top to bottom, the layers of the import-linter contracts (pyproject.toml): an app imports only
    # apps below it, and only through their api.py.
    "restapi",
    "courseware",
    "forums",
    "grading",
    "quizzes",
    "certificates",
    "access",
    "billing",
    "courses",
    "notifications",
    "accounts",
    # After our apps, so restapi's templates (the OAuth2 consent page) replace the toolkit's own.
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "courses.context_processors.site",
                "notifications.context_processors.bell",
            ],
        },
    },
]

# Embedded default: SQLite, so `make run` needs no server. DATABASE_URL switches to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers at once (the web server's threads, the Celery worker, Stripe's webhooks arriving
    # together): WAL lets readers and one writer work side by side; IMMEDIATE makes every transaction
    # take the write lock when it begins, so a writer waits its turn (up to `timeout` seconds) instead
    # of failing at once with "database is locked" when a read-then-write transaction cannot upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=30),
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "courses:catalog"

# django-allauth: e-mail log-in, mandatory verification, rate-limited attempts.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# The full name is asked at sign-up (it is printed on certificates): accounts.forms.SignupForm.
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
# Rate limits count per client IP. Behind proxies, REMOTE_ADDR is the nearest proxy's: set how many
# proxies in front of Django append to X-Forwarded-For (nginx alone: 1; a TLS proxy, then nginx: 2), or
# one attacker's failed log-ins lock everyone out. 0 (the default) ignores the header: right with no proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Deep Learning] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")


def _mail_host(domain: str) -> str:
    """The site's host name for a From address; 'localhost' for an IP address or a bare name (dev)."""
    host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    is_ip = host.replace(".", "").isdigit() or ":" in host
    return host if "." in host and not is_ip else "localhost"


DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <no-reply@{_mail_host(SITE_DOMAIN)}>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))  # made by collectstatic
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Protected media (lecture videos). With X-Accel-Redirect nginx streams the file after Django
# has asked the access policy; without it Django streams the file itself, with range support.
MEDIA_X_ACCEL_REDIRECT = env.bool("MEDIA_X_ACCEL_REDIRECT", default=False)
MEDIA_X_ACCEL_PREFIX = env("MEDIA_X_ACCEL_PREFIX", default="/protected-media/")

# Celery. Embedded default: a filesystem broker, so `make run` needs no server.
# CELERY_BROKER_URL=redis://127.0.0.1:6379/0 switches to Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folders are made when the Celery app is configured (config/celery.py), in whichever process
    # sends or receives: kombu's filesystem transport expects them to exist.
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        # Broadcasts (the control/pidbox exchange); kombu's default is ./control in the working dir.
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
# Grading runs on its own queue; a worker takes one task at a time and acknowledges it only when done,
# so a killed worker's submission goes back to the queue.
CELERY_TASK_ROUTES = {"grading.tasks.*": {"queue": "grading"}}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULE = {
    "reap-sandboxes": {"task": "grading.tasks.reap_sandboxes", "schedule": 300.0},
    "notify-course-releases": {"task": "courses.tasks.notify_course_releases", "schedule": 3600.0},
    "notify-week-openings": {"task": "courses.tasks.notify_week_openings", "schedule": 3600.0},
    "requeue-stale-submissions": {"task": "grading.tasks.requeue_stale_submissions", "schedule": 120.0},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# The REST API (/api/v1/, restapi/): personal tokens, OAuth2 tokens or the session; every answer and
# error in JSON; rate limits per token and per user in the cache (Redis). restapi/docs/decisions/0001-*.md.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "restapi.authentication.PersonalAccessTokenAuthentication",
        "restapi.authentication.OAuthTokenAuthentication",
        "restapi.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["restapi.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["restapi.throttling.ScopedRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "restapi.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "restapi.schema.AutoSchema",
    "URL_FORMAT_OVERRIDE": None,
}
# Per scope: a limit for each token and one for the user (all their tokens and their browser together);
# visitors without credentials are counted per address.


def _rates(scope: str, user: str, token: str) -> dict[str, str]:
    upper = scope.upper()
    return {"user": env(f"API_RATE_{upper}_USER", default=user), "token": env(f"API_RATE_{upper}_TOKEN", default=token)}


API_THROTTLE_RATES = {
    "anon": env("API_RATE_ANON", default="120/min"),
    "read": _rates("read", "600/min", "300/min"),
    "write": _rates("write", "120/min", "60/min"),
    "submissions": _rates("submissions", "10/min", "5/min"),
    "posts": _rates("posts", "20/min", "10/min"),
}
# A retried POST with the same Idempotency-Key gets the first answer for this long.
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=24)
# A first request still running after this long is taken to have died; a retry then runs it again.
API_IDEMPOTENCY_LOCK_SECONDS = env.int("API_IDEMPOTENCY_LOCK_SECONDS", default=60)

SPECTACULAR_SETTINGS = {
    "TITLE": "Deep Learning platform API",
    "DESCRIPTION": (
        "The course platform's REST API: catalog, enrollments and progress, notebook submissions and their "
        "feedback, grades, certificates, forums, peer review and events.\n\n"
        "Authenticate with a personal access token (`Authorization: Bearer dlpat_…`, made on your profile's "
        "token page), an OAuth2 access token, or the site's session. Every error has one JSON shape (`Error`); "
        "long lists are cursor-paginated (`next`, and the `Link` header); POSTs that create submissions or posts "
        "take an `Idempotency-Key`; every answer carries `RateLimit-*` headers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "displayOperationId": False},
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "restapi.schema.postprocess"],
    "DISABLE_ERRORS_AND_WARNINGS": False,
}

# OAuth2 for integrations (django-oauth-toolkit): authorization code with PKCE, client credentials.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "read": "See your courses, progress, submissions, grades and certificates",
        "write": "Submit work, post in the forums and record progress for you",
    },
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_ACCESS_TOKEN_EXPIRE_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_REFRESH_TOKEN_EXPIRE_SECONDS", default=30 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list("OAUTH2_REDIRECT_URI_SCHEMES", default=["https", "http"]),
}

# Grading. Submitted notebooks are stored here by content hash, never served directly.
SUBMISSIONS_ROOT = Path(env("SUBMISSIONS_ROOT", default=str(VAR_DIR / "submissions")))
# The sandbox image recipe; the image tag is a hash of it (python manage.py build_sandbox_image).
SANDBOX_RECIPE_DIR = BASE_DIR / "platform" / "sandbox"
# Containers started ahead of demand by each grading worker process (0: start one per submission).
SANDBOX_WARM_POOL_SIZE = env.int("SANDBOX_WARM_POOL_SIZE", default=1)
SANDBOX_PIDS_LIMIT = env.int("SANDBOX_PIDS_LIMIT", default=128)
SANDBOX_CPUS = env.float("SANDBOX_CPUS", default=1.0)
SANDBOX_TMPFS_MB = env.int("SANDBOX_TMPFS_MB", default=64)
SANDBOX_OUTPUT_BYTES = env.int("SANDBOX_OUTPUT_BYTES", default=1_000_000)
# Stray sandbox containers older than this are removed by the reaper (Celery beat).
# Older than a warm container may wait (600 s) plus the longest grading (600 s): never one still in use.
SANDBOX_REAP_AFTER_SECONDS = env.int("SANDBOX_REAP_AFTER_SECONDS", default=1800)

# A lecture counts as watched when this share of it has been played.
LECTURE_COMPLETE_FRACTION = 0.9

# Notifications: e-mails go out through an outbox (notifications/docs/decisions/0001-outbox.md). A claimed
# e-mail not finished within the lease is sent again; after this many attempts it is marked failed (admin).
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=300)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=60)
# A slow mail server must not hold a claimed batch past its lease (Django's default is no timeout).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# Quizzes: answers sent this many seconds after a time limit are still accepted (network latency).
QUIZ_SUBMIT_GRACE_SECONDS = env.int("QUIZ_SUBMIT_GRACE_SECONDS", default=15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"stripe": {"level": "WARNING"}},  # the SDK logs every request at INFO
}

# Billing (Stripe). With STRIPE_API_BASE on a loopback address (the default for development: the
# localstripe that `make run` starts) the local test-card page replaces Stripe Checkout and the
# Customer Portal; with a real key and no STRIPE_API_BASE everything goes to Stripe itself.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_localstripe")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
BILLING_PAST_DUE_GRACE_DAYS = env.int("BILLING_PAST_DUE_GRACE_DAYS", default=7)
BILLING_AUTO_REFUND_HOURS = env.int("BILLING_AUTO_REFUND_HOURS", default=48)
BILLING_END_ON_SPECIALIZATION_COMPLETE = env.bool("BILLING_END_ON_SPECIALIZATION_COMPLETE", default=True)
BILLING_STAFF_EMAILS = env.list("BILLING_STAFF_EMAILS", default=[])
# The nightly reconciliation re-reads each customer's invoices of this many days (a monthly cycle and
# its payment retries), and re-queues at most BATCH unprocessed webhook events a run, oldest first;
# events older than MAX_AGE_DAYS are left for staff (admin: Billing → Webhook events).
BILLING_RECONCILE_DAYS = env.int("BILLING_RECONCILE_DAYS", default=40)
BILLING_WEBHOOK_REQUEUE_BATCH = env.int("BILLING_WEBHOOK_REQUEUE_BATCH", default=500)
BILLING_WEBHOOK_REQUEUE_MAX_AGE_DAYS = env.int("BILLING_WEBHOOK_REQUEUE_MAX_AGE_DAYS", default=7)
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE |= {  # merged with the grading entries above
    "billing-reconcile-nightly": {
        "task": "billing.tasks.billing_reconcile",
        "schedule": crontab(hour=3, minute=17),  # nightly, UTC
        "options": {"expires": 6 * 60 * 60},
    },
    # The outbox sweep: e-mails whose queued task was lost, due retries, abandoned leases.
    "notifications-deliver-pending": {
        "task": "notifications.tasks.deliver_pending",
        "schedule": 60.0,
        "options": {"expires": 55},  # a backlog of sweeps while workers are down is useless
    },
    "restapi-purge-idempotency-records": {"task": "restapi.tasks.purge_idempotency_records", "schedule": 3600.0},
    "notifications-daily-digest": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=7, minute=0),  # daily, UTC
        "options": {"expires": 6 * 60 * 60},
    },
}

# Forums (forums/rules.py, forums/search.py). New members' posts are held for review until they have
# this many approved posts and an account this many days old.
FORUM_TRUST_APPROVED_POSTS = env.int("FORUM_TRUST_APPROVED_POSTS", default=2)
FORUM_TRUST_MIN_DAYS = env.int("FORUM_TRUST_MIN_DAYS", default=2)
# A post is hidden pending review after this many flags (one is enough for a pasted graded solution,
# or for a flag from a moderator).
FORUM_AUTO_HIDE_FLAGS = env.int("FORUM_AUTO_HIDE_FLAGS", default=3)
FORUM_HONOUR_CODE_HIDE_FLAGS = env.int("FORUM_HONOUR_CODE_HIDE_FLAGS", default=1)
# Per member, per rolling window: (how many, seconds). Moderators are not limited.
FORUM_RATE_LIMITS = {
    "thread": (env.int("FORUM_THREADS_PER_HOUR", default=6), 3600),
    "post": (env.int("FORUM_POSTS_PER_HOUR", default=40), 3600),
    "flag": (env.int("FORUM_FLAGS_PER_HOUR", default=20), 3600),
}
# Search ranks at most this many of the newest matches; the similar-question box shows a thread only
# at or above this pg_trgm similarity between the normalised words of the typed title and of its title and
# first words (tuned on bench/data/forum_paraphrases.yaml: forums/docs/decisions/0002-*.md).
FORUM_SEARCH_CANDIDATES = env.int("FORUM_SEARCH_CANDIDATES", default=500)
FORUM_SIMILAR_MIN_SCORE = env.float("FORUM_SIMILAR_MIN_SCORE", default=0.12)
