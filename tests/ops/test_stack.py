"""Smoke test of the production configuration: `scripts/stack.sh` (what `make stack` runs)
starts gunicorn, a Celery worker and beat with portal.settings.production against PostgreSQL,
Redis and moto's S3 API on loopback; we probe it over HTTP and through its own manage.py."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import dj_database_url
import psycopg2
import pytest

from applications.id_numbers import is_valid_id_number, mask_id_number
from tests.ops.conftest import PYTHON, ROOT, free_port

ID = "11010519491231002X"


def _smoke_database_url() -> str:
    base = dj_database_url.parse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/portal")
    name = f"{base['NAME']}_smoke"
    auth = base["USER"] + (f":{base['PASSWORD']}" if base["PASSWORD"] else "")
    return f"postgres://{auth}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/{name}"


def _drop_database(url: str) -> None:
    db = dj_database_url.parse(url)
    conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
                            dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
    conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack_dir = tmp_path_factory.mktemp("stack")
    web_port, s3_port = free_port(), free_port()
    database_url = _smoke_database_url()
    _drop_database(database_url)  # a fresh database: migrations run from zero, as on a first deploy
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))},
        "STACK_DIR": str(stack_dir),
        "STACK_WEB_PORT": str(web_port),
        "STACK_S3_PORT": str(s3_port),
        "STACK_DATABASE_URL": database_url,
        # A private redis-server: the smoke's Celery queue never mixes with anyone else's.
        "STACK_REDIS_PORT": str(free_port()),
        "STACK_TIMEOUT": "90",
        "PY": PYTHON,
    }
    script = str(ROOT / "scripts" / "stack.sh")
    try:
        started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=240)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        stack_env = dict(
            line.split("=", 1) for line in (stack_dir / "env").read_text().splitlines() if line and not line.startswith("#")
        )
        yield {"dir": stack_dir, "url": f"http://127.0.0.1:{web_port}", "env": {**os.environ, **stack_env}, "start": started}
    finally:
        pids = [int(p.read_text()) for p in stack_dir.glob("*.pid")]
        stopped = subprocess.run([script, "stop"], env=env, capture_output=True, text=True, timeout=60)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftover = [pid for pid in pids if _alive(pid)]
        for pid in leftover:  # only our own processes, by id
            os.killpg(pid, 9)
        _drop_database(database_url)
        assert stopped.returncode == 0 and not leftover, (stopped.stdout, stopped.stderr, leftover)


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _shell(stack, code: str, timeout: float = 90) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=stack["env"], capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_started_once_with_production_settings(stack):
    assert stack["env"]["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
    assert stack["start"].stdout.count("Running migrations") <= 1
    for name in ("redis", "s3", "web", "worker", "beat"):
        assert _alive(int((stack["dir"] / f"{name}.pid").read_text())), name
    # The private Redis runs like the compose service: no eviction, append-only file on.
    import redis

    server = redis.Redis.from_url(stack["env"]["REDIS_URL"], socket_timeout=5)
    assert server.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert server.config_get("appendonly") == {"appendonly": "yes"}
    server.close()


def test_healthz_reports_every_production_part_ok(stack):
    status, headers, body = _get(stack["url"] + "/healthz")
    assert status == 200, body
    report = json.loads(body)
    checks = report["checks"]
    assert {name: checks[name]["ok"] for name in checks} == {"database": True, "cache": True, "broker": True, "storage": True}
    assert (checks["database"]["detail"], checks["cache"]["detail"], checks["storage"]["detail"]) == ("postgresql", "redis", "s3")
    assert headers["X-Request-ID"]


def test_the_container_health_checks_work_against_the_running_processes(stack):
    # The same commands docker-compose.yml runs as health checks for web and worker.
    import socket

    port = stack["url"].rsplit(":", 1)[1]
    env = {**stack["env"], "GUNICORN_BIND": f"127.0.0.1:{port}"}
    web = subprocess.run([PYTHON, "deploy/healthcheck.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert web.returncode == 0, web.stderr
    down = subprocess.run(
        [PYTHON, "deploy/healthcheck.py"], cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{free_port()}"},
        capture_output=True, text=True, timeout=30,
    )
    assert down.returncode == 1 and "unhealthy" in down.stderr
    # The stack waits for the web's /healthz only, so the worker may still be starting: a ping
    # broadcast before it listens is lost. Docker retries a health check; so does this.
    for _ in range(3):
        worker = subprocess.run(
            [PYTHON, "-m", "celery", "-A", "portal", "inspect", "ping", "--destination", f"stack-worker@{socket.gethostname()}",
             "--timeout", "10"],
            cwd=ROOT, env=stack["env"], capture_output=True, text=True, timeout=60,
        )
        if worker.returncode == 0:
            break
    assert worker.returncode == 0 and "pong" in worker.stdout, worker.stdout + worker.stderr


def test_pages_carry_the_production_headers(stack):
    status, headers, body = _get(stack["url"] + "/", **{"X-Request-ID": "smoke-request-0001"})
    assert status == 200
    assert headers["X-Request-ID"] == "smoke-request-0001"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    # Static files come from the collected, hashed manifest (collectstatic ran at start).
    css = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', body.decode())
    assert css, "manifest static file name expected in production"
    assert _get(stack["url"] + css.group(1))[0] == 200
    # The admin lives where ADMIN_URL says, not at /admin/.
    assert _get(stack["url"] + "/admin/login/")[0] == 404
    status, headers, _ = _get(stack["url"] + "/staff-admin/login/")
    assert status == 200 and "no-store" in headers["Cache-Control"]


def test_uploads_are_stored_as_private_objects_in_the_s3_api(stack):
    out = _shell(stack, (
        "import json, urllib.request\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import storages\n"
        "s = storages['default']\n"
        "name = s.save('smoke/report.txt', ContentFile(b'smoke-bytes'))\n"
        "keys = [o.key for o in s.bucket.objects.filter(Prefix='smoke/')]\n"
        "body = urllib.request.urlopen(s.url(name), timeout=10).read().decode()\n"
        "grants = [g['Permission'] for g in s.bucket.Object(name).Acl().grants]\n"
        "print('RESULT', json.dumps({'name': name, 'keys': keys, 'body': body, 'grants': grants, 'url': s.url(name)}))\n"
    ))
    result = json.loads(out.split("RESULT ", 1)[1])
    assert result["name"] in result["keys"]
    assert result["body"] == "smoke-bytes"
    assert result["grants"] == ["FULL_CONTROL"]
    assert "X-Amz-Expires=300" in result["url"]


def test_the_worker_delivers_a_notification_through_the_dev_gateway(stack):
    # The outbox row is written in a transaction; after commit the task goes to Redis, the
    # worker process (not this one) sends it through the dev gateway, which stores a DevSms row.
    out = _shell(stack, (
        "import time, uuid\n"
        "from django.db import transaction\n"
        "from notifications.models import DevSms, Notification\n"
        "from notifications.services import notification_create\n"
        "marker = 'SMOKE-' + uuid.uuid4().hex[:8].upper()\n"
        "with transaction.atomic():\n"
        "    rows = notification_create(event_key=f'smoke:{marker}', template_key='application_submitted',\n"
        "                               params={'number': marker}, phone='13912345678', channels=('sms',), urgent=True)\n"
        "deadline = time.monotonic() + 45\n"
        "while time.monotonic() < deadline and not DevSms.objects.filter(text__contains=marker).exists():\n"
        "    time.sleep(0.3)\n"
        "sms = DevSms.objects.filter(text__contains=marker).first()\n"
        "row = Notification.objects.get(pk=rows[0].pk)\n"
        "print('RESULT', marker, row.status, row.provider, 'DELIVERED' if sms else 'MISSING')\n"
    ), timeout=120)
    marker, status, provider, delivered = out.split("RESULT ", 1)[1].split()
    assert (delivered, status, provider) == ("DELIVERED", "sent", "dev"), out
    worker_log = (stack["dir"] / "worker.log").read_text()
    assert "notifications.tasks.notification_send" in worker_log


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects and sends Django's CSRF token."""

    def __init__(self, base: str):
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def _csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def request(self, method: str, path: str, data: dict | None = None, files: dict | None = None):
        headers = {"X-Request-ID": "smoke-case-" + uuid.uuid4().hex[:12]}
        body = None
        if method == "POST":
            fields = {"csrfmiddlewaretoken": self._csrf(), **(data or {})}
            if files:
                boundary = uuid.uuid4().hex
                parts = []
                for key, value in fields.items():
                    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
                for key, (filename, content, mime) in files.items():
                    parts.append(
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                        f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n"
                    )
                body = b"".join(parts) + f"--{boundary}--\r\n".encode()
                headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            else:
                body = urllib.parse.urlencode(fields).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode()

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict, files: dict | None = None):
        return self.request("POST", path, data, files)


