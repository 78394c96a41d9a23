"""Settings read the environment the way an env file writes it: ``KEY=`` means unset."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL,"
    "'var': str(settings.VAR_DIR), 'media': str(settings.PRIVATE_MEDIA_ROOT), 'hosts': settings.ALLOWED_HOSTS}))"
)


def _settings_with(**overrides):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **overrides}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_empty_variables_fall_back_to_defaults():
    values = _settings_with(
        REDIS_URL="redis://127.0.0.1:6379/11", CELERY_BROKER_URL="", PORTAL_VAR_DIR="", PRIVATE_MEDIA_ROOT="", ALLOWED_HOSTS=""
    )
    assert values["eager"] is False
    assert values["broker"] == "redis://127.0.0.1:6379/11"
    assert values["var"] == str(ROOT / "var")
    assert values["media"] == str(ROOT / "var" / "private")
    assert values["hosts"] == ["127.0.0.1", "localhost"]


def test_no_broker_means_eager_tasks():
    values = _settings_with(REDIS_URL="", CELERY_BROKER_URL="")
    assert values["eager"] is True
    assert values["broker"] == "memory://"


def test_sessions_are_the_databases_with_or_without_redis():
    probe = "import django; from django.conf import settings; django.setup(); print(settings.SESSION_ENGINE)"

    def engine(**overrides):
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **overrides}
        out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1]

    assert engine(REDIS_URL="redis://127.0.0.1:6379/11") == "portal.sessions"
    assert engine(REDIS_URL="", CELERY_BROKER_URL="") == "portal.sessions"
