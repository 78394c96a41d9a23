"""Log records as JSON lines, tagged with the request id, with resident ID numbers redacted.

Every handler in ``settings.LOGGING`` carries both filters, so records from any logger (Django's
``django.request``, Celery, third-party libraries) pass through them before they are written.
Filters sit on handlers, not loggers: a logger's own filters do not see records that propagate
to it from child loggers.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re

from applications.id_numbers import id_number_problem, mask_id_number

# Set by ``portal.middleware.RequestIdMiddleware`` for the duration of one request.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# 18 characters not glued to other digits/letters; validity (birth date, MOD 11-2 check) is
# decided by applications.id_numbers so an order number that merely has 18 digits survives.
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


def redact_id_numbers(text: str) -> str:
    """Replace every valid resident ID number in ``text`` with its masked form."""
    if not text or len(text) < 18:
        return text

    def _replace(match: re.Match) -> str:
        candidate = match.group(1).upper()
        if id_number_problem(candidate) is None:
            return mask_id_number(candidate)
        return match.group(0)

    return _CANDIDATE.sub(_replace, text)


class RedactIdNumbersFilter(logging.Filter):
    """Render the message with its arguments, then redact; the record leaves with no args.

    Rendering first matters: ``logger.info("lookup %s", id_number)`` carries the number in
    ``args``, not in ``msg``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact_id_numbers(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Exception texts (e.g. IntegrityError "Key (id_number)=(...)") are rendered once
            # here so the redacted text is what every formatter prints.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_id_numbers(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    """Attach the current request id (``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in payload:
                payload[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = redact_id_numbers(record.exc_text)
        # Extras are redacted too: a caller may pass a number through ``extra=``.
        return redact_id_numbers(json.dumps(payload, ensure_ascii=False, default=str))
