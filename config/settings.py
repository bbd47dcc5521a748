"""Settings from the environment (12-factor). With nothing set, everything runs on one machine with no servers:
SQLite in WAL mode and a filesystem Celery broker under var/.

This is the only module that reads the environment (besides DJANGO_SETTINGS_MODULE in the entry points); the rest
of the code reads `django.conf.settings`. Importing it creates no file or folder: var/'s folders are made where
they are used (the embedded SQLite database by core/sqlite, the broker folders by workers/celery.py, the
development secret key by `python manage.py local_setup`).

Environment:
    DJANGO_ENV          "production" turns DEBUG off, makes SECRET_KEY and ALLOWED_HOSTS mandatory, refuses the
                        placeholder secrets of deploy/env.example, and turns HTTPS redirects and HSTS on
                        (default: development)
    DEBUG               "0" turns DEBUG off in development too (default: 1)
    SECRET_KEY          required in production; in development read from VAR_DIR/secret_key (written by
                        `python manage.py local_setup`), else a key that lasts as long as the process
    VAR_DIR             the folder of the embedded defaults: database, broker, storage, secret key (default: var/)
    DATABASE_URL        e.g. postgres://user@127.0.0.1:5432/curation (default: sqlite:///VAR_DIR/db.sqlite3, the
                        embedded default, which project commands migrate on first use)
    CELERY_BROKER_URL   e.g. redis://127.0.0.1:6379/0 (default: kombu's filesystem transport under VAR_DIR/broker)
    STORAGE_ROOT        where job outputs and indexes live; a folder or any fsspec URL (default: VAR_DIR/storage)
    QUALITY_CLASSIFIER_MODEL  the model of `quality_classifier` steps that name none (unset: those steps are skipped)
    QUALITY_MODEL_REGISTRIES  comma-separated folders and URL prefixes holding quality-classifier models
                        (MODELS/quality-classifier/<version>/); recipes may name models there only, plus the folder
                        of QUALITY_CLASSIFIER_MODEL (default: VAR_DIR/models)
    CURATION_STEP_PLUGINS     comma-separated modules that define extra curation steps (set for web and workers)
    CURATION_ALLOWED_ROOTS    comma-separated folders and URL prefixes (s3://bucket/crawl/, https://host/path/) that
                        jobs may read and write; STORAGE_ROOT always is; a URL scheme no prefix names is refused,
                        http(s) hosts on private addresses always are (default: "/" in development, i.e. any local
                        path; nothing but STORAGE_ROOT in production)
    SHARD_TIME_LIMIT_SECONDS  a shard running longer is stopped (soft limit) and, 60 s later, killed (21600)
    SHARD_REAP_BATCH    the most shards one reaper pass sends again (200)
    CURATION_PLAN_INLINE_FILES  a submit naming folders, URLs or more files than this is planned by a task (20)
    HF_TOKEN, HF_ENDPOINT     a Hugging Face Hub token (and Hub URL) to push exports to dataset repositories (off)
    EXPORT_PROCESSES    processes one export of annotation projects builds its rows in, on its worker (default:
                        the machine's cores, at most 8; 1 turns it off)
    EXPORT_PARALLEL_MIN_ITEMS an export of fewer items builds in one process (20000)
    ALLOWED_HOSTS       comma-separated (default: localhost names in development)
    SHARD_LEASE_SECONDS how long a shard's lease lasts without a heartbeat before another worker takes it over (90)
    SHARD_REQUEUE_SECONDS     a pending shard nobody picked up for this long is sent again (120)
    SHARD_TARGET_BYTES  the input bytes a job puts in one shard (64 MiB)
    DEDUP_REDUCE_PARTITIONS   units a dedup step's reduce is split into, which any workers take (4)
    WORKER_HEARTBEAT_SECONDS  how often each worker reports that it is alive and reaps expired leases (10)
    TRAINING_LEASE_SECONDS    how long a training run's lease lasts without a heartbeat (120)
    TRAINING_REQUEUE_SECONDS  a queued run nobody picked up for this long is sent again (600)
    TRAINING_USE_GPU    "1" on GPU training workers (default: train on the CPU)
    LOG_LEVEL           the root logger's level (INFO)
    API_TOKEN_DAYS      how long an API token lasts (90)
    LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS  failed password logins of one username from one address
                        that lock it for the window (10 in 900 s)
    EMAIL_HOST (EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, DEFAULT_FROM_EMAIL)  a mail server;
                        without EMAIL_HOST there are no password reset pages (an admin sets passwords)
    Production only (DJANGO_ENV=production):
    SECURE_COOKIES      "0" allows session and CSRF cookies over plain HTTP (default: 1)
    CSRF_TRUSTED_ORIGINS      comma-separated origins, e.g. https://curation.example.org
    SECURE_SSL_REDIRECT "0" serves plain HTTP without redirecting to HTTPS (default: 1)
    SECURE_HSTS_SECONDS HSTS max-age (default: 31536000, one year; 0 turns HSTS off)
    SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD  "1"/"0" (defaults: 1 and 0)
    SECURE_PROXY_SSL_HEADER   the header a TLS-terminating proxy sets to "https", e.g. X-Forwarded-Proto; set it
                        only when the proxy sets it and drops the client's own (default: unset, trust no header)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

ENVIRONMENT = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = not PRODUCTION and os.environ.get("DEBUG", "1") != "0"


SECRET_KEY_FILE = VAR_DIR / "secret_key"
# The example values of deploy/env.example: production refuses to start with any of them as a secret.
PLACEHOLDER_SECRETS = frozenset({"change-me", "change-me-to-a-long-random-string"})


def _secret_key() -> tuple[str, bool]:
    """The key, and whether it lasts only as long as this process (a development key not written yet)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        if PRODUCTION and key in PLACEHOLDER_SECRETS:
            raise RuntimeError("SECRET_KEY is still the placeholder of deploy/env.example: set a long random key")
        return key, False
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when DJANGO_ENV=production")
    # A development key that survives restarts, so sessions stay valid between `make run`s; `local_setup`
    # writes it. Until then a key of this process only (check core.W001 says so where it matters).
    if SECRET_KEY_FILE.is_file():
        return SECRET_KEY_FILE.read_text().strip(), False
    return secrets.token_urlsafe(50), True


