"""Settings shared by every environment. Everything that differs between machines is an env var."""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE

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
    "peer_review",
    "forums",
    "grading",
    "quizzes",
    "certificates",
    "access",
    "billing",
    "courses",
    "notifications",
    "accounts",
    "ops",
    # After our apps, so restapi's templates (the OAuth2 consent page) replace the toolkit's own.
    "oauth2_provider",
    "csp",
]

MIDDLEWARE = [
    # First: a request id and the latency of everything below; answers /healthz, /readyz and /metrics itself,
    # before host validation and the HTTPS redirect (probes call the container by its address, over HTTP).
    "ops.middleware.RequestIdMetricsMiddleware",
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
    "csp.middleware.CSPMiddleware",
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
# Media (rendered and recorded videos, course archives): the local filesystem (MEDIA_ROOT) by default, or
# any S3-compatible object store (AWS, MinIO, Ceph, Garage...) with MEDIA_STORAGE=s3, through django-storages.
# Objects stay private; a learner the access policy let in is redirected to a signed URL that expires after
# MEDIA_SIGNED_URL_SECONDS (courseware/http.py).
MEDIA_STORAGE = env("MEDIA_STORAGE", default="local")
MEDIA_SIGNED_URL_SECONDS = env.int("MEDIA_SIGNED_URL_SECONDS", default=300)
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("MEDIA_S3_BUCKET"),
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL", default=None),  # empty: AWS itself
            "region_name": env("MEDIA_S3_REGION", default=None),
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID", default=None),  # empty: boto3's own lookup (IAM role...)
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY", default=None),
            "location": env("MEDIA_S3_PREFIX", default=""),
            "addressing_style": env("MEDIA_S3_ADDRESSING_STYLE", default="path"),  # most self-hosted stores
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "querystring_expire": MEDIA_SIGNED_URL_SECONDS,
            "file_overwrite": True,  # names are content hashes: the same name is the same file
        },
    }
elif MEDIA_STORAGE != "local":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"MEDIA_STORAGE must be 'local' or 's3', not {MEDIA_STORAGE!r}.")


# Content security policy (django-csp) on every page: scripts, styles, fonts and frames from this site only;
# no inline script anywhere (templates load files), inline style attributes only (progress bars, Swagger UI);
# videos also from the object store when media live there (signed URLs). Forms may post anywhere: the OAuth2
# consent form redirects to the client's own address, checkout to the payment page. CSP_REPORT_ONLY=true
# sends the same policy as Content-Security-Policy-Report-Only, to try a change first.
def _media_origins() -> list[str]:
    if MEDIA_STORAGE != "s3":
        return []
    endpoint = env("MEDIA_S3_ENDPOINT_URL", default="")
    if endpoint:
        parts = urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}"]
    return ["https://*.amazonaws.com"]


