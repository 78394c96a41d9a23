"""Bench settings: production-like (DEBUG off, PostgreSQL, Redis, persistent connections), plus
the bench urlconf with the baseline views.

Differences from production, each needed to measure on loopback without TLS:
* static files come from ``StaticFilesStorage`` (no manifest, so no ``collectstatic`` into the
  shared tree); the ``{% static %}`` tag costs the same order either way.
* the public lookup's per-address rate limit is lifted (all load comes from 127.0.0.1).
No setting bypasses staff MFA: bench.probe writes the session a staff member holds after a
complete login with the second factor.
"""
import os

from portal.settings.base import *  # noqa: F401,F403
from portal.settings.base import STORAGES

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
# Production keeps database connections open across requests; so does the bench.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))  # noqa: F405
# The public lookup allows 10 lookups per 10 minutes per client address; every bench request
# comes from 127.0.0.1, so the limit is lifted here (bench only) to measure the lookup itself.
TRACK_RATE_LIMIT = 10**9
