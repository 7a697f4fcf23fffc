"""Settings. Everything that differs between a laptop and a data centre comes from the environment.

Embedded default: SQLite under ./var and in-process jobs. Production: DATABASE_URL=postgres://…,
REDIS_URL=redis://… (Celery broker and cache), SECRET_KEY, DEBUG=0, ALLOWED_HOSTS.
"""
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TONGBAN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "embedded-only-insecure-key-change-me" if DEBUG else None
)
if not SECRET_KEY:
    raise RuntimeError("生产环境必须设置 SECRET_KEY 环境变量。")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "tongban.core",
    "tongban.workdays",
    "tongban.cases",
    "tongban.hotline",
    "tongban.dispatch",
    "tongban.knowledge",
    "tongban.analytics",
    "tongban.hotspots",
    "tongban.notify",
    "tongban.portal",
    "tongban.open311",
    "tongban.catalog",
    "tongban.hall",
    "tongban.accounts",
    "tongban.audit",
    "tongban.api",
    "tongban.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tongban.accounts.middleware.AuditContextMiddleware",
    "tongban.accounts.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tongban.accounts.middleware.SecurityHeadersMiddleware",
    "tongban.api.middleware.JsonErrorsMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.web.context.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # IMMEDIATE transactions take the write lock up front, so two writers queue instead of one
    # failing with "database is locked" halfway; WAL lets readers run beside the writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    "tongban.accounts.backends.LockoutBackend",  # lock-out, address throttling, failure audit, 2FA only via the login page
    "tongban.accounts.backends.RolePermissionBackend",  # admin permissions from roles: no superuser in daily work
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "tongban.accounts.validators.LengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "tongban.accounts.validators.ComplexityValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "tongban.accounts.validators.NotUsernameValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "tongban.accounts.validators.PasswordHistoryValidator", "OPTIONS": {"count": 5}},
]
# Account security (docs/security.md). Demo mode lets demo accounts skip the first-login change of password
# and 2FA enrolment; it can only be on in the embedded DEBUG set-up.
TONGBAN_LOGIN_MAX_FAILURES = int(os.environ.get("TONGBAN_LOGIN_MAX_FAILURES", "5"))
TONGBAN_LOGIN_LOCK_MINUTES = int(os.environ.get("TONGBAN_LOGIN_LOCK_MINUTES", "15"))
TONGBAN_LOGIN_IP_MAX_FAILURES = int(os.environ.get("TONGBAN_LOGIN_IP_MAX_FAILURES", "20"))
TONGBAN_TRUST_X_FORWARDED_FOR = env_bool("TONGBAN_TRUST_X_FORWARDED_FOR", False)
TONGBAN_DEMO = DEBUG and env_bool("TONGBAN_DEMO", True)
TONGBAN_AUDIT_RETENTION_DAYS = int(os.environ.get("TONGBAN_AUDIT_RETENTION_DAYS", "180"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True  # embedded mode: jobs run in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # the 三率 board reads finished days from this rollup; hourly, so a missed run heals itself
    "refresh-unit-day-stats": {"task": "tongban.analytics.refresh_day_stats", "schedule": 3600.0},
    # 智能派单: retrain from finished cases and corrections at 02:30; used only if not worse
    "dispatch-train-nightly": {"task": "tongban.dispatch.train_nightly", "schedule": crontab(hour=2, minute=30)},
    # 热点发现: cluster the recent requests once a day (`tongban hotspots` by hand)
    "detect-hotspots": {"task": "tongban.hotspots.detect", "schedule": crontab(hour=3, minute=0)},
    # notification outbox: retries after a gateway outage and delayed messages
    "notify-flush-outbox": {"task": "tongban.notify.flush", "schedule": 60.0},
    # 容缺受理: due reminders to supply materials, and lapsed deferrals to 补正 (docs/hall.md)
    "hall-deferral-jobs": {"task": "tongban.hall.deferral_jobs", "schedule": 900.0},
}

# 消息通知 (docs/notify.md): SMS backend "file" (var/sms.log), "console", "http" (gateway) or a dotted path
NOTIFY_SMS_BACKEND = os.environ.get("NOTIFY_SMS_BACKEND", "file")
NOTIFY_SMS_FILE = os.environ.get("NOTIFY_SMS_FILE", str(VAR_DIR / "sms.log"))
NOTIFY_SMS_GATEWAY_URL = os.environ.get("NOTIFY_SMS_GATEWAY_URL", "")
NOTIFY_SMS_GATEWAY_TOKEN = os.environ.get("NOTIFY_SMS_GATEWAY_TOKEN", "")
NOTIFY_SMS_GATEWAY_TIMEOUT = float(os.environ.get("NOTIFY_SMS_GATEWAY_TIMEOUT", "5"))
NOTIFY_EMAIL_BACKEND = os.environ.get("NOTIFY_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
NOTIFY_SITE_NAME = os.environ.get("NOTIFY_SITE_NAME", "12345政务服务便民热线")
NOTIFY_BATCH_SECONDS = float(os.environ.get("NOTIFY_BATCH_SECONDS", "0.5"))  # production: one flush task per window and process
TONGBAN_API_TOKEN_CACHE_SECONDS = float(os.environ.get("TONGBAN_API_TOKEN_CACHE_SECONDS", "5"))  # 0: look every token up
# notification templates and case types, read on every intake (tongban/core/recent.py); 0: read each time
TONGBAN_REFERENCE_CACHE_SECONDS = float(os.environ.get("TONGBAN_REFERENCE_CACHE_SECONDS", "5"))
TONGBAN_PUBLIC_URL = os.environ.get("TONGBAN_PUBLIC_URL", "http://127.0.0.1:8000")  # links in SMS and on door plates

# Idle timeout: the session ends after SESSION_IDLE_SECONDS without a request (default 30 minutes),
# checked on the server by tongban.accounts.middleware.IdleTimeoutMiddleware; the cookie expires alike.
SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", "1800"))
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # pages send the token from the template (hx-headers), never read the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Production sits behind a TLS-terminating proxy (nginx) that sets X-Forwarded-Proto; see docs/deploy.md.
    # TONGBAN_HTTPS=0 only for a plain-HTTP intranet: then no HSTS, no secure-only cookies (check --deploy warns).
    HTTPS = env_bool("TONGBAN_HTTPS", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS and env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Where the development data set lives (../shared/data beside the project), if present.
SHARED_DATA_DIR = Path(os.environ.get("TONGBAN_SHARED_DATA", BASE_DIR.parent / "shared" / "data"))
