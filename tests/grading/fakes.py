"""An in-process stand-in for a sandbox session, for unit tests of the trusted side only.

Values cross its "boundary" through the same JSON encoding the grader stores, so a test that
passes here does not rely on sharing Python objects with the learner's namespace. Everything about
isolation is tested against the real Docker engine in tests/grading/sandbox/."""

import contextlib
import dataclasses
import io
import types

from grading import engine


@dataclasses.dataclass
class FakeCell:
    status: str
    outputs: list
    duration_s: float = 0.0
    ename: str = ""
    evalue: str = ""
    truncated: bool = False


@dataclasses.dataclass
class FakeAnswer:
    ok: bool
    value: object = None
    error: str = ""


def _cross(value):
    if isinstance(value, (types.FunctionType, types.ModuleType, type)):
        raise engine.TransferError(f"cannot transfer {type(value).__name__}")
    try:
        return engine.decode_value(engine.encode_value(value))
    except engine.TransferError as exc:
        raise engine.TransferError(f"cannot transfer {type(value).__name__}") from exc


class FakeSession:
    def __init__(self):
        self.namespace: dict = {"__name__": "__main__"}
        self.flags: list[str] = []
        self.dead = False

    def run_cell(self, code: str) -> FakeCell:
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, "<cell>", "exec"), self.namespace)  # noqa: S102 - the learner side of a fake
        except Exception as exc:  # noqa: BLE001
            error = {"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": []}
            stream = {"output_type": "stream", "name": "stdout", "text": buffer.getvalue()}
            return FakeCell("error", [stream, error], 0.0, type(exc).__name__, str(exc))
        return FakeCell("ok", [{"output_type": "stream", "name": "stdout", "text": buffer.getvalue()}])

    def fetch(self, expr: str) -> FakeAnswer:
        try:
            return FakeAnswer(True, _cross(eval(expr, self.namespace)))  # noqa: S307
        except engine.TransferError as exc:
            return FakeAnswer(False, error=str(exc))
        except Exception as exc:  # noqa: BLE001
            return FakeAnswer(False, error=f"{type(exc).__name__}: {exc}")

    def call(self, name: str, args=(), kwargs=None) -> FakeAnswer:
        if name not in self.namespace:
            return FakeAnswer(False, error=f"NameError: name {name!r} is not defined")
        try:
            args = [_cross(a) for a in args]
            kwargs = {k: _cross(v) for k, v in (kwargs or {}).items()}
            result = self.namespace[name](*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            return FakeAnswer(False, error=f"{type(exc).__name__}: {exc}")
        try:
            return FakeAnswer(True, _cross(result))
        except engine.TransferError as exc:
            return FakeAnswer(False, error=str(exc))
