"""Helpers for the operations tests: run manage.py in a child process with a chosen env."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def sms_provider_env() -> dict[str, str]:
    """A configured SMS provider (Aliyun) with a template code for every template key, as the
    production settings require one (the dev gateway is refused there)."""
    from notifications.templates_text import TEMPLATES

    return {
        "SMS_GATEWAY": "aliyun",
        "ALIYUN_SMS_ACCESS_KEY_ID": "LTAI-test",
        "ALIYUN_SMS_ACCESS_KEY_SECRET": secrets.token_urlsafe(24),
        "ALIYUN_SMS_SIGN_NAME": "门特服务",
        "ALIYUN_SMS_TEMPLATES": ",".join(f"{key}:SMS_{n:09d}" for n, key in enumerate(sorted(TEMPLATES))),
    }


def production_env(**overrides: str) -> dict[str, str]:
    """A realistic production environment (no TLS shortcuts), as an operator's .env would give."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DEBUG="0",
        ALLOWED_HOSTS="mt.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://mt.example.gov.cn",
        ADMIN_URL="staff-7f3k/",
        STORAGE_BACKEND="s3",
        S3_ENDPOINT_URL="http://127.0.0.1:9",
        S3_ACCESS_KEY_ID="test",
        S3_SECRET_ACCESS_KEY="test",
        FIELD_ENCRYPTION_KEYS=secrets.token_urlsafe(32),
        FIELD_HASH_KEY=secrets.token_urlsafe(32),
        **sms_provider_env(),
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def prod_env() -> dict[str, str]:
    return production_env()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture
def moto_s3(tmp_path):
    """moto's S3 API in server mode on a free loopback port: real HTTP, real signatures."""
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
