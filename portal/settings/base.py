"""One settings module for every environment; what differs comes from environment variables."""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
def env(name: str, default=""):
    """An environment variable, where set-but-empty counts as unset (``KEY=`` in an env file)."""
    value = os.environ.get(name)
    return default if value is None or not value.strip() else value


VAR_DIR = Path(env("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# The embedded default must run without any configuration, so an unset key falls back to a
# development-only value; production settings refuse to start with it (see production.py).
INSECURE_DEV_SECRET_KEY = "dev-insecure-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY") or INSECURE_DEV_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# True only for the zero-configuration newcomer setup (`make run`): demo accounts and the
# developer SMS inbox are allowed there and nowhere else.
EMBEDDED = not os.environ.get("DATABASE_URL")

INSTALLED_APPS = [
    "portal",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "import_export",
    "catalog",
    "applications",
    "reviews",
    "certifications",
    "notifications",
]

MIDDLEWARE = [
    # First, so every log line of the request (and the response) carries its id.
    "portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, moving sessions from the replaced backends' paths (portal.auth_backends).
    "portal.middleware.AuthenticationMiddleware",
    # After authentication: the rule depends on request.user.
    "portal.middleware.NoStoreForPersonalDataMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.shell",
                "notifications.context_processors.inbox",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=int(env("DB_CONN_MAX_AGE", "0")),
        # A kept connection is checked before a request (or task) reuses it: a database restart
        # or failover costs a reconnect, not an error.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", default=True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend; its health check skips the SELECT 1 for a connection that worked moments
    # ago and has nothing waiting on its socket (portal/db/postgresql/base.py says why it may).
    DATABASES["default"]["ENGINE"] = "portal.db.postgresql"
DB_HEALTH_CHECK_IDLE_SECONDS = float(env("DB_HEALTH_CHECK_IDLE_SECONDS", "1"))
# The outbox's per-SMS statements and the citizen pages' reads are prepared once per connection
# (portal/prepared.py); 0 behind a pooler that does not keep them between statements
# (PgBouncer, transaction pooling).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

# --- Cache and Celery ---------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, reusing its Redis client (portal/cache.py says why).
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "portal"),
            # A cache that hangs must not hang a citizen's request.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The site shell's fixed fragments (templates/base.html): translated text and links, the same for
# every visitor, kept in each process's memory. Never anything personal: not shared, not in Redis.
CACHES["shell"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shell", "TIMEOUT": None}
# 我的申请 and a case's page, kept as rendered for the rows they were rendered from, in each
# process's memory only (portal/page_memo.py): characters per process; 0 turns it off.
PAGE_MEMO_BYTES = int(env("PAGE_MEMO_BYTES", str(8 * 1024 * 1024)))

# Celery: with no broker configured every task runs in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL) or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not bool(env("CELERY_BROKER_URL", REDIS_URL))
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
# Workers keep their database connection between tasks by the web's rules (DB_CONN_MAX_AGE,
# health checks; portal/celery.py). Celery's Django fixup would otherwise open a new connection
# for every task, whatever CONN_MAX_AGE says; with this set it only recycles every N tasks.
CELERY_DB_REUSE_MAX = 1000 if DATABASES["default"]["CONN_MAX_AGE"] != 0 else None
CELERY_TIMEZONE = "Asia/Shanghai"
# Publishing must fail fast when the broker is down: the outbox sweep delivers later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# --- Notifications (notifications/README.md; every variable is in .env.example) -------------
SMS_GATEWAY = env("SMS_GATEWAY", "dev")  # dev | aliyun | tencent | a dotted class path
SMS_FAILOVER_GATEWAY = env("SMS_FAILOVER_GATEWAY", "")  # tried only when the first surely did not send
NOTIFICATIONS = {
    "MAX_ATTEMPTS": int(env("NOTIFICATIONS_MAX_ATTEMPTS", "5")),
    "RETRY_BASE_SECONDS": int(env("NOTIFICATIONS_RETRY_BASE_SECONDS", "30")),
    "SMS_PER_NUMBER_PER_DAY": int(env("NOTIFICATIONS_SMS_PER_NUMBER_PER_DAY", "10")),
    "LOGIN_CODE_INTERVAL_SECONDS": int(env("NOTIFICATIONS_LOGIN_CODE_INTERVAL_SECONDS", "60")),
    "LOGIN_CODES_PER_NUMBER_PER_DAY": int(env("NOTIFICATIONS_LOGIN_CODES_PER_NUMBER_PER_DAY", "10")),
    "QUIET_HOURS": env("NOTIFICATIONS_QUIET_HOURS", "21-8"),  # local hours, end exclusive
    "SWEEP_SECONDS": int(env("NOTIFICATIONS_SWEEP_SECONDS", "60")),
    "SWEEP_PENDING_GRACE_SECONDS": int(env("NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS", "60")),
    # Longer than CELERY_TASK_TIME_LIMIT: a row "sending" for longer has no live worker behind it.
    "SENDING_STUCK_AFTER_SECONDS": int(env("NOTIFICATIONS_SENDING_STUCK_AFTER_SECONDS", "600")),
}
ALIYUN_SMS = {
    "ACCESS_KEY_ID": env("ALIYUN_SMS_ACCESS_KEY_ID", ""),
    "ACCESS_KEY_SECRET": env("ALIYUN_SMS_ACCESS_KEY_SECRET", ""),
    "SIGN_NAME": env("ALIYUN_SMS_SIGN_NAME", ""),
    "TEMPLATES": env("ALIYUN_SMS_TEMPLATES", ""),  # template_key:SMS_123,template_key:SMS_456
    "ENDPOINT": env("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
    "PROTOCOL": env("ALIYUN_SMS_PROTOCOL", "https"),
    "TIMEOUT_SECONDS": float(env("ALIYUN_SMS_TIMEOUT_SECONDS", "10")),
}
TENCENT_SMS = {
    "SECRET_ID": env("TENCENT_SMS_SECRET_ID", ""),
    "SECRET_KEY": env("TENCENT_SMS_SECRET_KEY", ""),
    "SDK_APP_ID": env("TENCENT_SMS_SDK_APP_ID", ""),
    "SIGN_NAME": env("TENCENT_SMS_SIGN_NAME", ""),
    "TEMPLATES": env("TENCENT_SMS_TEMPLATES", ""),  # template_key:123456,template_key:123457
    "REGION": env("TENCENT_SMS_REGION", "ap-guangzhou"),
    "ENDPOINT": env("TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
    "PROTOCOL": env("TENCENT_SMS_PROTOCOL", "https"),
    "TIMEOUT_SECONDS": int(env("TENCENT_SMS_TIMEOUT_SECONDS", "10")),
    # Delivery receipts lag: before this long after an attempt, "no receipt" proves nothing.
    "RECEIPT_WAIT_SECONDS": int(env("TENCENT_SMS_RECEIPT_WAIT_SECONDS", "600")),
}

# The periodic schedule, in one place. Each app adds one entry: a name, its task, and when.
# Add e.g. "certifications-expiry-reminders": {"task": "...", "schedule": crontab(hour=9, minute=0)}.
CELERY_BEAT_SCHEDULE: dict = {
    # Re-queues outbox rows a lost task or a broker outage left behind; recovers stuck sends.
    "notifications-sweep": {
        "task": "notifications.tasks.notification_sweep",
        "schedule": NOTIFICATIONS["SWEEP_SECONDS"],
        "options": {"expires": NOTIFICATIONS["SWEEP_SECONDS"]},
    },
    # Expires certifications and temporary remote-care registrations past their end date and sends
    # renewal reminders; just after midnight Asia/Shanghai so "today" is the new day. Idempotent.
    "certifications-daily-sweep": {
        "task": "certifications.daily_sweep",
        "schedule": crontab(hour=0, minute=20),
        "options": {"expires": 6 * 3600},
    },
}

# --- Storage ------------------------------------------------------------------------------
# Uploaded medical records are private: they are never served from a public URL, only through
# access-checked views (local disk) or short-lived presigned URLs (S3).
STORAGE_BACKEND = env("STORAGE_BACKEND", "local")
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET", "portal-private"),
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID"),
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY"),
            "region_name": env("S3_REGION", "us-east-1"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "addressing_style": "path",
            # SigV4: what MinIO and every current region require; expiry is then X-Amz-Expires.
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Citizen uploads (applications.uploads): per file, per case, and a pixel cap against image bombs.
UPLOAD_MAX_BYTES = int(env("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
UPLOAD_MAX_FILES_PER_APPLICATION = int(env("UPLOAD_MAX_FILES_PER_APPLICATION", "20"))
UPLOAD_MAX_PIXELS = int(env("UPLOAD_MAX_PIXELS", "50000000"))
# Below this sharpness score (Laplacian variance) a photo gets "照片可能不清晰，建议重新拍摄".
UPLOAD_BLUR_THRESHOLD = float(env("UPLOAD_BLUR_THRESHOLD", "40"))
# Re-queues image processing that a lost task or a broker outage left behind.
CELERY_BEAT_SCHEDULE["applications-material-sweep"] = {
    "task": "applications.tasks.material_process_sweep",
    "schedule": 600,
    "options": {"expires": 600},
}
# Public lookup /track/: attempts per client IP per window.
TRACK_RATE_LIMIT = int(env("TRACK_RATE_LIMIT", "10"))
TRACK_RATE_WINDOW_SECONDS = int(env("TRACK_RATE_WINDOW_SECONDS", "600"))

# --- Auth ---------------------------------------------------------------------------------
# Django's and allauth's, with the user of every signed-in request read by a prepared statement.
AUTHENTICATION_BACKENDS = [
    "portal.auth_backends.ModelBackend",
    "portal.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(60 * 60 * 8)))
# In the database, each row with its account's key: on PostgreSQL a signed-in request reads its
# session and its account in one statement (portal/sessions.py). Expired rows go every night.
SESSION_ENGINE = "portal.sessions"
CELERY_BEAT_SCHEDULE["portal-session-clear-expired"] = {
    "task": "portal.tasks.session_clear_expired",
    "schedule": crontab(hour=4, minute=10),
    "options": {"expires": 6 * 3600},
}
# --- Staff security (reviews.security): second factor, lockout, idle timeout ----------------
# Staff must enrol an authenticator app (TOTP) and enter its code at the admin login. Off only in
# the embedded default (`make run`) so a newcomer can try the demo queue at once; demo staff can
# still enrol. STAFF_MFA_REQUIRED=1 turns it on there too.
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", default=not EMBEDDED)
STAFF_LOGIN_MAX_FAILURES = int(env("STAFF_LOGIN_MAX_FAILURES", "5"))
STAFF_LOGIN_LOCKOUT_SECONDS = int(env("STAFF_LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
STAFF_IDLE_TIMEOUT_SECONDS = int(env("STAFF_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", "门特服务")
MIDDLEWARE += ["reviews.security.StaffSecurityMiddleware"]
# Each organisation's supervisors get the list of overdue cases every workday morning.
CELERY_BEAT_SCHEDULE["reviews-overdue-digest"] = {
    "task": "reviews.tasks.overdue_digest_send",
    "schedule": crontab(hour=8, minute=0),
    "options": {"expires": 6 * 3600},
}

# --- Citizen accounts (allauth): mobile number + SMS code; a password is optional ----------
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
# Chinese SMS codes are six digits valid for five minutes; three wrong tries void a code.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 5 * 60
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 3
# "Didn't get it? Send again" (at most once a minute) at signup. For login codes the page's
# "send again" asks for a new code from the start (allauth's own resend fails for a number
# without an account, which enumeration prevention must treat like any other).
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = False
# No "wrong number? change it" at signup: allauth offers it only when the number was new, which
# would tell a registered number apart ("取消，换个手机号" starts over instead).
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_CHANGE = False
# A number being registered here hints that its owner has a chronic disease: login and signup
# answer the same for every number, and the number itself is told by SMS ("no account, sign up" /
# "already registered, log in with a code"; portal.adapters).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_SIGNUP_REDIRECT_URL = "/me/identity/"
# One code per number per minute (the SMS layer enforces it again for "resend", which allauth
# does not time); per-IP limits stay loose enough for a hospital window where many citizens
# share one address. Refusals become a Chinese 429 page (portal.rate_limits), never a 500.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "signup": "10/m/ip",
    "request_login_code": "20/m/ip,1/m/key",
    "verify_phone": "1/m/key,10/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "change_phone": "1/m/user",
}
MIDDLEWARE += ["portal.rate_limits.RateLimitedMiddleware"]
# Real-name check (人脸识别): a dotted path to a portal.identity_providers.IdentityProvider.
# The development provider passes everyone, so it refuses to work outside development.
IDENTITY_PROVIDER = env("IDENTITY_PROVIDER", "portal.identity_providers.DevelopmentFaceCheck")
IDENTITY_DEV_PROVIDER_ALLOWED = env_bool("IDENTITY_DEV_PROVIDER_ALLOWED", default=EMBEDDED or DEBUG)

# --- i18n ---------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Health -------------------------------------------------------------------------------
HEALTHZ_TIMEOUT_SECONDS = float(env("HEALTHZ_TIMEOUT_SECONDS", "2"))

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", "INFO")
# JSON lines (LOG_FORMAT=plain for a human at a terminal). Both filters sit on the handler so
# records from every logger are tagged with the request id and have ID numbers redacted.
LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.log_format.RequestIdFilter"},
        "redact_id_numbers": {"()": "portal.log_format.RedactIdNumbersFilter"},
    },
    "formatters": {
        "json": {"()": "portal.log_format.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if LOG_FORMAT == "plain" else "json",
            "filters": ["request_id", "redact_id_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
# Celery would replace the root handlers with its own plain ones; workers log like web does.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- HTTP hardening (portal/middleware.py), the same in every environment ------------------
ADMIN_URL = env("ADMIN_URL", "admin/")
# Old keys still accepted for signatures while a SECRET_KEY rotation rolls out (docs/OPERATIONS.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# Paths whose pages show personal data: never stored by a browser or proxy cache. Signed-in
# responses are no-store everywhere anyway; these cover the anonymous public lookup too.
NO_STORE_PATH_PREFIXES = (
    "/me/", "/applications/", "/track/", "/messages/", "/reviews/", "/certifications/", "/accounts/", "/dev/outbox/",
)
# Own origin only; no inline script. data:/blob: images for QR codes and upload previews.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Static files: whitenoise serves the collected files; on a developer machine (and in tests)
# it reads straight from the finders so no collectstatic is needed.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("WHITENOISE_USE_FINDERS")
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Retention ----------------------------------------------------------------------------
# Withdrawn and rejected cases lose their files and personal data after this many days
# (applications/retention.py); never below 183 so audit records last at least six months.
RETENTION_DAYS = int(env("RETENTION_DAYS", "365"))
CELERY_BEAT_SCHEDULE["applications-retention-purge"] = {
    "task": "applications.tasks.retention_purge",
    "schedule": crontab(hour=3, minute=30),
    "options": {"expires": 6 * 3600},
}
