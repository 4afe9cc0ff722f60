"""Grading one notebook: run the learner's cells in a sandbox kernel, run the tests outside it.

`grade_notebook` is the whole pipeline apart from storage; the Celery task, the `grade` command,
the self-check and the benchmark all call it, so they grade exactly alike.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import time
from typing import Any

from . import compat, engine
from .spec import TestSpec, cell_key, cell_role, cell_source, source_hash

CELL_OUTPUT_CAP = 20_000  # characters of text output kept per cell for feedback
STOP_REASONS = {
    "timeout": "ran out of time",
    "memory": "ran out of memory",
    "died": "ended the kernel (it exited or crashed)",
    # The kernel answered with something malformed: typically a cell replaced a module the kernel
    # itself relies on to send its messages.
    "protocol_violation": "broke the kernel's connection to the grader (did it replace json or a module "
    "the kernel itself uses?)",
}
# What the learner sees of a hidden test: pass/fail and the author's words, nothing its run produced.
HIDDEN_FAILED = "This hidden test failed."
# Run times shown to learners are rounded to this many seconds.
LEARNER_TIME_STEP_S = 0.1


@dataclasses.dataclass
class CellReport:
    index: int
    key: str | None
    status: str  # ok | error | timeout | died | skipped
    outputs: list[dict]
    duration_s: float = 0.0
    error: str = ""
    replaced: bool = False  # a modified locked cell: its released source ran instead


@dataclasses.dataclass
class TestReport:
    name: str
    kind: str
    visibility: str
    points: float
    max_points: float
    passed: bool
    status: str  # passed | failed | not_run | manual
    message: str = ""
    hints: list[str] = dataclasses.field(default_factory=list)  # the test's hint ladder
    value: Any = None  # expr tests during a self-check: the reference value
    hidden_message: str = ""  # hidden tests: the author's failure message, the only text a learner sees

    def for_learner(self) -> dict:
        """What the learner may see: a hidden test's name, result and author-written message only."""
        hidden = self.visibility == "hidden"
        if self.status == "manual":
            message = "Graded by staff."
        elif hidden:
            message = "" if self.passed else (self.hidden_message or HIDDEN_FAILED)
        else:
            message = self.message
        return {
            "name": self.name,
            "passed": self.passed,
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "message": message,
            "visibility": self.visibility,
            # How many hints the learner may reveal, one at a time (the texts are fetched on demand).
            "hints": len(self.hints) if self.status in ("failed", "not_run") else 0,
        }


@dataclasses.dataclass
class GradeReport:
    status: str  # graded | error
    score: float
    max_score: float
    tests: list[TestReport]
    cells: list[CellReport]
    flags: list[str]
    execution_time: float
    log: str = ""
    error_message: str = ""

    @property
    def all_passed(self) -> bool:
        return all(t.passed for t in self.tests if t.kind != "manual")


def _test_message(spec: TestSpec, passed: bool, detail: str) -> str:
    if passed:
        return spec.success_message or "Passed."
    return spec.failure_message + (f" ({detail})" if spec.failure_message and detail else "") or detail or "Failed."


def _run_one(kernel: engine.Kernel, spec: TestSpec, *, collect_expected: bool) -> TestReport:
    max_points = float(spec.points)
    base = {"name": spec.name, "kind": spec.kind, "visibility": spec.visibility, "max_points": max_points}
    if spec.kind == "manual":
        return TestReport(
            **base, points=0.0, passed=False, status="manual", message="Graded by staff.", hints=spec.hint_ladder
        )
    want_value = spec.kind == "expr"
    outcome = engine.run_test(kernel, spec.code, name=spec.name, want_value=want_value)
    passed, detail, value = outcome.passed, outcome.message, None
    if want_value and outcome.passed:
        if collect_expected:
            value = outcome.value
        elif not spec.has_expected:
            passed, detail = False, "The grader has no expected value for this test (it was never self-checked)."
        else:
            expected = engine.decode_value(spec.expected)
            try:
                passed = engine.values_equal(outcome.value, expected)
                if not passed:
                    want, got = engine.describe_value(expected), engine.describe_value(outcome.value)
                    # Arrays are described by shape and dtype: "expected X, got X" would read as a grader bug.
                    detail = f"expected {want}, got {got}" if want != got else f"expected {want} with other values"
            except Exception as exc:  # noqa: BLE001 - a learner value that cannot even be compared fails the test
                passed, detail = False, f"your value could not be compared ({type(exc).__name__})"
    return TestReport(
        **base,
        points=max_points if passed else 0.0,
        passed=passed,
        status="passed" if passed else "failed",
        message=_test_message(spec, passed, detail),
        hints=spec.hint_ladder,
        value=value,
        hidden_message=spec.failure_message,
    )