def _poll_json(stack, code: str, timeout: float = 60) -> dict:
    """Run ``code`` (which sets ``result``, or None to wait) in the stack's shell until it is set."""
    script = (
        "import json, time\n"
        f"deadline = time.monotonic() + {timeout}\n"
        "while True:\n"
        + "".join(f"    {line}\n" for line in code.strip().splitlines())
        + "    if result is not None or time.monotonic() > deadline:\n"
        "        break\n"
        "    time.sleep(0.3)\n"
        "print('RESULT', json.dumps(result, ensure_ascii=False, default=str))\n"
    )
    out = _shell(stack, script, timeout=timeout + 60)
    result = json.loads(out.split("RESULT ", 1)[1])
    assert result is not None, f"timed out waiting for: {code}"
    return result


SETUP_CASE = """
import json
from django.contrib.auth.models import Group
from catalog.models import Region
from reviews.models import ReviewingOrganisation, StaffMembership
from reviews.roles import StaffRole
from reviews.services import staff_groups_ensure
from tests.applications.factories import CriterionFactory, RequiredMaterialFactory
from tests.factories import DiseaseFactory, InstitutionFactory, RegionFactory, SchemeFactory, UserFactory
region = RegionFactory()
scheme = SchemeFactory()
disease = DiseaseFactory(region=region, schemes=[scheme], name="高血压")
criterion = CriterionFactory(disease=disease, text="收缩压≥140mmHg")
RequiredMaterialFactory(disease=disease, code="diagnosis", name="疾病诊断证明书")
hospital = InstitutionFactory(region=region, level=3)
staff_groups_ensure()
organisation = ReviewingOrganisation.objects.create(name="邵阳市医疗保障事务中心")
organisation.regions.add(region)
reviewer = UserFactory(staff=True, username="smoke-reviewer")
StaffMembership.objects.create(user=reviewer, organisation=organisation)
reviewer.groups.add(Group.objects.get(name=str(StaffRole.REVIEWER)))
print("RESULT", json.dumps({"region": region.pk, "scheme": scheme.pk, "disease": disease.pk,
      "criterion": criterion.pk, "hospital": hospital.pk, "reviewer": reviewer.pk}))
"""


