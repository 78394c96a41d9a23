"""Production settings: `check --deploy` is clean with a real env and refuses unsafe ones."""
from tests.ops.conftest import manage, production_env


def test_check_deploy_is_clean_with_a_production_env(prod_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=prod_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_tls_features_are_switched_off():
    # The loopback smoke stack turns these off; check --deploy must then not pass silently.
    env = production_env(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", SECURE_COOKIES="0")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in output


def test_production_refuses_the_dev_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug():
    result = manage("check", env=production_env(DEBUG="1"))
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_requires_csrf_trusted_origins():
    result = manage("check", env=production_env(CSRF_TRUSTED_ORIGINS=""))
    assert result.returncode != 0
    assert "CSRF_TRUSTED_ORIGINS" in result.stderr


def test_production_admin_url_comes_from_the_environment(prod_env):
    code = (
        "from django.urls import resolve; import sys;"
        "m = resolve('/staff-7f3k/login/'); print(m.app_name)"
    )
    result = manage("shell", "-c", code, env=prod_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "admin"
    result = manage("shell", "-c", "from django.urls import resolve; resolve('/admin/login/')", env=prod_env)
    assert result.returncode != 0 and "Resolver404" in result.stderr


def test_secret_key_rotation_accepts_a_fallback(prod_env):
    import secrets

    old = secrets.token_urlsafe(64)
    code = (
        "from django.core import signing; from django.conf import settings;"
        f"print(signing.loads(signing.dumps('x', key={old!r})), len(settings.SECRET_KEY_FALLBACKS))"
    )
    result = manage("shell", "-c", code, env={**prod_env, "SECRET_KEY_FALLBACKS": old})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "x 1"


def test_a_commented_out_value_is_never_taken_as_the_secret_key():
    result = manage("check", env=production_env(SECRET_KEY="# required in production; a dev-only key is used when empty"))
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_dev_sms_gateway(prod_env):
    """The dev gateway writes SMS to a table: in production every result SMS would be lost."""
    result = manage("check", env={**prod_env, "SMS_GATEWAY": "dev"})
    assert result.returncode != 0
    assert "SMS_GATEWAY=dev sends no SMS" in result.stderr
    assert manage("check", env={**prod_env, "SMS_GATEWAY": "dev", "ALLOW_DEV_SMS_GATEWAY": "1"}).returncode == 0