def _definitions(source: str, number: int) -> dict[str, tuple[int, bool]]:
    """Top-level functions a cell defines: name -> (cell number, still raises NotImplementedError)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stub = any(
                isinstance(inner, ast.Raise)
                and isinstance(exc := (inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc), ast.Name)
                and exc.id == "NotImplementedError"
                for inner in ast.walk(node)
            )
            found[node.name] = (number, stub)
    return found


def _explain_not_implemented(outputs: list[dict], source: str, definitions: dict[str, tuple[int, bool]]) -> None:
    """A bare "NotImplementedError: " of a cell names the unimplemented function(s) the cell uses."""
    stubs = [(n, c) for n, (c, s) in definitions.items() if s and re.search(rf"\b{re.escape(n)}\b", source)]
    if not stubs:
        return
    named = "; ".join(f"`{n}` is not implemented yet — cell {c} still raises NotImplementedError" for n, c in stubs)
    for output in outputs:
        if output.get("type") == "error" and output.get("text", "").strip() == "NotImplementedError:":
            output["text"] = f"NotImplementedError: {named}."


def _cell_text(outputs: list[dict]) -> list[dict]:
    """Keep text outputs (capped) and note that rich outputs existed; nothing else goes to the database."""
    kept, budget = [], CELL_OUTPUT_CAP
    for output in outputs or []:
        kind = output.get("output_type")
        if kind == "stream":
            text = str(output.get("text", ""))
        elif kind in {"execute_result", "display_data"}:
            data = output.get("data") or {}
            text = str(data.get("text/plain", "")) or ("[image]" if any(k.startswith("image/") for k in data) else "")
        elif kind == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        else:
            continue
        if budget <= 0:
            break
        kept.append({"type": kind, "text": text[:budget]})
        budget -= len(text)
    return kept


def _apply_groups(tests: list[TestSpec], reports: dict[str, TestReport]) -> None:
    """All-or-nothing groups (Otter's `all_or_nothing` questions): a test of a group earns its points
    only when every test of the group passed."""
    groups: dict[str, list[str]] = {}
    for test in tests:
        if getattr(test, "group", "") and test.kind != "manual":
            groups.setdefault(test.group, []).append(test.name)
    for names in groups.values():
        if all(reports[name].passed for name in names):
            continue
        for name in names:
            report = reports[name]
            if report.passed:
                report.points = 0.0
                report.message = f"{report.message} No points: every test of this question must pass."


def grade_notebook(
    session,
    *,
    starter: dict,
    tests: list[TestSpec],
    locked_hashes: dict[str, str],
    notebook: dict,
    collect_expected: bool = False,
) -> GradeReport:
    """Run `notebook` cell by cell in `session` and every test in this process.

    Two phases (ADR 0001): the learner phase runs every learner cell and every public test, and fixes
    everything the learner sees; then the hidden phase runs the hidden tests, after which nothing
    learner-visible is produced. During a self-check (collect_expected) the order is the same, so a
    reference value is computed alike."""
    run = _NotebookRun(session, starter=starter, tests=tests, locked_hashes=locked_hashes, collect=collect_expected)
    run.check_locked_cells(notebook)
    run.learner_phase(notebook)
    seen = run.freeze_learner_view()
    run.hidden_phase(seen)
    return run.report(seen)


@dataclasses.dataclass
class _LearnerView:
    """What the learner sees, fixed before any hidden test runs."""

    flags: list[str]
    seconds: float
    hidden_started: float


class _NotebookRun:
    """The state of grading one notebook: the kernel, the tests still to run, the reports so far."""

    def __init__(self, session, *, starter: dict, tests: list[TestSpec], locked_hashes: dict[str, str], collect: bool):
        self.started = time.monotonic()
        self.session = session
        self.kernel = engine.Kernel(session)
        self.tests = tests
        self.locked_hashes = locked_hashes
        self.collect = collect
        self.released = {cell_key(c): c for c in starter.get("cells", []) if cell_key(c)}
        self.pending = {t.name: t for t in tests}
        self.by_cell: dict[str, list[TestSpec]] = {}
        for test in tests:
            if test.after is not None:
                self.by_cell.setdefault(test.after, []).append(test)
        self.hidden = [t for t in tests if t.visibility == "hidden" and t.kind != "manual"]
        self.hidden_names = {t.name for t in self.hidden}
        self.public = [t for t in tests if t.name not in self.hidden_names]
        self.reports: dict[str, TestReport] = {}
        self.cells: list[CellReport] = []
        self.flags: list[str] = []
        self.staff_log: list[str] = []
        self.stopped: str | None = None

    # ---- tests ----

    def run_pending(self, spec: TestSpec) -> None:
        # Marked as run only once it finished: a test during which the kernel died stays pending and
        # is reported as "not run".
        self.reports[spec.name] = _run_one(self.kernel, spec, collect_expected=self.collect)
        del self.pending[spec.name]

    def run_public_tests_after(self, key: str | None) -> None:
        for spec in self.by_cell.get(key, []) if key else []:
            if spec.name in self.pending and spec.name not in self.hidden_names:
                self.run_pending(spec)

    # ---- the learner phase ----

    def check_locked_cells(self, notebook: dict) -> None:
        keys = [cell_key(c) for c in notebook.get("cells", [])]
        for key in self.locked_hashes:
            if keys.count(key) == 0:
                self.flags.append(f"locked_cell_missing:{key}")
            elif keys.count(key) > 1:
                self.flags.append(f"locked_cell_duplicated:{key}")

    def learner_phase(self, notebook: dict) -> None:
        """Every learner cell, each followed by its public tests, then the remaining public tests."""
        try:
            if compat.needs_otter(notebook.get("cells", [])):
                self.session.run_cell(compat.otter_shim_source(self.tests))
            for index, cell in enumerate(notebook.get("cells", [])):
                self.run_cell(index, cell)
            if not self.stopped:
                for spec in self.public:
                    if spec.name in self.pending and spec.kind != "manual":
                        self.run_pending(spec)
        except engine.KernelGone as exc:
            status = getattr(self.session, "status", "ok")
            detail = f"your code {STOP_REASONS[status]}" if status in STOP_REASONS else str(exc)
            self.stopped = self.stopped or f"the kernel stopped while a test was running: {detail}"

    def run_cell(self, index: int, cell: dict) -> None:
        key = cell_key(cell)
        # A locked code cell turned into Markdown or raw text is a changed locked cell, not a skipped one.
        is_code = cell.get("cell_type") == "code"
        locked_code = key in self.locked_hashes and self.released.get(key, {}).get("cell_type", "code") == "code"
        if not is_code and not locked_code:
            return
        if self.stopped:
            self.cells.append(CellReport(index=index, key=key, status="skipped", outputs=[]))
            return
        source = cell_source(cell)
        replaced = False
        if key in self.locked_hashes and (source_hash(source) != self.locked_hashes[key] or is_code != locked_code):
            # Changed text or a changed cell type: the released cell runs instead (nothing, if it was text).
            self.flags.append(f"locked_cell_modified:{key}")
            source, replaced = cell_source(self.released[key]) if locked_code else "", True
        role = cell_role(self.released.get(key, {})) if key in self.released else cell_role(cell)
        if role == "test":
            self.run_test_placeholder(index, key, replaced)
        elif source.strip():
            self.run_learner_code(index, key, source, replaced)

    def run_test_placeholder(self, index: int, key: str, replaced: bool) -> None:
        """A placeholder for tests (nbgrader's public asserts, Otter's grader.check): its released code
        runs in the kernel for the learner's feedback only; then the grader's own tests run here, outside
        the kernel, and decide the score."""
        released_source = cell_source(self.released[key]) if key in self.released else ""
        feedback = self.session.run_cell(released_source) if released_source.strip() else None
        outputs = _cell_text(feedback.outputs) if feedback else []
        _explain_not_implemented(outputs, released_source, self.kernel.definitions)
        status = "feedback" if feedback is None or feedback.status in {"ok", "error"} else feedback.status
        self.cells.append(CellReport(index=index, key=key, status=status, outputs=outputs, replaced=replaced))
        self.run_public_tests_after(key)

    def run_learner_code(self, index: int, key: str, source: str, replaced: bool) -> None:
        result = self.session.run_cell(source)
        self.kernel.definitions.update(_definitions(source, index + 1))
        outputs = _cell_text(result.outputs)
        _explain_not_implemented(outputs, source, self.kernel.definitions)
        error = f"{result.ename}: {result.evalue}" if result.status == "error" else ""
        if error.strip() == "NotImplementedError:" and outputs and outputs[-1]["type"] == "error":
            error = outputs[-1]["text"]
        self.cells.append(
            CellReport(
                index=index,
                key=key,
                status=result.status,
                outputs=outputs,
                duration_s=_learner_time(result.duration_s),
                error=error,
                replaced=replaced,
            )
        )
        if getattr(result, "truncated", False) and "output_truncated" not in self.flags:
            self.flags.append("output_truncated")
        if result.status == "timeout" and "timeout" not in self.flags:
            self.flags.append("timeout")
        session_status = getattr(self.session, "status", "ok")
        if result.status == "died" or session_status != "ok":
            # The kernel is gone (a timeout it did not recover from, out of memory, a crash): what it
            # defined is lost, so later cells and tests cannot run.
            self.stopped = f"cell {index + 1} {STOP_REASONS.get(session_status, 'stopped')}"
            return
        self.run_public_tests_after(key)

    def freeze_learner_view(self) -> _LearnerView:
        """Everything the learner sees is fixed now: cells, public tests, flags and the time they took."""
        flags = list(self.flags)
        for flag in getattr(self.session, "flags", []) or []:
            if flag not in flags:
                flags.append(flag)
        now = time.monotonic()
        return _LearnerView(flags=flags, seconds=_learner_time(now - self.started), hidden_started=now)

    # ---- the hidden phase ----

    def hidden_phase(self, seen: _LearnerView) -> None:
        try:
            if not self.stopped:
                for spec in self.hidden:
                    self.run_pending(spec)
        except engine.KernelGone as exc:
            # Only staff learn why: what the learner's code did with a hidden input is not theirs to see.
            status = getattr(self.session, "status", "")
            self.staff_log.append(f"The kernel stopped during the hidden tests: {exc} (session {status}).")
        hidden_flags = [f for f in getattr(self.session, "flags", []) or [] if f not in seen.flags]
        if hidden_flags:
            self.staff_log.append("Flags raised during the hidden tests: " + ", ".join(hidden_flags) + ".")
        hidden_s = time.monotonic() - seen.hidden_started
        self.staff_log.append(
            f"Learner phase {seen.hidden_started - self.started:.3f} s, hidden tests {hidden_s:.3f} s."
        )

    # ---- the report ----

    def report(self, seen: _LearnerView) -> GradeReport:
        for name, spec in list(self.pending.items()):
            manual = spec.kind == "manual"
            self.reports[name] = TestReport(
                name=name,
                kind=spec.kind,
                visibility=spec.visibility,
                points=0.0,
                max_points=float(spec.points),
                passed=False,
                status="manual" if manual else "not_run",
                message="Graded by staff."
                if manual
                else f"Not run: your notebook stopped ({self.stopped or 'during the hidden tests'}).",
                hints=spec.hint_ladder,
                hidden_message=spec.failure_message,
            )
        _apply_groups(self.tests, self.reports)
        ordered = [self.reports[t.name] for t in self.tests]
        auto = [r for r in ordered if r.kind != "manual"]
        return GradeReport(
            status="graded",
            score=round(sum(r.points for r in auto), 6),
            max_score=round(sum(r.max_points for r in auto), 6),
            tests=ordered,
            cells=self.cells,
            flags=seen.flags,
            execution_time=seen.seconds,
            log="\n".join(self.staff_log),
        )


def _learner_time(seconds: float) -> float:
    """Rounded to the step shown to learners; a run that took any time shows at least one step."""
    if seconds <= 0:
        return 0.0
    return max(LEARNER_TIME_STEP_S, round(round(seconds / LEARNER_TIME_STEP_S) * LEARNER_TIME_STEP_S, 1))
