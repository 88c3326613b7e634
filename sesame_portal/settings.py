"""Settings for Sesame Portal, read from the environment.

A bare machine runs with the embedded defaults (SQLite, a filesystem Celery broker,
development keys). Production sets PRODUCTION=1, which makes the secrets and hosts
mandatory and turns on the HTTPS hardening that `check --deploy` looks for.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from sesame_portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SESAME_VAR_DIR", str(BASE_DIR / "var")))

(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

PRODUCTION = env_bool("PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when PRODUCTION is on.")

# Development defaults are deterministic so a local database stays readable across
# restarts; production must bring its own values.
_DEV_SECRET = "django-insecure-sesame-portal-development-only-key-do-not-deploy"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", None if PRODUCTION else _DEV_SECRET, required=PRODUCTION)


def _derived_key(label: str) -> bytes:
    return hashlib.sha256(f"{SECRET_KEY}:{label}".encode()).digest()


# Fernet keys for encrypted fields, newest first; older keys still decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS",
    [] if PRODUCTION else [base64.urlsafe_b64encode(_derived_key("field-encryption")).decode()],
)
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must list at least one Fernet key.")

# Key for the keyed hash (HMAC-SHA256) of ID numbers: uniqueness and court-list matching.
# It cannot rotate without rehashing every row, so it is separate from the Fernet keys.
ID_HASH_KEY = env_str(
    "ID_HASH_KEY",
    None if PRODUCTION else _derived_key("id-hash").hex(),
    required=PRODUCTION,
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "sesame_portal.apps.PortalAdminConfig",  # django.contrib.admin, named and labelled
    "django_guid",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "import_export",
    "accounts",
    "scoring",
    "benefits",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (X-Request-ID in and out).
    "django_guid.middleware.guid_middleware",
    "sesame_portal.request_log.request_log_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "sesame_portal.middleware.api_no_store_middleware",
    "sesame_portal.middleware.null_character_middleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the user with the session's sign-in in one query: a session
    # whose sign-in was revoked (devices page, log out everywhere, password change
    # elsewhere) is logged out here, before any view sees it.
    "accounts.web_sessions.SignInAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the authentication outcome of everything above.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sesame_portal.urls"
WSGI_APPLICATION = "sesame_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.notifications",
            ],
            "libraries": {
                "icons": "sesame_portal.templatetags.icons",
                "kept": "sesame_portal.templatetags.kept",
            },
        },
    },
]

FORM_RENDERER = "sesame_portal.forms.PortalFormRenderer"

# Connections are kept for a minute and checked (`SELECT 1`) at the first query of each
# request that reuses one. The check costs a round trip per request; without it a
# connection cut while idle (a PostgreSQL restart or failover, a pooler's or firewall's
# idle timeout) fails the next request on it with a 500, since Django does not retry.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL lets readers and a
    # writer work at once, IMMEDIATE takes the write lock up front instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests that start a real worker process need a test database it can open too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The queries of sesame_portal.prepared (hot pages) bind their values on the server:
    # psycopg prepares each on its second run, so PostgreSQL plans it once per
    # connection. The ORM's own queries bind on the client and are never prepared. (A
    # pooler in transaction mode would need protocol-level prepared statements.)
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env_str("CACHE_URL", "")
if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            # Fail fast when Redis is down: rate limits then refuse (503), pages go on.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
elif _cache_url:
    raise ImproperlyConfigured("CACHE_URL must be a redis:// URL.")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from the cache and written through to the database when the cache is
# shared by every process (Redis): one Redis read instead of a database query on every
# logged-in request. Whether a session may go on is never taken from the cache: its
# sign-in is read from the database with the user at every request
# (accounts.web_sessions). A per-process memory cache would let one process serve
# session data another has changed or ended, so without Redis sessions stay in the
# database alone.
SESSION_ENGINE = (
    "sesame_portal.sessions"
    if CACHES["default"]["BACKEND"].endswith("RedisCache")
    else "django.contrib.sessions.backends.db"
)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_MIN_LENGTH = 10  # quoted by the sign-up form's help text
# Django's rules, said in the portal's words (accounts/password_validators.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.password_validators.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.password_validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "accounts.password_validators.CommonPasswordValidator"},
    {"NAME": "accounts.password_validators.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login lockout (django-axes): five failures lock the username for fifteen minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
# By username alone: phones on carrier-grade NAT share an address, so locking by IP
# would lock out strangers, while a username lock still stops guessing from many IPs.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_VERBOSE = False

# Real-name verification attempts allowed per user per rolling hour.
IDENTITY_ATTEMPTS_PER_HOUR = env_int("IDENTITY_ATTEMPTS_PER_HOUR", 5, minimum=1)
# Per client address (an IPv6 address counts by its /64) and clock hour, counted in the
# shared cache so that many accounts from one place cannot probe ID numbers or mass-create
# accounts: failed verification attempts and appeals, and sign-ups. High enough for a
# household or an office behind one address.
IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = env_int(
    "IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR", 20, minimum=1
)
SIGNUPS_PER_ADDRESS_PER_HOUR = env_int("SIGNUPS_PER_ADDRESS_PER_HOUR", 10, minimum=1)
# The header a reverse proxy overwrites with the client's address (e.g. X-Real-IP); empty:
# the peer's address (REMOTE_ADDR), which behind a proxy is the proxy for everyone.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
CLIENT_IP_META_KEY = (
    "HTTP_" + CLIENT_IP_HEADER.upper().replace("-", "_") if CLIENT_IP_HEADER else ""
)

# Days from a partner's approval to its next review (flagged in the admin once past).
PARTNER_REVIEW_DAYS = env_int("PARTNER_REVIEW_DAYS", 365, minimum=1)
# Months of score history kept: a superseded snapshot older than this goes with its
# month (scoring.services.snapshot_history); a person's current score never does. 0 keeps
# all. Three years cover the longest window a feature reads (24 months) with a year to spare.
SCORE_HISTORY_MONTHS = env_int("SCORE_HISTORY_MONTHS", 36, minimum=0)
# Days a partner has to erase a person's data after their erasure request (PIPL art. 47);
# an unacknowledged request is overdue after that.
ERASURE_DEADLINE_DAYS = env_int("ERASURE_DEADLINE_DAYS", 15, minimum=1)

# LocaleMiddleware: the language chosen with the header's switch (its cookie) first, then
# the browser's first Chinese or English preference, then zh-Hans (LANGUAGE_CODE).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# A choice once made sticks: the cookie outlives the browser session (Django's default
# would forget it when the browser closes).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The hashed, compressed manifest needs `collectstatic`; the run command and production
# do that, tests and a bare checkout serve straight from the finders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10  # a slow relay must not hold a worker
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Sesame Portal <no-reply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Who gets operational alerts (a model that fails its integrity check, server errors).
ADMINS = [("", address) for address in env_list("ADMINS", [])]
# The portal's public address, for links in emails (requests build their own).
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000")
# A TrueType font (.ttf or .ttc, first face) with Chinese glyphs for the printed credit
# statement; empty: the first of the usual Debian CJK fonts found (fonts-wqy-microhei).
STATEMENT_FONT = env_str("STATEMENT_FONT", "")

# Security headers. HTTPS-only flags follow PRODUCTION so a plain-HTTP local run works.
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14, minimum=60)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: everything from our own origin, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

REST_FRAMEWORK = {
    # Token first: a request without credentials, or with an ended token, is answered 401
    # with `WWW-Authenticate: Token` (session authentication has no challenge to offer,
    # which would make it a 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["sesame_portal.api.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sesame_portal.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Named so that accounts.SignIn can point at knox's token model in a migration.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name, not a secret)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 30, minimum=1)),
    "AUTO_REFRESH": True,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sesame Portal API",
    "DESCRIPTION": "The user API (session or `Authorization: Token <token>`) and the partner "
    "API (`Authorization: Api-Key <key>`). Errors are `{code, message}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two answers name a "status" of their own: each its own enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "HelperStatusEnum": ["invited", "active", "expired", "revoked"],
        "HonourReportStatusEnum": "benefits.models.HonourReport.Status",
    },
}

# Celery. The embedded default is kombu's filesystem transport: no broker server needed,
# yet tasks still travel to a real worker process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
# Processes that share a broker but not a database need queues of their own: parallel test
# processes (pytest-xdist names each in PYTEST_XDIST_WORKER) each publish to and consume from
# their own, so a worker one test starts never runs a task published for another's database.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
if env_str("PYTEST_XDIST_WORKER", ""):
    CELERY_TASK_DEFAULT_QUEUE += "-" + env_str("PYTEST_XDIST_WORKER", "")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workers and beat log through LOGGING below (JSON lines), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Logs are JSON lines by default (LOG_FORMAT=plain for reading by eye), each with the
# request id; they never carry personal data: see sesame_portal/request_log.py.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
}
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId"},
        "redact_paths": {"()": "sesame_portal.request_log.RedactRequestPaths"},
        "demote_client_junk": {"()": "sesame_portal.request_log.DemoteClientJunk"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {"correlation_id": "request_id", "levelname": "level"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "redact_paths", "demote_client_junk"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # django-guid says at INFO whether each request brought an id: noise.
        "django_guid": {"level": "WARNING"},
        # Drawing the printed statement: fontTools narrates its font subsetting at INFO,
        # and fpdf2 names at WARNING the characters its font lacks, which would put
        # pieces of a personal statement in the logs.
        "fontTools": {"level": "WARNING"},
        "fpdf": {"level": "ERROR"},
        # What strangers send (a forged Host, an oversized body) is a WARNING on the
        # console and never reaches Django's mail to ADMINS on the "django" logger.
        "django.security": {"handlers": ["console"], "propagate": False},
        "django.request": {"filters": ["demote_client_junk"]},
    },
}
