"""Vefa settings: one module, driven by environment variables.

Every setting a deployment changes is read from the environment (see README, "Configuration").
The defaults give a working single-machine install with an embedded SQLite database in the
data directory (``VEFA_DATA_DIR``, default ``./var``).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules or env_bool("VEFA_TESTING")
# Tests get a private data directory each (uploads, secret key) unless one is given.
DATA_DIR = Path(
    env("VEFA_DATA_DIR") or (tempfile.mkdtemp(prefix="vefa-test-") if TESTING else "var")
).resolve()
DEBUG = env_bool("VEFA_DEBUG", False)


def _secret_key() -> str:
    """The secret key comes from the environment or from a file in the data directory.

    ``vefa init`` writes the file once; a key is never committed to the repository.
    """
    key = env("VEFA_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret.key"
    if key_file.exists():
        return key_file.read_text().strip()
    if TESTING or DEBUG:
        return "insecure-test-key-" + "x" * 40
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("VEFA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("VEFA_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "vefa.common",
    "vefa.platform",
    "vefa.accounts",
    "vefa.customers",
    "vefa.interactions",
    "vefa.sales",
    "vefa.service",
    "vefa.portal",
    "vefa.marketing",
    "vefa.analytics",
    "vefa.imports",
    "vefa.exports",
    "vefa.privacy",
    "vefa.dedupe",
    "vefa.quality",
    "vefa.integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vefa.common.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vefa.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "vefa.config.urls"
WSGI_APPLICATION = "vefa.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vefa.common.context_processors.vefa",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------------------
# SQLite in WAL mode with a busy timeout and IMMEDIATE transactions, so concurrent writers
# queue instead of failing with "database is locked"; PostgreSQL through DATABASE_URL.
SQLITE_PATH = DATA_DIR / "vefa.sqlite3"
_database_url = env("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=0)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH)}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;PRAGMA cache_size=-64000;PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=268435456;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": env("VEFA_TEST_SQLITE", "") or None}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A connection pool that recovers after a server restart (psycopg_pool checks connections).
    if not TESTING and env_bool("VEFA_DB_POOL", True):
        DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": 20, "timeout": 10}}
    DATABASES["default"]["TEST"] = {"NAME": env("VEFA_TEST_PG_NAME", "vefa_test")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["vefa.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "platform:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing strength is not under test; argon2 is still the production hasher.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: after this many failures for one e-mail or one address within the window,
# further attempts are refused until the window passes.
LOGIN_MAX_FAILURES = int(env("VEFA_LOGIN_MAX_FAILURES", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(env("VEFA_LOGIN_FAILURE_WINDOW", "900"))

# --- internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("tr", _("Turkish")),
    ("sr-latn", _("Serbian (Latin)")),
    ("fa", _("Persian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("VEFA_TIME_ZONE", "UTC")
# The business name printed on quotes and other documents sent to customers.
VEFA_COMPANY_NAME = env("VEFA_COMPANY_NAME", "Vefa")
LANGUAGE_COOKIE_NAME = "vefa_language"

# --- static and uploaded files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
if TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Uploads live outside the web root and are served only through a permission check.
        "OPTIONS": {"location": DATA_DIR / "files", "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING or DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG
MEDIA_ROOT = DATA_DIR / "files"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
VEFA_ATTACHMENT_MAX_BYTES = int(env("VEFA_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))

# --- e-mail --------------------------------------------------------------------------------
EMAIL_HOST = env("VEFA_EMAIL_HOST")
EMAIL_PORT = int(env("VEFA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("VEFA_EMAIL_USER")
EMAIL_HOST_PASSWORD = env("VEFA_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("VEFA_EMAIL_TLS")
DEFAULT_FROM_EMAIL = env("VEFA_EMAIL_FROM", "vefa@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.dummy.EmailBackend"
)
EMAIL_TIMEOUT = 10
# The help desk's mailbox, polled over IMAP for inbound tickets (no host: no polling).
VEFA_SERVICE_IMAP_HOST = env("VEFA_SERVICE_IMAP_HOST")
VEFA_SERVICE_IMAP_PORT = int(env("VEFA_SERVICE_IMAP_PORT", "0"))  # 0: 993 with SSL, else 143
VEFA_SERVICE_IMAP_USER = env("VEFA_SERVICE_IMAP_USER")
VEFA_SERVICE_IMAP_PASSWORD = env("VEFA_SERVICE_IMAP_PASSWORD")
VEFA_SERVICE_IMAP_SSL = env_bool("VEFA_SERVICE_IMAP_SSL", True)
VEFA_SERVICE_IMAP_MAILBOX = env("VEFA_SERVICE_IMAP_MAILBOX", "INBOX")

# --- background tasks ----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if TESTING:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- analytics ------------------------------------------------------------------------------
# The analytical store (Parquet) and the engine its metrics run on: "duckdb" on this machine,
# "pyspark" on a Spark cluster (pip install vefa[spark]; Java 17 or newer).
ANALYTICS_DIR = Path(env("VEFA_ANALYTICS_DIR") or DATA_DIR / "analytics").resolve()
ANALYTICS_ENGINE = env("VEFA_ANALYTICS_ENGINE", "duckdb")
# The customer scores' covering index (INCLUDE) serves PostgreSQL; SQLite builds it without
# the included columns, which is what we want there, so its warning is not news.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("VEFA_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env("VEFA_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("VEFA_REDIS_URL"),
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("VEFA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_MAX_LIMIT = 100
VEFA_API_MAX_PAGE_SIZE = 100
VEFA_LIST_PAGE_SIZE = 50