def test_a_full_case_over_http_through_the_production_stack(stack):
    """Sign up by SMS code, apply with an upload stored in S3, the worker processes it, a reviewer
    approves through the reviews service, and the approval SMS arrives in the dev gateway."""
    from django.conf import settings

    from tests.applications import corpus

    if "phone" not in getattr(settings, "ACCOUNT_LOGIN_METHODS", ()):
        pytest.skip("sign-up by SMS code is not in this tree yet (accounts area)")
    ids = json.loads(_shell(stack, SETUP_CASE).split("RESULT ", 1)[1])
    phone = "139" + str(uuid.uuid4().int)[:8]
    browser = Browser(stack["url"])

    # 1. Sign up with a mobile number; the code travels outbox -> Redis -> worker -> dev gateway.
    assert browser.get("/accounts/signup/")[0] == 200
    status, headers, body = browser.post("/accounts/signup/", {"phone": phone})
    assert status == 302, body[:2000]
    code = _poll_json(stack, (
        "from notifications.models import DevSms\n"
        f"sms = DevSms.objects.filter(phone__endswith='{phone}', template_key='login_code').first()\n"
        "result = sms.params['code'] if sms else None\n"
    ))
    status, headers, body = browser.post(headers["Location"], {"action": "verify", "code": code})
    assert status == 302, body[:2000]
    status, headers, _ = browser.get("/me/")
    assert status == 200 and "no-store" in headers["Cache-Control"]

    # 2. Real-name identity: the identity provider is another area's; record a verified one.
    person = _poll_json(stack, (
        "from django.contrib.auth import get_user_model\n"
        "from tests.applications.factories import IdentityFactory\n"
        "from tests.factories import PersonFactory\n"
        f"user = get_user_model().objects.get(phone__endswith='{phone}')\n"
        f"identity = IdentityFactory(user=user, person=PersonFactory(region_id={ids['region']}, scheme_id={ids['scheme']}))\n"
        "result = {'pk': identity.person.pk, 'id_number': identity.person.id_number}\n"
    ))

    # 3. The wizard, for oneself.
    status, headers, body = browser.post("/applications/new/", {"patient": person["pk"]})
    assert status == 302, body[:2000]
    step2 = headers["Location"]
    application_id = int(re.search(r"/applications/(\d+)/step/2/", step2).group(1))
    status, headers, body = browser.post(step2, {
        "region": ids["region"], "scheme": ids["scheme"], "disease": ids["disease"], "criteria_for": ids["disease"],
        f"criterion_{ids['criterion']}": "on", "save": "1",
    })
    assert status == 302, body[:2000]
    status, headers, body = browser.post(f"/applications/{application_id}/step/3/", {
        "diagnosis": "原发性高血压 3 级", "diagnosing_institution": ids["hospital"],
        "diagnosis_date": "2026-01-05", "designated_institution": ids["hospital"],
    })
    assert status == 302, body[:2000]
    status, headers, body = browser.post(
        f"/applications/{application_id}/materials/", {"slot": "diagnosis"},
        files={"files": ("诊断证明.jpg", corpus.jpeg_bytes(size=(1200, 900)), "image/jpeg")},
    )
    assert status == 302, body[:2000]

    # 4. The worker processes the upload; the object is in the S3 API, private.
    material = _poll_json(stack, (
        "from applications.models import Application\n"
        f"m = Application.objects.get(pk={application_id}).materials.first()\n"
        "result = {'name': m.file.name, 'exists': m.file.storage.exists(m.file.name),\n"
        "          'acl': [g['Permission'] for g in m.file.storage.bucket.Object(m.file.name).Acl().grants],\n"
        "          'backend': type(getattr(m.file.storage, '_wrapped', m.file.storage)).__name__} if m and m.processed else None\n"
    ), timeout=90)
    assert material["exists"] and material["backend"] == "S3Storage" and material["acl"] == ["FULL_CONTROL"]

    # 5. Submit with consent; the receipt carries the acceptance number.
    status, _, review_page = browser.get(f"/applications/{application_id}/step/5/")
    assert status == 200
    consent_version = re.search(r'name="consent_version" value="([^"]+)"', review_page).group(1)
    status, headers, body = browser.post(f"/applications/{application_id}/submit/", {"consent": "on", "consent_version": consent_version})
    assert status == 302 and headers["Location"].endswith("/receipt/"), body[:2000]
    status, _, receipt = browser.get(headers["Location"])
    assert status == 200 and person["id_number"] not in receipt

    # 6. A reviewer approves (the same service the admin action calls); the SMS arrives.
    decided = _poll_json(stack, (
        "from django.contrib.auth import get_user_model\n"
        "from applications.models import Application\n"
        "from notifications.models import DevSms\n"
        "from reviews.services import application_approve\n"
        "if not Application.objects.filter(pk=%d, status='approved').exists():\n"
        "    application_approve(application_id=%d, user=get_user_model().objects.get(pk=%d))\n"
        "a = Application.objects.get(pk=%d)\n"
        "sms = DevSms.objects.filter(phone__endswith='%s', template_key='application_approved').first()\n"
        "result = {'status': a.status, 'number': a.acceptance_number, 'sms': sms.text} if sms else None\n"
    ) % (application_id, application_id, ids["reviewer"], application_id, phone), timeout=60)
    assert decided["status"] == "approved"
    assert decided["number"] in decided["sms"]
    status, _, detail = browser.get(f"/applications/{application_id}/")
    assert status == 200 and decided["number"] in detail and person["id_number"] not in detail


