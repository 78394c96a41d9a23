"""docker-compose.yml and the Dockerfile: valid, wired as documented, and every command they run
exists in this project. No Docker engine runs here: Debian's docker-compose validates the file
(`config`), and a structural check in Python always runs."""
from __future__ import annotations

import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ops.conftest import ROOT, manage, sms_provider_env

APP_SERVICES = {"migrate", "web", "worker", "beat"}
INFRA_SERVICES = {"db", "redis", "minio", "createbucket", "proxy"}
ONE_SHOTS = {"migrate", "createbucket"}
VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def _operator_env_file(path: Path) -> dict[str, str]:
    """.env.example with every required secret filled in, as an operator would."""
    values = _env_example()
    values.update(
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="mt.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://mt.example.gov.cn",
        ADMIN_URL="staff-9x2k/",
        POSTGRES_PASSWORD=secrets.token_urlsafe(24),
        REDIS_PASSWORD=secrets.token_urlsafe(24),
        S3_ACCESS_KEY_ID="portal",
        S3_SECRET_ACCESS_KEY=secrets.token_urlsafe(24),
        FIELD_ENCRYPTION_KEYS=secrets.token_urlsafe(32),
        FIELD_HASH_KEY=secrets.token_urlsafe(32),
        **sms_provider_env(),
    )
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return values