SECRET_KEY, SECRET_KEY_EPHEMERAL = _secret_key()
_DEVELOPMENT_HOSTS = "localhost,127.0.0.1,[::1],testserver"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "" if PRODUCTION else _DEVELOPMENT_HOSTS).split(",") if h]
if PRODUCTION and not ALLOWED_HOSTS:
    raise RuntimeError("ALLOWED_HOSTS must be set when DJANGO_ENV=production (comma-separated host names)")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "core",
    "accounts",
    "curation",
    "annotation",
    "exports",
    "training",
    "loop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # ApplicationError raised by a service in a console view -> an error page with its status.
    "core.middleware.ApplicationErrorMiddleware",
]

if PRODUCTION:
    # gunicorn serves static files through WhiteNoise from STATIC_ROOT (collectstatic in the image build).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
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
                "accounts.context_processors.roles",
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"

_default_db = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# The embedded default (no DATABASE_URL): project commands apply pending migrations to it by themselves.
EMBEDDED_DATABASE = "DATABASE_URL" not in os.environ
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_db), conn_max_age=60)}
if PRODUCTION and DATABASES["default"].get("PASSWORD") in PLACEHOLDER_SECRETS:
    raise RuntimeError("DATABASE_URL's password is still the placeholder of deploy/env.example: set a real one")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, creating the database's folder on first connection (not at import).
    DATABASES["default"]["ENGINE"] = "core.sqlite"
    # WAL lets the web server read while a worker writes; IMMEDIATE transactions take the write lock up front
    # so that two workers finishing shards at once queue up instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A persistent connection that the server dropped is noticed before a request or task uses it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# Password logins are refused for a username from one address after LOGIN_FAILURE_LIMIT failures in the window.
AUTHENTICATION_BACKENDS = ["accounts.authentication.RateLimitedModelBackend"]
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", str(15 * 60)))
# API tokens expire after this many days (a new one from the "API token" page or POST /api/v1/auth/token/).
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
# Password reset pages exist only when mail can be sent (EMAIL_HOST set): the link goes by email.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_CONFIGURED = bool(EMAIL_HOST)
if EMAIL_CONFIGURED:
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "1") == "1"
    DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "curation@localhost")
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

