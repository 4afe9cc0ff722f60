"""Letting notebooks written for Otter-Grader run unchanged in the sandbox.

Their `import otter` / `grader = otter.Notebook()` / `grader.check("q1")` cells need an `otter` module.
We inject a small one into the learner's kernel that runs the PUBLIC tests of a question and prints
Otter-style feedback. It only informs the learner: the score is decided by the trusted side
(grading/engine.py), so nothing this module prints or returns can change it. Hidden tests are never
sent into the kernel.
"""

from __future__ import annotations

import json

from .spec import TestSpec

_SHIM = r"""
import sys as _sys, types as _types

def __mooc_make_otter(public_tests):
    otter = _types.ModuleType("otter")

    def _decode(data):
        import base64, io
        if isinstance(data, dict) and "__ndarray__" in data:
            import numpy as np
            return np.load(io.BytesIO(base64.b64decode(data["__ndarray__"])), allow_pickle=False)
        if isinstance(data, dict) and "__tuple__" in data:
            return tuple(_decode(v) for v in data["__tuple__"])
        if isinstance(data, dict) and "__float__" in data:
            return float(data["__float__"])
        if isinstance(data, dict) and "__dict__" in data:
            return {_decode(k): _decode(v) for k, v in data["__dict__"]}
        if isinstance(data, list):
            return [_decode(v) for v in data]
        return data

    def _same(a, b):
        # The same tolerances as the grader's own comparison (grading/engine.py values_equal), so that
        # this feedback never calls "wrong" a value the grader accepts.
        import math
        try:
            import numpy as np
        except ImportError:
            np = None
        if np is not None and (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):
            try:
                a, b = np.asarray(a), np.asarray(b)
                if a.shape != b.shape:
                    return False
                if a.dtype.kind in "fc" or b.dtype.kind in "fc":
                    return bool(np.allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True))
                return bool(np.array_equal(a, b))
            except Exception:
                return False
        if np is not None:
            a = a.item() if isinstance(a, np.generic) else a
            b = b.item() if isinstance(b, np.generic) else b
        if isinstance(a, bool) or isinstance(b, bool):
            return type(a) is type(b) and a == b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if isinstance(a, float) or isinstance(b, float):
                return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8)
            return a == b
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        try:
            return type(a) is type(b) and bool(a == b)
        except Exception:
            return False

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def check(self, question, *args, **kwargs):
            ns = globals()  # the learner namespace: this function was defined in it
            tests = public_tests.get(question)
            if tests is None:
                print(f"{question}: no public tests (hidden tests run when you submit)")
                return None
            failed = []
            for test in tests:
                try:
                    code = compile(test["code"], "<" + test["name"] + ">", "exec")
                    if test["kind"] == "expr":
                        import ast
                        tree = ast.parse(test["code"])
                        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                        exec(compile(tree, "<test>", "exec"), ns)
                        value = eval(compile(ast.Expression(last.value), "<test>", "eval"), ns) if last else None
                        if test.get("has_expected") and not _same(value, _decode(test["expected"])):
                            failed.append(test["name"] + ": " + (test.get("failure_message") or "wrong value"))
                    else:
                        exec(code, ns)
                except Exception as exc:
                    reason = test.get("failure_message") or type(exc).__name__ + ": " + str(exc)
                    failed.append(test["name"] + ": " + reason)
            if failed:
                print(question + " results:\n    " + "\n    ".join(failed))
            else:
                print(question + " results: All test cases passed!")
            return None

        def check_all(self):
            for question in public_tests:
                self.check(question)

        def export(self, *args, **kwargs):
            print("Submit this notebook on the course page; it is graded there.")

    otter.Notebook = Notebook
    otter.__version__ = "mooc-compat"
    _sys.modules["otter"] = otter

__mooc_make_otter(json.loads(__MOOC_PUBLIC_TESTS))
del __MOOC_PUBLIC_TESTS
"""


def needs_otter(cells: list[dict]) -> bool:
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if "import otter" in source or "from otter" in source or "otter.Notebook" in source:
            return True
    return False


def otter_shim_source(tests: list[TestSpec]) -> str:
    public: dict[str, list[dict]] = {}
    for test in tests:
        if test.visibility == "public" and test.kind != "manual" and test.question:
            entry = {"name": test.name, "kind": test.kind, "code": test.code, "failure_message": test.failure_message}
            if test.has_expected:
                entry.update(expected=test.expected, has_expected=True)
            public.setdefault(test.question, []).append(entry)
    payload = json.dumps(json.dumps(public))
    return f"import json\n__MOOC_PUBLIC_TESTS = {payload}\n{_SHIM}"
