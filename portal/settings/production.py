"""Production: the same base, plus the hardening that only makes sense behind TLS.

Nothing here changes what the portal does; it refuses unsafe configuration and turns on the
browser protections. Every value still comes from the environment (see ``.env.example``), so
the same module runs the docker-compose stack, ``make stack`` on loopback and a province's
deployment on managed services.
"""
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import INSECURE_DEV_SECRET_KEY, SECRET_KEY, env_bool

# "#..." is what an env-file parser makes of "SECRET_KEY=   # comment": never a real key.
if SECRET_KEY == INSECURE_DEV_SECRET_KEY or len(SECRET_KEY) < 50 or SECRET_KEY.lstrip().startswith("#"):
    # A guessable key lets anyone forge sessions and password-reset tokens.
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters in production.")

DEBUG = env_bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production: tracebacks would show personal data.")

# Field encryption (portal/crypto.py) falls back to public development keys when these are unset.
for _name in ("FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEY"):
    if len(os.environ.get(_name, "").split(",")[0].strip()) < 32:
        raise ImproperlyConfigured(f"{_name} must be set in production (see docs/OPERATIONS.md, rotating keys).")

# TLS ends at the reverse proxy, which tells Django the original scheme. Only trust this header
# because the proxy overwrites it on every request (deploy/nginx/portal.conf).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False

# Redirect and HSTS can be switched off only for the loopback smoke test (`make stack`), where
# there is no TLS; `check --deploy` then warns, which is the point.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
# Health probes come straight from the orchestrator over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

_cookies_secure = env_bool("SECURE_COOKIES", default=True)
SESSION_COOKIE_SECURE = _cookies_secure
CSRF_COOKIE_SECURE = _cookies_secure
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Behind a proxy on a real host name the origin must be listed for CSRF checks on POST.
if not CSRF_TRUSTED_ORIGINS:  # noqa: F405 - from base
    raise ImproperlyConfigured("CSRF_TRUSTED_ORIGINS must list the public origin(s), e.g. https://mt.example.gov.cn")

# The development gateway only writes SMS into a table: in production every result SMS would be
# silently lost. Only the loopback smoke test (`make stack`) may opt in, explicitly.
if SMS_GATEWAY == "dev" and not env_bool("ALLOW_DEV_SMS_GATEWAY"):  # noqa: F405 - from base
    raise ImproperlyConfigured(
        "SMS_GATEWAY=dev sends no SMS: set SMS_GATEWAY=aliyun or tencent with its keys and template codes "
        "(ALLOW_DEV_SMS_GATEWAY=1 only for a loopback smoke test)."
    )