STORAGE_ROOT = os.environ.get("STORAGE_ROOT", str(VAR_DIR / "storage"))
# The quality classifier that recipes' `quality_classifier` steps use when they name no model (a version
# directory, or MODELS/quality-classifier/latest); unset, such steps are left out of jobs.
QUALITY_CLASSIFIER_MODEL = os.environ.get("QUALITY_CLASSIFIER_MODEL", "")
# Where recipes may take quality-classifier models from (fastText parses them in C++): folders or URL prefixes
# holding `quality-classifier/<version>/`; the folder of QUALITY_CLASSIFIER_MODEL is always one.
QUALITY_MODEL_REGISTRIES = [
    r.strip() for r in os.environ.get("QUALITY_MODEL_REGISTRIES", str(VAR_DIR / "models")).split(",") if r.strip()
]
# Modules that define and register extra curation steps; CurationConfig.ready() imports them.
CURATION_STEP_PLUGINS = [m.strip() for m in os.environ.get("CURATION_STEP_PLUGINS", "").split(",") if m.strip()]
# What jobs may read and write (curation/services/locations.py); STORAGE_ROOT is always allowed.
CURATION_ALLOWED_ROOTS = [
    root.strip()
    for root in os.environ.get("CURATION_ALLOWED_ROOTS", "" if PRODUCTION else "/").split(",")
    if root.strip()
]
# Submits with more inputs than this (or any folder or URL, which must be walked) are planned by a task.
CURATION_PLAN_INLINE_FILES = int(os.environ.get("CURATION_PLAN_INLINE_FILES", "20"))
# Exports may be pushed to a Hugging Face Hub dataset repository only when a token is configured (off by default).
EXPORTS_HUB_TOKEN = os.environ.get("HF_TOKEN", "")
EXPORTS_HUB_ENDPOINT = os.environ.get("HF_ENDPOINT", "")
# Large exports of annotation projects build their rows in several processes of the worker (exports/services.py).
EXPORT_PROCESSES = max(1, int(os.environ.get("EXPORT_PROCESSES", str(min(os.cpu_count() or 1, 8)))))
EXPORT_PARALLEL_MIN_ITEMS = int(os.environ.get("EXPORT_PARALLEL_MIN_ITEMS", "20000"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token <key>`, checked against hashed, expiring tokens (accounts/models.py ApiToken).
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # ApplicationError from a service -> {"detail", "code", "field"?} with its status; everything else as DRF does.
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Curation service API",
    "DESCRIPTION": "Submit, inspect and cancel curation jobs; inspect dedup indexes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Choice sets that share a field name get names of their own (else a hashed name and check drf_spectacular.W001).
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "curation.models.Job.Status",
        "ShardStatusEnum": "curation.models.Shard.Status",
        "ShardKindEnum": "curation.models.Shard.Kind",
        "ExportStatusEnum": "exports.models.Export.Status",
        "RunKindEnum": "training.models.Run.Kind",
        "RunStatusEnum": "training.models.Run.Status",
        "PipelineKindEnum": "training.models.Pipeline.Kind",
        "PipelineStatusEnum": "training.models.Pipeline.Status",
        "InputFormatEnum": "curation.steps.readers.formats.FORMATS",
        "ExportFormatEnum": "exports.formats.spec.FORMATS",
        "LikertScaleEnum": [(5, "5"), (7, "7")],
        "LikertScaleChoiceEnum": [(5, 5), (7, 7)],
        "AnnotationKindEnum": "annotation.models.Project.KINDS",
    },
}

# Celery. With no broker configured, kombu's filesystem transport needs no server: the queues are folders
# (workers/celery.py creates them before the first message is sent or received).
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
else:
    # Longer than the slowest shard; recovery of dead workers' shards comes from database leases, not from this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

SHARD_LEASE_SECONDS = int(os.environ.get("SHARD_LEASE_SECONDS", "90"))
# A pending shard whose message nobody picked up for this long is sent again (its message died with a worker).
SHARD_REQUEUE_SECONDS = int(os.environ.get("SHARD_REQUEUE_SECONDS", "120"))
SHARD_TARGET_BYTES = int(os.environ.get("SHARD_TARGET_BYTES", str(64 * 1024 * 1024)))
# The partitions of a dedup reduce (MinHash bands, exact hash ranges) are dealt to this many units; decisions do not
# depend on it (curation/steps/dedup/steps/base.py). More units: less memory each, more workers at once.
DEDUP_REDUCE_PARTITIONS = max(1, int(os.environ.get("DEDUP_REDUCE_PARTITIONS", "4")))
# A shard running longer is stopped (SoftTimeLimitExceeded fails the attempt) and killed 60 s later.
SHARD_TIME_LIMIT_SECONDS = int(os.environ.get("SHARD_TIME_LIMIT_SECONDS", str(6 * 3600)))
# The most shards one reaper pass sends again, so a backlog never makes it lock or send everything at once.
SHARD_REAP_BATCH = int(os.environ.get("SHARD_REAP_BATCH", "200"))
# How often each worker records that it is alive and reaps expired leases (curation/heartbeat.py).
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", "10"))
# Training runs (training/services/runs.py): lease without a heartbeat, requeue of lost messages, GPU or CPU.
TRAINING_LEASE_SECONDS = int(os.environ.get("TRAINING_LEASE_SECONDS", "120"))
TRAINING_REQUEUE_SECONDS = int(os.environ.get("TRAINING_REQUEUE_SECONDS", "600"))
TRAINING_USE_GPU = os.environ.get("TRAINING_USE_GPU", "0") == "1"

if PRODUCTION:
    SESSION_COOKIE_SECURE = os.environ.get("SECURE_COOKIES", "1") == "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
    # Trust a forwarded-protocol header only when the deployment says its TLS proxy sets it (and strips the
    # client's own): otherwise any client could claim HTTPS with one header.
    _proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("SECURE_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("SECURE_HSTS_PRELOAD", "0") == "1"
    if not SECURE_HSTS_PRELOAD:
        # Joining browsers' preload list is a decision for the domain's owner, not a default (check security.W021).
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
