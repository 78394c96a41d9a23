import json

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_healthz_reports_every_configured_part(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "storage", "broker"}
    assert body["checks"]["database"]["detail"] == "postgresql"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_503_when_a_part_fails(client, settings):
    # A cache that cannot be reached: the check must fail fast, not hang or 500.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "fail"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_home_is_chinese_by_default_and_english_on_request(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "门诊慢特病资格认定" in response.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get("/")
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Outpatient chronic and special disease certification" in html


@pytest.mark.django_db
def test_elder_mode_is_remembered(client):
    response = client.post(reverse("elder_mode"), {"enabled": "1", "next": "/catalog/"})
    assert response.status_code == 302
    assert response["Location"] == "/catalog/"
    assert client.get("/").content.decode().count('class="elder"') == 1
    client.post(reverse("elder_mode"), {"enabled": "0", "next": "/"})
    assert 'class="elder"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_elder_mode_refuses_offsite_redirect(client):
    response = client.post(reverse("elder_mode"), {"enabled": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_tests_run_on_the_production_stack(settings):
    """The suite is meant to run against PostgreSQL and Redis (make test); fail loudly if not."""
    assert settings.DATABASES["default"]["ENGINE"] == "portal.db.postgresql"  # Django's, health check tuned
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


@pytest.mark.django_db
def test_the_shells_cached_fragments_follow_language_and_sign_in(client):
    """The shell's fixed text is rendered once per process and language (templates/base.html):
    a page in one language never gets another's fragments, and the signed-in links and the login
    link are separate fragments, so nobody sees the other state's header."""
    from django.core.cache import caches

    from tests.factories import UserFactory

    zh = client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    en = client.get("/").content.decode()
    assert "病种目录" in zh and "跳到正文" in zh and "门诊慢特病服务平台" in zh
    assert "病种目录" not in en and "跳到正文" not in en
    assert f'href="{reverse("account_login")}"' in en
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    client.force_login(UserFactory())
    signed_in = client.get("/").content.decode()
    assert f'href="{reverse("applications:list")}"' in signed_in and "退出" in signed_in
    assert f'href="{reverse("account_login")}"' not in signed_in
    assert "病种目录" in signed_in  # Chinese again: the English fragments were not reused
    assert caches["shell"]._cache  # the fragments were really cached (LocMemCache: this process only)


def test_the_shell_cache_is_process_memory(settings):
    """Only fixed, non-personal text goes there, and it is never shared between processes."""
    assert settings.CACHES["shell"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
