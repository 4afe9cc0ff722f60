"""JSON log lines, each with the request id of the request (or of the request that queued the task) it
belongs to. The id comes from the X-Request-ID header nginx sets, or is made here; it travels into Celery
tasks in the message headers (ops/tasks_signals.py)."""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# What we accept from a client or proxy: short, and harmless in a log line or a header.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def current_request_id() -> str:
    """The request id of the work in progress ('' outside a request or task)."""
    return _request_id.get()


def new_request_id(offered: str | None = None) -> str:
    """`offered` when it is a well-formed id (from nginx or a client), else a fresh one."""
    return offered if offered and _VALID.match(offered) else uuid.uuid4().hex


def bind_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (request_id), for any formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            # django.request logs a 4xx/5xx after the middleware has finished; its record carries the request.
            record.request_id = current_request_id() or getattr(getattr(record, "request", None), "request_id", "")
        return True


# Attributes every LogRecord has: what is left over was passed with `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, the fields passed
    with `extra=`, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request" and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
