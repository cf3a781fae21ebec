"""Django settings for Huitou.

Every value comes from the environment (see README, "Configuration" and
"Security"). The defaults are the ones a shop's front-desk PC runs with:
DEBUG off, a random secret key generated once and kept in the data
directory, the host names of the address ``huitou serve`` binds. Debug is
on only when asked for: ``DEBUG=1``, or ``huitou runserver`` (the command
line sets ``DEBUG=1`` for it, see huitou/cli.py).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from huitou.lib.env import env_bool, env_int, env_list, env_str, hosts_for_address, persistent_secret

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("HUITOU_DATA_DIR", str(Path.cwd() / "data"))).resolve()

# The key this repository once shipped for development: public, so refused.
DEV_SECRET_KEY = "huitou-development-secret-do-not-use-in-production"  # noqa: S105
DEBUG = env_bool("DEBUG", default=False)
try:
    SECRET_KEY = env_str("SECRET_KEY") or persistent_secret(DATA_DIR / "secret_key")
except OSError as exc:
    raise ImproperlyConfigured(
        f"Cannot keep the generated secret key in {DATA_DIR} ({exc}); make HUITOU_DATA_DIR writable or set SECRET_KEY."
    ) from exc
if SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key published with Huitou; unset it to use the key "
        "generated in the data directory, or set a random value of at least 50 characters."
    )
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY must be a random value of at least 50 characters; unset it to use the key "
        "generated in the data directory."
    )
# HUITOU_BIND_HOST is set by ``huitou serve --host`` (huitou/cli.py); others
# (gunicorn, manage.py) answer to the loopback names plus ALLOWED_HOSTS.
ALLOWED_HOSTS = list(
    dict.fromkeys([*hosts_for_address(env_str("HUITOU_BIND_HOST", "127.0.0.1")), *env_list("ALLOWED_HOSTS", [])])
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from the install, not a CDN
    "axes",
    "huey.contrib.djhuey",
    "huitou.tenancy",
    "huitou.audit",
    "huitou.customers",
    "huitou.service",
    "huitou.lifecycle",
    "huitou.loyalty",
    "huitou.care",
    "huitou.messaging",
    "huitou.analytics",
    "huitou.imports",
    "huitou.api",
    "huitou.demo",
    "huitou.exports",
    "huitou.privacy",
    "huitou.backup",
    "huitou.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "huitou.tenancy.middleware.TenantMiddleware",
    "axes.middleware.AxesMiddleware",
    "huitou.web.middleware.DatabaseBusyMiddleware",  # SQLite still locked after busy_timeout: 503, not 500
]

ROOT_URLCONF = "huitou.urls"
WSGI_APPLICATION = "huitou.wsgi.application"
AUTH_USER_MODEL = "tenancy.User"

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
                "huitou.tenancy.context_processors.tenant",
            ],
        },
    },
]
# Inputs, text areas and selects drawn in Python, the same HTML as Django's templates (web/renderer.py).
FORM_RENDERER = "huitou.web.renderer.QuickRenderer"

# Database: SQLite file in the data directory by default, PostgreSQL (or any
# URL dj-database-url understands) when DATABASE_URL is set.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, its health check made without a round trip to the server (huitou/lib/postgresql).
        DATABASES["default"]["ENGINE"] = "huitou.lib.postgresql"
        # The hot reads run as prepared statements (off for a pooler in transaction mode that drops them).
        DATABASES["default"].setdefault("OPTIONS", {})["prepared_statements"] = env_bool(
            "DB_PREPARED_STATEMENTS", default=True
        )
        DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("HUITOU_TEST_DB_NAME", "test_huitou")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "huitou.sqlite3"),
            # Opening the file reads its whole schema (5-10 ms): each server thread keeps its connection.
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 600),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL; SQLite builds the same index without them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: huey on SQLite by default, Redis when REDIS_URL is set.
HUEY = {
    "name": "huitou",
    "immediate": env_bool("HUEY_IMMEDIATE", default=False),
    "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.sqlite3")})

if not DATABASE_URL or not REDIS_URL:
    # The embedded defaults keep their files here; create it before they open.
    DATA_DIR.mkdir(parents=True, exist_ok=True)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "huitou.tenancy.backends.StaffBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling: 5 failures for a username from one address lock
# that pair for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Plain HTTP on the shop's network by default; HUITOU_HTTPS=1 (implied by
# BEHIND_HTTPS_PROXY=1) declares that users reach Huitou over HTTPS only:
# redirect to it, send HSTS, keep the cookies off plain HTTP.
BEHIND_HTTPS_PROXY = env_bool("BEHIND_HTTPS_PROXY", default=False)
HUITOU_HTTPS = env_bool("HUITOU_HTTPS", default=BEHIND_HTTPS_PROXY)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HUITOU_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365) if HUITOU_HTTPS else 0
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=HUITOU_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("HUITOU_STATIC_ROOT", str(DATA_DIR / "static")))
# Uploaded files; ``huitou backup`` archives them with the database.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("HUITOU_MEDIA_ROOT", str(DATA_DIR / "media")))

# Nightly backup (huitou/backup/tasks.py): off unless HUITOU_BACKUP_NIGHTLY=1; keeps the newest N.
BACKUP_NIGHTLY = env_bool("HUITOU_BACKUP_NIGHTLY", default=False)
BACKUP_KEEP = env_int("HUITOU_BACKUP_KEEP", 7)
BACKUP_DIR = Path(env_str("HUITOU_BACKUP_DIR", str(DATA_DIR / "backups")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Email to customers (huitou/messaging): Django's SMTP backend, configured by the environment.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