_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The notebook editor (CodeMirror 6) injects its theme as <style> elements carrying this nonce
        # (grading/frontend/editor.js); without the theme, typed spaces would arrive as U+00A0.
        "style-src": ["'self'", NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", *_media_origins(), *env.list("CSP_MEDIA_ORIGINS", default=[])],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

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
# Three queues, one worker service each (docker-compose.yml), so a grading backlog never delays e-mail
# or webhooks: `grading` (notebooks; on hosts with a Docker engine), `email` (outgoing mail) and the
# default queue, `celery` (Stripe webhooks, progress, certificates, the lease sweeper, everything else).
# A worker takes one task at a time and acknowledges it only when done.
CELERY_TASK_ROUTES = {
    "grading.tasks.requeue_stale_submissions": {"queue": "celery"},  # recovery must not wait behind a backlog
    "grading.tasks.*": {"queue": "grading"},
    "notifications.tasks.*": {"queue": "email"},
    "courses.tasks.notify_course_releases": {"queue": "email"},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True

# Grading leases (grading/docs/decisions/0003-*.md): the database, not the broker, decides which attempt
# grades a submission. A worker renews its lease every GRADING_LEASE_RENEW_SECONDS; when it dies, the
# lease expires and the sweeper (every GRADING_SWEEP_SECONDS) queues the submission again, so a killed
# worker's submission is graded again within lease + sweep interval.
GRADING_WORKER_ID = env("GRADING_WORKER_ID", default="")
GRADING_LEASE_SECONDS = env.int("GRADING_LEASE_SECONDS", default=30)
GRADING_LEASE_RENEW_SECONDS = env.float("GRADING_LEASE_RENEW_SECONDS", default=GRADING_LEASE_SECONDS / 3)
GRADING_SWEEP_SECONDS = env.float("GRADING_SWEEP_SECONDS", default=10.0)
GRADING_MAX_ABANDONED = env.int("GRADING_MAX_ABANDONED", default=5)  # attempts that died, then "error"
# The grading task's own hard time limit (prefork pool): the longest grading (600 s) plus the container
# start (60 s) and the trusted side's work, with room to spare. The soft limit ends it as an error first.
GRADING_TASK_TIME_LIMIT = env.int("GRADING_TASK_TIME_LIMIT", default=900)
GRADING_TASK_SOFT_TIME_LIMIT = GRADING_TASK_TIME_LIMIT - 30
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis redelivers a message not acknowledged within the visibility timeout (default one hour): keep
    # it above the grading hard limit, so a message is never handed to a second worker while the first
    # may still be grading it. A dead worker's submission comes back sooner, through its lease.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": GRADING_TASK_TIME_LIMIT + 300}
CELERY_BEAT_SCHEDULE = {
    "reap-sandboxes": {"task": "grading.tasks.reap_sandboxes", "schedule": 300.0},
    "notify-course-releases": {"task": "courses.tasks.notify_course_releases", "schedule": 3600.0},
    "requeue-stale-submissions": {"task": "grading.tasks.requeue_stale_submissions", "schedule": GRADING_SWEEP_SECONDS},
    "requeue-engine-failures": {"task": "grading.tasks.requeue_engine_failures", "schedule": 60.0},
    "notify-week-openings": {"task": "courses.tasks.notify_week_openings", "schedule": 3600.0},
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
    # The OAuth 2.0 Security BCP (RFC 9700), ahead of the toolkit's 4.0 defaults: no implicit or password
    # grant, PKCE with S256 only, tokens never in a query string, `iss` in authorization responses, tokens
    # stored hashed, a replayed refresh token revokes its whole family. `check --deploy` stays silent.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
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
# The largest notebook a learner may upload: the default of every new assignment (an assignment may set its
# own), stated on the assignment page and in every refusal. 10 MB fits notebooks with plot outputs; the
# parser's own bounds (cells, nesting) apply whatever the size. platform/nginx/mooc.conf allows a little more.
GRADING_UPLOAD_MAX_BYTES = env.int("GRADING_UPLOAD_MAX_BYTES", default=10_000_000)
# Staff test code runs in the worker on learner-shaped data: per test, this much address space beyond the
# worker's own and this much CPU time (grading/docs/decisions/0001).
GRADING_TEST_MEMORY_MB = env.int("GRADING_TEST_MEMORY_MB", default=512)
GRADING_TEST_CPU_SECONDS = env.float("GRADING_TEST_CPU_SECONDS", default=10.0)
# Stray sandbox containers older than this are removed by the reaper (Celery beat).
# Older than a warm container may wait (600 s) plus the longest grading (600 s): never one still in use.
SANDBOX_REAP_AFTER_SECONDS = env.int("SANDBOX_REAP_AFTER_SECONDS", default=1800)
# Extra labels on every sandbox container this process starts ("key=value,key2=value2"): a benchmark
# counts only its own containers by them.
SANDBOX_LABELS = env.dict("SANDBOX_LABELS", default={})

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

# Logs go to stderr, one line each: LOG_FORMAT=json (production's default: ops/logging.py) or text. Every line
# carries the request id (X-Request-ID), in Celery tasks too. mooc.access logs one line per request.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "ops.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "stripe": {"level": "WARNING"},  # the SDK logs every request at INFO
        "mooc.access": {"level": env("ACCESS_LOG_LEVEL", default="INFO")},
    },
}
# The worker logs through the same configuration (JSON, request ids) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Operations (ops/): /metrics asks for this bearer token when set (nginx does not pass /metrics or /readyz
# on: Prometheus scrapes web:8000 directly); a Celery worker serves its own metrics on this port (0: off);
# grading workers report their engine to /readyz this often; more queues to report the depth of.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_QUEUES = env.list("METRICS_QUEUES", default=[])
ENGINE_HEARTBEAT_SECONDS = env.int("ENGINE_HEARTBEAT_SECONDS", default=15)

# Billing (Stripe). With STRIPE_API_BASE on a loopback address (the default for development: the
# localstripe that `make run` starts) the local test-card page replaces Stripe Checkout and the
# Customer Portal; with a real key and no STRIPE_API_BASE everything goes to Stripe itself.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_localstripe")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# The SDK retries a failed connection with a pause (0.5 s, then 1 s, ...): 2 in production.
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
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

# Peer review (peer_review/services.py): a reviewer's lease on a submission lasts this long, then the
# slot returns to the pool; reviews further apart than this (points of 100) send the work to staff
# instead of releasing a grade; staff hear each time the queue reaches a multiple of this.
PEER_REVIEW_LEASE_HOURS = env.int("PEER_REVIEW_LEASE_HOURS", default=8)
PEER_REVIEW_ESCALATION_SPREAD = env.float("PEER_REVIEW_ESCALATION_SPREAD", default=40.0)
PEER_REVIEW_STAFF_ALERT_EVERY = env.int("PEER_REVIEW_STAFF_ALERT_EVERY", default=5)
CELERY_BEAT_SCHEDULE["peer-review-sweep"] = {
    "task": "peer_review.tasks.sweep",
    "schedule": 600.0,
    "options": {"expires": 590},
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