def _interpolate(value: str, env: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = env.get(name, "")
        if op == ":-" and not current:
            return arg
        if op == ":?" and not current:
            raise KeyError(f"{name}: {arg}")
        return current

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", replace, value).replace("$$", "$")


def _project_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("docker-compose.yml", "Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "deploy", project / "deploy")
    return project


# --- docker-compose itself -------------------------------------------------------------------


def test_docker_compose_config_accepts_the_file(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose binary missing (make system-packages installs it); the Python checks below still run")
    project = _project_copy(tmp_path)
    _operator_env_file(project / ".env")
    result = subprocess.run([binary, "config", "-q"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # A missing secret stops the stack before anything starts, with the variable's name.
    (project / ".env").write_text((project / ".env").read_text().replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD_X="))
    result = subprocess.run([binary, "config", "-q"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "POSTGRES_PASSWORD" in result.stderr


# --- structure (always runs) -----------------------------------------------------------------


def test_services_and_their_order():
    services = _compose()["services"]
    assert set(services) == APP_SERVICES | INFRA_SERVICES
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            assert spec["condition"] in VALID_CONDITIONS, (name, dependency)
        if name not in ONE_SHOTS and name != "beat":
            assert "healthcheck" in service, f"{name} needs a health check"
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no"
    # Migrations once, before any app process; the bucket before anything uploads.
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["createbucket"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["createbucket"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "migrate" not in " ".join(map(str, services["web"]["command"]))


def test_redis_never_evicts_and_persists():
    command = [str(part) for part in _compose()["services"]["redis"]["command"]]
    joined = " ".join(command)
    assert "--maxmemory-policy noeviction" in joined
    assert "--appendonly yes" in joined
    assert "redisdata:/data" in _compose()["services"]["redis"]["volumes"]


def test_secrets_come_from_the_env_file_only():
    text = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]
    for name in APP_SERVICES:
        assert services[name]["env_file"] == ".env"
    # Every password-like value is an interpolation, never a literal.
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|_KEY|_USER$", key):
                assert str(value).startswith("${"), (name, key)
    redis_command = [str(part) for part in services["redis"]["command"]]
    assert redis_command[redis_command.index("--requirepass") + 1].startswith("${")
    assert re.search(r"://[^$\s]*:[^$@\s]+@", text) is None, "a URL with a literal password"
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    assert "*.pem" in (ROOT / "deploy/nginx/certs/.gitignore").read_text()


def test_app_services_get_the_production_wiring_whatever_the_env_file_leaves_empty(tmp_path):
    # .env.example leaves DATABASE_URL, REDIS_URL, CELERY_BROKER_URL empty (the embedded
    # default); compose must override them, or Celery would silently run tasks eagerly.
    env = _operator_env_file(tmp_path / ".env")
    compose = _compose()
    for name in APP_SERVICES:
        effective = {**env, **{k: _interpolate(str(v), env) for k, v in compose["services"][name]["environment"].items()}}
        assert effective["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        assert effective["DATABASE_URL"].startswith("postgres://portal:") and effective["DATABASE_URL"].endswith("@db:5432/portal")
        assert effective["REDIS_URL"] == effective["CELERY_BROKER_URL"] == f"redis://:{env['REDIS_PASSWORD']}@redis:6379/0"
        assert (effective["STORAGE_BACKEND"], effective["S3_ENDPOINT_URL"]) == ("s3", "http://minio:9000")
        assert effective["STATIC_ROOT"] == "/app/staticfiles"


def test_the_web_environment_compose_builds_passes_check_deploy(tmp_path):
    env = _operator_env_file(tmp_path / ".env")
    web = _compose()["services"]["web"]
    effective = {**env, **{k: _interpolate(str(v), env) for k, v in web["environment"].items()}}
    # The container's paths do not exist here; keep this test's files in its own directory.
    effective.update(PORTAL_VAR_DIR=str(tmp_path / "var"), STATIC_ROOT=str(tmp_path / "static"))
    # Hosts only resolve inside the compose network; `check` touches no database or broker.
    import os

    result = manage("check", "--deploy", "--fail-level", "WARNING", env={"PATH": os.environ["PATH"], **effective})
    assert result.returncode == 0, result.stdout + result.stderr
    code = "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.STORAGES['default']['BACKEND'], s.DATABASES['default']['ENGINE'])"
    result = manage("shell", "-c", code, env={"PATH": os.environ["PATH"], **effective})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["False", "storages.backends.s3.S3Storage", "portal.db.postgresql"]


def test_env_example_has_no_inline_comment_after_an_empty_value():
    # docker-compose v1 (python-dotenv) reads "SECRET_KEY=   # note" as "# note".
    for line in (ROOT / ".env.example").read_text().splitlines():
        assert not re.match(r"^\w+=\s+#", line), line


def test_env_example_lists_every_variable_compose_and_the_stack_interpolate():
    names = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    missing = names - set(_env_example())
    assert not missing


# --- every command exists --------------------------------------------------------------------


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def test_every_app_command_exists_in_the_project():
    services = _compose()["services"]
    from django.core.management import get_commands

    commands = get_commands()
    for name in APP_SERVICES:
        argv = _command(services[name])
        program = argv[0]
        if program == "python":
            assert argv[1] == "manage.py" and (ROOT / "manage.py").exists()
            assert argv[2] in commands, f"{name}: manage.py {argv[2]} does not exist"
        elif program == "gunicorn":
            config = ROOT / argv[argv.index("-c") + 1]
            assert config.exists(), config
            namespace: dict = {}
            exec(config.read_text(), namespace)  # noqa: S102 - our own config file
            module, _, attribute = namespace["wsgi_app"].partition(":")
            assert module == "portal.wsgi"
            import importlib

            assert callable(getattr(importlib.import_module(module), attribute))
        elif program == "celery":
            assert argv[1:3] == ["-A", "portal"]
            from portal.celery import app

            assert app.main == "portal"
            assert argv[3] in {"worker", "beat"}
        else:
            pytest.fail(f"{name}: unknown program {program}")
    healthcheck = services["web"]["healthcheck"]["test"]
    assert healthcheck[1:] == ["python", "deploy/healthcheck.py"] and (ROOT / healthcheck[2]).exists()


def test_mounted_scripts_and_configs_exist():
    services = _compose()["services"]
    entrypoint = services["createbucket"]["entrypoint"]
    mount = next(v for v in services["createbucket"]["volumes"] if v.startswith("./deploy/minio:"))
    host, container = mount.split(":")[:2]
    assert entrypoint[-1].startswith(container)
    assert (ROOT / host / Path(entrypoint[-1]).relative_to(container)).exists()
    for volume in services["proxy"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).exists(), volume
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(?:--chown=\S+ )?(\S+) ", dockerfile, flags=re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert (ROOT / "deploy/nginx/portal.conf.template").exists()


def test_dockerfile_is_multi_stage_non_root_with_collectstatic_and_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", dockerfile, flags=re.M)
    assert [name for _, name in stages] == ["builder", "runtime", "proxy"]
    assert stages[1][0].startswith("python:3.11-slim")
    runtime = dockerfile.split("AS runtime", 1)[1].split("AS proxy", 1)[0]
    assert "COPY --from=builder /wheels" in runtime
    assert re.search(r"^USER portal", runtime, flags=re.M)
    assert "collectstatic --no-input" in runtime
    assert 'CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]' in runtime
    compose = _compose()["services"]
    assert {compose[name]["build"]["target"] for name in ("web",)} == {"runtime"}
    assert compose["proxy"]["build"]["target"] == "proxy"


def _size_to_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def test_proxy_serves_static_and_limits_bodies_to_the_upload_limit(settings):
    conf = (ROOT / "deploy/nginx/portal.conf.template").read_text()
    assert "client_max_body_size ${NGINX_CLIENT_MAX_BODY_SIZE};" in conf
    limit = _size_to_bytes(_env_example()["NGINX_CLIENT_MAX_BODY_SIZE"])
    default = _compose()["services"]["proxy"]["environment"]["NGINX_CLIENT_MAX_BODY_SIZE"]
    assert _size_to_bytes(default.split(":-")[1].rstrip("}")) == limit
    # At least one full upload fits, with at most 2 MiB of form around it.
    assert settings.UPLOAD_MAX_BYTES < limit <= settings.UPLOAD_MAX_BYTES + 2 * 1024**2
    assert re.search(r"location /static/ \{\s+alias /usr/share/nginx/static/;", conf)
    assert "COPY --from=runtime /app/staticfiles /usr/share/nginx/static" in (ROOT / "Dockerfile").read_text()
    # The proxy overwrites the scheme header Django trusts and passes a request id.
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert "$request_uri" not in conf.split("log_format", 1)[1].split(";", 1)[0]
