"""JSON log lines: one object per line with the request id, extra fields and the traceback."""

import json
import logging

from ops.logging import JsonFormatter, RequestIdFilter, bind_request_id, unbind_request_id


def _record(msg="hello %s", args=("world",), exc_info=None, **extra):
    record = logging.LogRecord("mooc.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    RequestIdFilter().filter(record)
    return record


def test_a_line_is_one_json_object_with_the_bound_request_id():
    token = bind_request_id("abc-123")
    try:
        line = JsonFormatter().format(_record(status=404, path="/x/"))
    finally:
        unbind_request_id(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "hello world" and entry["level"] == "WARNING" and entry["logger"] == "mooc.test"
    assert entry["request_id"] == "abc-123" and entry["status"] == 404 and entry["path"] == "/x/"
    assert entry["time"].endswith("+00:00")


def test_a_record_logged_after_the_request_takes_the_id_from_the_request_it_carries():
    class Request:
        request_id = "from-request"

    entry = json.loads(JsonFormatter().format(_record(request=Request())))
    assert entry["request_id"] == "from-request" and "request" not in entry


def test_an_exception_is_kept_in_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        entry = json.loads(JsonFormatter().format(_record(exc_info=sys.exc_info())))
    assert "ValueError: boom" in entry["exception"] and entry["request_id"] == ""
