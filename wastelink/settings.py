"""One environment-driven settings module.

Every tunable is read here from the environment, with a documented default (docs/operations.md lists them).
Without DATABASE_URL the platform runs on an SQLite file in the working folder, in WAL mode.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
WORK_DIR = Path(os.environ.get("WASTELINK_HOME", os.getcwd())).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("WASTELINK_DEBUG", False)
# A fixed development key is acceptable only for the embedded demo; production sets WASTELINK_SECRET_KEY.
SECRET_KEY = os.environ.get("WASTELINK_SECRET_KEY", "wastelink-demo-only-secret-key-change-me-in-production")
ALLOWED_HOSTS = [
    h for h in os.environ.get("WASTELINK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("WASTELINK_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = os.environ.get("WASTELINK_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "wastelink.accounts",
    "wastelink.registry",
    "wastelink.audit",
    "wastelink.permits",
    "wastelink.manifests",
    "wastelink.tracking",
    "wastelink.detection",
    "wastelink.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wastelink.web.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wastelink.web.middleware.ThaiFirstLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wastelink.urls"
WSGI_APPLICATION = "wastelink.wsgi.application"
ASGI_APPLICATION = "wastelink.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wastelink.web.context.navigation",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------------------
SQLITE_PATH = Path(os.environ.get("WASTELINK_SQLITE_PATH", WORK_DIR / "wastelink.sqlite3"))
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at BEGIN so two
                # writers queue instead of failing half-way with "database is locked". The WAL is copied back
                # into the database (a checkpoint, with an fsync) once it holds 10,000 pages (~40 MB) rather than
                # SQLite's 1,000: a batch of positions dirties a page per row and index, so at 1,000 nearly every
                # commit paid a checkpoint (+50 % rows/s, docs/benchmarks.md).
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
                "PRAGMA wal_autocheckpoint=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 10,
            },
            "TEST": {"NAME": os.environ.get("WASTELINK_TEST_SQLITE_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts -------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("WASTELINK_SESSION_AGE_S", 8 * 3600))

# Login throttling: lock a username+address pair after this many failures, for this many hours.
AXES_FAILURE_LIMIT = int(os.environ.get("WASTELINK_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("WASTELINK_LOGIN_COOLOFF_H", 0.25))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- i18n -----------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "th"
LANGUAGES = [("th", _("Thai")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "web" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Bangkok"  # shown to users; everything is stored in UTC

# --- static ---------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("WASTELINK_STATIC_ROOT") or None  # set it to run collectstatic in production
WHITENOISE_USE_FINDERS = (
    True  # serve straight from the apps' static folders: no collectstatic step for the demo
)
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(os.environ.get("WASTELINK_MEDIA_ROOT", WORK_DIR / "media"))
MEDIA_URL = "/media/"  # documents are served through access-checked views, never directly

# --- mail -----------------------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("WASTELINK_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("WASTELINK_FROM_EMAIL", "wastelink@localhost")

def _json_env(name: str) -> dict:
    raw = os.environ.get(name, "").strip() or "{}"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, e.g. {{\"stop_minutes\": 15}}")
    return value


# --- platform tunables ----------------------------------------------------------------------------------------
WASTELINK = {
    # API tokens: default lifetime in days (0 = no expiry) and the length of the random secret.
    "TOKEN_DEFAULT_DAYS": int(os.environ.get("WASTELINK_TOKEN_DEFAULT_DAYS", 365)),
    # Demo data seed: the same seed always gives the same data set.
    "DEMO_SEED": int(os.environ.get("WASTELINK_DEMO_SEED", 20250401)),
    # Radius in metres of the generated boundary polygon around an estate centre (demo only).
    "DEMO_ESTATE_RADIUS_M": int(os.environ.get("WASTELINK_DEMO_ESTATE_RADIUS_M", 1500)),
    # Permits: validity of a new permit in days, the officers' review target in days, largest document.
    "PERMIT_VALIDITY_DAYS": int(os.environ.get("WASTELINK_PERMIT_VALIDITY_DAYS", 365)),
    "PERMIT_REVIEW_TARGET_DAYS": int(os.environ.get("WASTELINK_PERMIT_REVIEW_TARGET_DAYS", 10)),
    "DOCUMENT_MAX_BYTES": int(os.environ.get("WASTELINK_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)),
    # Manifests: weight tolerance (the larger of the fraction and the minimum), the receiver's deadline to sign
    # after delivery, and the grace after the expected arrival before a load in transit counts as overdue.
    "MANIFEST_TOLERANCE_FRACTION": float(os.environ.get("WASTELINK_MANIFEST_TOLERANCE_FRACTION", 0.05)),
    "MANIFEST_TOLERANCE_MIN_KG": float(os.environ.get("WASTELINK_MANIFEST_TOLERANCE_MIN_KG", 50)),
    "MANIFEST_RECEIPT_HOURS": int(os.environ.get("WASTELINK_MANIFEST_RECEIPT_HOURS", 24)),
    "MANIFEST_TRANSIT_GRACE_HOURS": int(os.environ.get("WASTELINK_MANIFEST_TRANSIT_GRACE_HOURS", 2)),
    # Tracking: raw positions older than this many days are purged (trips keep a simplified track); the port of
    # the dedicated OsmAnd ingest server started by `wastelink serve`.
    "TRACKING_RETENTION_DAYS": int(os.environ.get("WASTELINK_TRACKING_RETENTION_DAYS", 180)),
    "OSMAND_PORT": int(os.environ.get("WASTELINK_OSMAND_PORT", 5055)),
    # Detection: overrides of the rules' parameters (names and defaults: core/detection.py RuleSettings and
    # docs/detection.md), as JSON in WASTELINK_DETECTION, e.g. {"stop_minutes": 15}.
    "DETECTION": _json_env("WASTELINK_DETECTION"),
    # Alerts: webhook URLs (comma-separated) that receive each new alert as a JSON POST signed with HMAC-SHA256 of
    # the body under the secret (header X-Wastelink-Signature: sha256=<hex>); each delivery gets this many
    # attempts, each with this timeout, waiting backoff × 1, 2, 4 … seconds between them.
    "ALERT_WEBHOOK_URLS": [
        u.strip() for u in os.environ.get("WASTELINK_ALERT_WEBHOOK_URLS", "").split(",") if u.strip()
    ],
    "ALERT_WEBHOOK_SECRET": os.environ.get("WASTELINK_ALERT_WEBHOOK_SECRET", ""),
    "ALERT_WEBHOOK_TIMEOUT_S": float(os.environ.get("WASTELINK_ALERT_WEBHOOK_TIMEOUT_S", 5)),
    "ALERT_WEBHOOK_ATTEMPTS": int(os.environ.get("WASTELINK_ALERT_WEBHOOK_ATTEMPTS", 4)),
    "ALERT_WEBHOOK_BACKOFF_S": float(os.environ.get("WASTELINK_ALERT_WEBHOOK_BACKOFF_S", 1)),
    # Alerts: the estate officers of the alert's estates get an email and an in-app notice for alerts of at least
    # this severity (low, medium or high).
    "ALERT_EMAIL_MIN_SEVERITY": os.environ.get("WASTELINK_ALERT_EMAIL_MIN_SEVERITY", "high"),
    # Largest accepted upload (GeoJSON boundaries, registry CSV) in bytes.
    "MAX_UPLOAD_BYTES": int(os.environ.get("WASTELINK_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = WASTELINK["MAX_UPLOAD_BYTES"]
FILE_UPLOAD_MAX_MEMORY_SIZE = WASTELINK["DOCUMENT_MAX_BYTES"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WASTELINK_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
