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
        try:
            import numpy as np
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, equal_nan=True))
        except Exception:
            pass
        return a == b

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
