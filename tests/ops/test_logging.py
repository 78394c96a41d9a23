"""JSON log lines with request ids; resident ID numbers never reach a log."""
import io
import json
import logging

import pytest
from django.conf import settings

from applications.id_numbers import id_check_char, mask_id_number
from portal.log_format import JsonFormatter, RedactIdNumbersFilter, RequestIdFilter, redact_id_numbers

# 11010519491231002X is the standard's own worked example.
VALID = "11010519491231002X"
first17 = "43050219900101123"
VALID2 = first17 + id_check_char(first17)


def _bad_check(number: str) -> str:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


@pytest.fixture
def captured():
    """A handler built from settings.LOGGING's own console handler definition, into a buffer."""
    config = settings.LOGGING["handlers"]["console"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    assert config["filters"] == ["request_id", "redact_id_numbers"]
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactIdNumbersFilter())
    logger = logging.getLogger("tests.ops.capture")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def _lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_redacts_valid_numbers_in_text_and_keeps_others():
    text = f"a {VALID} b {VALID2.lower()} c {_bad_check(VALID2)} d 9{VALID2}"
    out = redact_id_numbers(text)
    words = out.split()
    assert words[1] == mask_id_number(VALID) and words[3] == mask_id_number(VALID2)
    # A wrong check character is not an ID number (an order number, say): left alone.
    assert _bad_check(VALID2) in out
    # 19 digits in a row is not an ID number either.
    assert f"9{VALID2}" in out


def test_log_line_is_json_with_redacted_message_args_extras_and_exception(captured):
    logger, stream = captured
    logger.info("lookup for %s done", VALID, extra={"subject": VALID2})
    try:
        raise ValueError(f'duplicate key value violates unique constraint: Key (id_number)=({VALID})')
    except ValueError:
        logger.exception("failed %s", VALID2)
    raw = stream.getvalue()
    assert VALID not in raw and VALID2 not in raw
    first, second = _lines(stream)
    assert first["message"] == f"lookup for {mask_id_number(VALID)} done"
    assert first["level"] == "INFO" and first["logger"] == "tests.ops.capture"
    assert first["subject"] == mask_id_number(VALID2)
    assert first["request_id"] == "-"
    assert "ValueError" in second["exception"] and mask_id_number(VALID) in second["exception"]


@pytest.mark.django_db
def test_request_id_is_accepted_returned_and_logged(client, captured):
    logger, stream = captured
    access = logging.getLogger("portal.access")
    handler = logger.handlers[0]
    access.addHandler(handler)
    try:
        response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-abc-12345678")
        assert response["X-Request-ID"] == "proxy-abc-12345678"
        # Garbage from outside is replaced, never echoed.
        response = client.get("/healthz", HTTP_X_REQUEST_ID="bad\nid")
        fresh = response["X-Request-ID"]
        assert fresh != "bad\nid" and len(fresh) == 32
        # The access line has the path but never the query string.
        client.get(f"/healthz?id_number={VALID}")
    finally:
        access.removeHandler(handler)
    lines = _lines(stream)
    assert [line["request_id"] for line in lines[:2]] == ["proxy-abc-12345678", fresh]
    assert lines[0]["path"] == "/healthz" and lines[0]["status"] == 200 and "duration_ms" in lines[0]
    assert lines[2]["path"] == "/healthz"
    assert VALID not in stream.getvalue()


def test_settings_wire_json_and_both_filters_for_every_environment():
    assert settings.LOGGING["formatters"]["json"]["()"] == "portal.log_format.JsonFormatter"
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["formatter"] == "json"
    assert settings.LOGGING["root"]["handlers"] == ["console"]
    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False