def test_a_database_dump_shows_no_plaintext_id_number(stack):
    from applications.models import Person
    from portal.crypto import EncryptedTextField

    if not isinstance(Person._meta.get_field("id_number"), EncryptedTextField):
        pytest.skip("Person.id_number is not yet an encrypted field (docs/OPERATIONS.md, 'Applying it')")
    db = dj_database_url.parse(stack["env"]["DATABASE_URL"])
    dump = subprocess.run(
        ["pg_dump", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], db["NAME"]],
        capture_output=True, timeout=120, check=True,
    ).stdout
    scan = subprocess.run([PYTHON, str(ROOT / "scripts/scan_id_numbers.py")], input=dump, capture_output=True, timeout=60)
    assert scan.returncode == 0, scan.stdout.decode()


def test_logs_are_json_and_never_show_an_id_number(stack):
    # Put a valid ID number where careless logging would pick it up: a query string and a path.
    _get(stack["url"] + f"/healthz?id_number={ID}", **{"X-Request-ID": "smoke-redaction-01"})
    _get(stack["url"] + f"/track/{ID}/")
    time.sleep(0.5)
    web_lines = [json.loads(line) for line in (stack["dir"] / "web.log").read_text().splitlines() if line.startswith("{")]
    ours = [line for line in web_lines if line["request_id"] == "smoke-redaction-01"]
    assert ours and ours[0]["path"] == "/healthz" and ours[0]["status"] == 200
    # Django's own "Not Found: <path>" warning went through the redacting filter.
    assert any(line["logger"] == "django.request" and mask_id_number(ID) in line["message"] for line in web_lines)
    for path in Path(stack["dir"]).glob("*.log"):
        for candidate in re.findall(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", path.read_text()):
            assert not is_valid_id_number(candidate), f"ID number in {path.name}"
