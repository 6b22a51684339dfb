"""Django settings, read from the environment (see the configuration table in README.md)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from saasadmin.env import envbool, envchoice, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
# The HMAC key of tenant API tokens' hashes (tenants/tokens.py); empty: one derived from SECRET_KEY.
TENANT_TOKEN_KEY = envstr("TENANT_TOKEN_KEY")

INSTALLED_APPS = [
    # The admin app only lends its context and static files to the django-rq dashboard; its own
    # site is not mounted (templates/admin/ re-skins the dashboard into the product layout).
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_rq",
    "axes",
    "saasadmin",
    "tenants",
    "deployments",
    "insights",
    "ninja",  # templates and local static assets of the API docs page
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "saasadmin.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before anything reads a body (CSRF reads POST): an oversized request is refused from its headers.
    "deployments.uploads.request_size_limit",
    "saasadmin.errors.ErrorPagesMiddleware",  # the product's 404 page also with DEBUG on
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # axes goes last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# The inference API's own chain (saasadmin/wsgi.py): no sessions, CSRF, users, messages, htmx or axes,
# which a Bearer-token JSON API never uses; the security headers and the Host check (CommonMiddleware) stay.
API_PATH_PREFIX = "/api/"
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "saasadmin.security.SecurityHeadersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "saasadmin.urls"
WSGI_APPLICATION = "saasadmin.wsgi.application"

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
                "tenants.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL through DATABASE_URL in production, a SQLite file by default.
DATABASE_URL = envstr("DATABASE_URL")
if not DATABASE_URL:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{DATA_DIR / 'saasadmin.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the workers write the same file: take the write lock at BEGIN and wait for it,
    # instead of failing with "database is locked" when two transactions upgrade their locks at once.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis and RQ. Without REDIS_URL, `make run` and the tests start an embedded redis-server
# (saasadmin/embedded.py) listening on this unix socket.
EMBEDDED_REDIS_SOCKET = DATA_DIR / "redis.sock"
REDIS_URL = envstr("REDIS_URL", f"unix://{EMBEDDED_REDIS_SOCKET}")
# A Redis host that is gone would hold a page for the system's connect timeout (minutes): give up sooner,
# so that the page can say the queue is not answering (REDIS_URL may set its own socket_connect_timeout).
QUEUE_REDIS_URL = REDIS_URL
if "socket_connect_timeout" not in REDIS_URL:
    QUEUE_REDIS_URL += ("&" if "?" in REDIS_URL else "?") + (
        f"socket_connect_timeout={envfloat('REDIS_CONNECT_TIMEOUT', 2.0):g}"
    )
RQ_QUEUES = {
    "default": {"URL": QUEUE_REDIS_URL, "DEFAULT_TIMEOUT": 600},
}
RQ_SHOW_ADMIN_LINK = False
# The inference API's usage metering (deployments/metering.py): how long a request waits for Redis at most.
METERING_REDIS_TIMEOUT = envfloat("METERING_REDIS_TIMEOUT", 0.25)
# Workers wait out Redis outages instead of exiting (saasadmin/queue_processes.py).
RQ = {"WORKER_CLASS": "saasadmin.queue_processes.ResilientWorker"}

# AWS: `emulated` points boto3 at the embedded emulator; `aws` uses the real account.
AWS_MODE = envchoice("AWS_MODE", ("emulated", "aws"), "emulated")
AWS_REGION = envstr("AWS_REGION", envstr("AWS_DEFAULT_REGION", "us-east-1"))
EMULATOR_URL = envstr("EMULATOR_URL", "http://127.0.0.1:4599")
AWS_MAX_ATTEMPTS = envint("AWS_MAX_ATTEMPTS", 3)
AWS_CONNECT_TIMEOUT = envfloat("AWS_CONNECT_TIMEOUT", 5.0)
AWS_READ_TIMEOUT = envfloat("AWS_READ_TIMEOUT", 70.0)
# The tenant inference API's SageMaker Runtime client (deployments.aws.runtime): a caller waits on it, so
# it gives up quickly (SageMaker allows a model 60 s) and retries at most once.
RUNTIME_CONNECT_TIMEOUT = envfloat("RUNTIME_CONNECT_TIMEOUT", 2.0)
RUNTIME_READ_TIMEOUT = envfloat("RUNTIME_READ_TIMEOUT", 65.0)
RUNTIME_MAX_ATTEMPTS = envint("RUNTIME_MAX_ATTEMPTS", 2)
SAASADMIN_BUCKET = envstr("SAASADMIN_BUCKET", "saasadmin-demo")
SAGEMAKER_EXECUTION_ROLE_ARN = envstr(
    "SAGEMAKER_EXECUTION_ROLE_ARN", "arn:aws:iam::123456789012:role/saasadmin-sagemaker"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that reads the user, their membership and unread count in one query per request.
    "tenants.auth_backend.MembershipBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Database sessions whose per-request read is one written statement (saasadmin/sessions.py).
SESSION_ENGINE = "saasadmin.sessions"
# An admin console's session: signed out this many hours after sign-in (the cookie is not renewed on
# each request, so the lifetime is not extended by activity).
SESSION_COOKIE_AGE = int(envfloat("SESSION_HOURS", 8.0) * 3600)

# django-axes: lock a username+address pair after repeated failures. The address is the client's, also
# behind the documented proxy (saasadmin.security.client_ip; django-ipware is not installed).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envfloat("AXES_COOLOFF_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "saasadmin.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "insights.staticfiles.PlotlyFinder",  # vendor/plotly.min.js, from the plotly package
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Email (batch run notices): printed to the console unless an SMTP server is configured.
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "saasadmin <noreply@localhost>")

# Uploads: files up to FILE_UPLOAD_MAX_MEMORY_SIZE stay in memory, larger ones go to a temporary file as they
# arrive, never past MODEL_PACKAGE_MAX_BYTES (deployments.uploads); the other fields of a form may hold
# DATA_UPLOAD_MAX_MEMORY_SIZE. A request larger than both together is refused unread.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "deployments.uploads.BoundedUploadHandler",
]

# HTTPS hardening, on by default when DEBUG is off; SECURE_HTTPS=0 only for plain-HTTP test servers.
# Not `HTTPS`: Python's WSGI server (runserver) reads that variable as the CGI flag and then takes every
# plain-HTTP request for an HTTPS one. The old name is still read, with a warning.
if "HTTPS" in os.environ and "SECURE_HTTPS" not in os.environ:
    warnings.warn(
        "The HTTPS variable is deprecated: set SECURE_HTTPS instead (runserver reads HTTPS as the CGI flag).",
        FutureWarning,
        stacklevel=1,
    )
SECURE_HTTPS = envbool("SECURE_HTTPS", envbool("HTTPS", not DEBUG))
SECURE_SSL_REDIRECT = SECURE_HTTPS
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in a row in front of the web process, each appending to X-Forwarded-For (see client_ip).
TRUSTED_PROXY_COUNT = envint("PROXY_COUNT", 1) if BEHIND_PROXY else 0
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts only from our own static files (no inline script or handler: static/js/app.js wires them up).
# Inline styles stay allowed: templates set widths inline, and htmx and plotly.js inject style elements.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb", "xr-spatial-tracking",
    )
)  # fmt: skip

# The finance overview highlights tenants whose margin is below this share of their plan price (percent).
FINANCE_MARGIN_THRESHOLD_PERCENT = envint("FINANCE_MARGIN_THRESHOLD_PERCENT", 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_one_line": {"()": "saasadmin.logfilters.RefusalOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's default config gives "django" a console handler of its own (with DEBUG on) that
        # printed every record a second time, as the record also reaches the root's: root's alone.
        "django": {"handlers": [], "level": "INFO"},
        # A refused request (403, 404, …) is one line, not a traceback; 5xx keep theirs.
        "django.request": {"filters": ["refusal_one_line"]},
        "django.security": {"filters": ["refusal_one_line"]},
    },
}
