"""Importing assignments (pack folders, nbgrader sources, Otter Assign masters) and the demo assignments.

Real nbgrader and Otter-Grader notebooks are read from ../shared/compat (beside the clone). The local
sanity check below runs a notebook's code cells in one namespace and the tests in that namespace; the
real grading runs tests in the trusted process (grading/engine.py), this only proves the imported
graders make sense: the reference solution earns every automatic test, the starter does not.
"""

from __future__ import annotations

import ast
import json
import math
import re
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import yaml

from grading.importers import BundleError, load_bundle, load_settings, write_pack
from grading.spec import AssignmentBundle, SpecError, TestSpec, cell_key, cell_role

REPO = Path(__file__).resolve().parents[2]
COMPAT = REPO / ".." / "shared" / "compat"
NBGRADER = COMPAT / "nbgrader" / "nbgrader"
USER_GUIDE = NBGRADER / "docs" / "source" / "user_guide"
PROBLEM1 = USER_GUIDE / "source" / "ps1" / "problem1.ipynb"
HIDDEN_TESTS = NBGRADER / "tests" / "apps" / "files" / "test-hidden-tests.ipynb"
OTTER = COMPAT / "otter"
OTTER_EXAMPLE = OTTER / "test" / "test_assign" / "files" / "example.ipynb"
OTTER_EXCEPTION_EXAMPLE = OTTER / "test" / "test_assign" / "files" / "exception-example.ipynb"
OTTER_DEMO = OTTER / "docs" / "tutorial" / "demo.ipynb"
COURSES = REPO / "content" / "demo" / "courses"
DEMO_ASSIGNMENTS = {
    "neural-networks-and-deep-learning": "vectorised-logistic-regression",
    "improving-deep-neural-networks": "gradient-checking",
    "structuring-machine-learning-projects": "error-analysis-exercise",
    "convolutional-neural-networks": "convolution-forward-pass",
    "sequence-models": "rnn-cell-forward-pass",
}
HAS_PANDAS = __import__("importlib").util.find_spec("pandas") is not None

pytestmark = pytest.mark.skipif(not COMPAT.is_dir(), reason="../shared/compat is not beside the clone")


# ---------------------------------------------------------------------------------------------
# The local sanity check: run the notebook, then the tests, in one namespace.


class Outcome:
    def __init__(self, passed: bool, value=None, error: str = ""):
        self.passed, self.value, self.error = passed, value, error

    def __repr__(self) -> str:
        return f"Outcome(passed={self.passed}, error={self.error!r})"


def _same(actual, expected) -> bool:
    if isinstance(actual, np.ndarray) or isinstance(expected, np.ndarray):
        a, e = np.asarray(actual), np.asarray(expected)
        if a.shape != e.shape:
            return False
        if a.dtype.kind in "fc" or e.dtype.kind in "fc":
            return bool(np.allclose(a, e, equal_nan=True))
        return bool(np.array_equal(a, e))
    if isinstance(expected, float) or isinstance(actual, float):
        try:
            return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, (list, tuple)):
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return type(actual) is type(expected) and bool(actual == expected)


def _run_test(test: TestSpec, namespace: dict, expected: dict | None) -> Outcome:
    try:
        tree = ast.parse(test.code)
        value = None
        if test.kind == "expr":
            body, last = tree.body[:-1], tree.body[-1]
            exec(compile(ast.Module(body=body, type_ignores=[]), test.name, "exec"), namespace)  # noqa: S102
            value = eval(compile(ast.Expression(body=last.value), test.name, "eval"), namespace)  # noqa: S307
        else:
            exec(compile(tree, test.name, "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 - any failure of a test is a failed test
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    if test.kind == "expr" and expected is not None and not _same(value, expected[test.name]):
        return Outcome(False, value, error=f"got {value!r}, expected {expected[test.name]!r}")
    return Outcome(True, value)


def run_locally(notebook: dict, tests: list[TestSpec], *, expected: dict | None = None) -> dict[str, Outcome]:
    """Run code cells in order (test placeholders are not run, errors do not stop the run), each test
    right after its `after` cell or at the end; expr tests compare with `expected` (name -> value)."""
    namespace: dict = {"__name__": "__main__"}
    auto = [t for t in tests if t.kind != "manual"]
    outcomes: dict[str, Outcome] = {}
    for cell in notebook["cells"]:
        key = cell_key(cell)
        if cell["cell_type"] == "code" and cell_role(cell) != "test":
            source = "\n".join(line for line in cell["source"].split("\n") if not line.lstrip().startswith(("%", "!")))
            try:
                exec(compile(source, f"<cell {key}>", "exec"), namespace)  # noqa: S102
            except Exception:  # noqa: BLE001, S110 - the learner's errors do not stop the notebook
                pass
        for test in auto:
            if key is not None and test.after == key:
                outcomes[test.name] = _run_test(test, namespace, expected)
    for test in auto:
        if test.after is None:
            outcomes[test.name] = _run_test(test, namespace, expected)
    return outcomes


def self_check(bundle: AssignmentBundle) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
    """(outcomes of the solution, outcomes of the starter), expr values taken from the solution."""
    solution = run_locally(bundle.solution, bundle.tests)
    expected = {name: outcome.value for name, outcome in solution.items()}
    return solution, run_locally(bundle.starter, bundle.tests, expected=expected)


@pytest.fixture
def otter_support_modules(monkeypatch):
    """What the Otter fixtures import besides numpy: the `otter` package for submissions, a plot
    call (plotting is graded by hand) and the assignment's support file `student_file.py`."""
    otter = types.ModuleType("otter")
    otter.Notebook = lambda *args, **kwargs: types.SimpleNamespace(
        check=lambda *a, **k: None, check_all=lambda: None, export=lambda *a, **k: None
    )
    monkeypatch.setitem(sys.modules, "otter", otter)
    student_file = types.ModuleType("student_file")
    student_file.FOO = 1
    monkeypatch.setitem(sys.modules, "student_file", student_file)
    if __import__("importlib").util.find_spec("matplotlib") is None:
        matplotlib, pyplot = types.ModuleType("matplotlib"), types.ModuleType("matplotlib.pyplot")
        pyplot.plot = lambda *args, **kwargs: []
        matplotlib.pyplot = pyplot
        monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
        monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)


def _notebook(tmp_path: Path, cells: list[dict], name: str = "source.ipynb", **extra) -> Path:
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
        **extra,
    }
    path = tmp_path / name
    path.write_text(json.dumps(notebook))
    return path


def _code(source: str, **nbgrader) -> dict:
    metadata = {"nbgrader": {"schema_version": 3, **nbgrader}} if nbgrader else {}
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": [], "execution_count": None}


def _md(source: str, **nbgrader) -> dict:
    metadata = {"nbgrader": {"schema_version": 3, **nbgrader}} if nbgrader else {}
    return {"cell_type": "markdown", "metadata": metadata, "source": source}


def _raw(source: str) -> dict:
    return {"cell_type": "raw", "metadata": {}, "source": source}


def _sources(notebook: dict) -> list[str]:
    return [cell["source"] for cell in notebook["cells"]]


# ---------------------------------------------------------------------------------------------
# nbgrader


def test_nbgrader_starter_is_what_nbgrader_releases():
    bundle = load_bundle("nbgrader", PROBLEM1)
    release = json.loads((USER_GUIDE / "release" / "ps1" / "problem1.ipynb").read_text())
    released = release["cells"][3:]  # nbgrader prepends the course's header notebook (3 cells)
    assert [c["cell_type"] for c in bundle.starter["cells"]] == [c["cell_type"] for c in released]
    assert _sources(bundle.starter) == ["".join(c["source"]) for c in released]
    # Read-only cells in nbgrader's release are locked here, and the other way round.
    read_only = [c["metadata"].get("editable") is False for c in released]
    assert [bool(c["metadata"]["mooc"].get("locked")) for c in bundle.starter["cells"]] == read_only
    assert all(not c.get("outputs") for c in bundle.starter["cells"])


def test_nbgrader_cells_keep_their_grade_ids_and_solution_matches_starter_key_for_key():
    bundle = load_bundle("nbgrader", PROBLEM1)
    starter_keys = [cell_key(c) for c in bundle.starter["cells"]]
    assert starter_keys == [cell_key(c) for c in bundle.solution["cells"]]
    assert len(set(starter_keys)) == len(starter_keys)
    assert {"jupyter", "squares", "correct_squares", "sum_of_squares_equation"} <= set(starter_keys)
    assert all(c["metadata"]["mooc"]["key"] for c in bundle.starter["cells"])
    # The same source imported twice gives the same keys (they are not random).
    assert starter_keys == [cell_key(c) for c in load_bundle("nbgrader", PROBLEM1).starter["cells"]]
    solution = bundle.solution["cells"][starter_keys.index("squares")]["source"]
    assert "return [i ** 2 for i in range(1, n + 1)]" in solution
    assert "BEGIN SOLUTION" not in solution


def test_nbgrader_grade_cells_become_tests_with_their_points():
    bundle = load_bundle("nbgrader", PROBLEM1)
    tests = {t.name: t for t in bundle.tests}
    assert {n: (t.kind, t.points, t.after) for n, t in tests.items()} == {
        "correct_squares": ("assert", 1.0, "correct_squares"),
        "squares_invalid_input": ("assert", 1.0, "squares_invalid_input"),
        "correct_sum_of_squares": ("assert", 0.5, "correct_sum_of_squares"),
        "sum_of_squares_uses_squares": ("assert", 0.5, "sum_of_squares_uses_squares"),
        "sum_of_squares_equation": ("manual", 1.0, "sum_of_squares_equation"),
        "sum_of_squares_application": ("manual", 2.0, "sum_of_squares_application"),
        "cell-938593c4a215c6cc": ("manual", 4.0, "cell-938593c4a215c6cc"),  # the task cell
    }
    assert bundle.max_points == 3.0
    assert tests["correct_squares"].hint == "Check that squares returns the correct output for several inputs"
    placeholder = next(c for c in bundle.starter["cells"] if cell_key(c) == "correct_squares")
    assert placeholder["metadata"]["mooc"] == {"key": "correct_squares", "role": "test", "locked": True}


def test_nbgrader_hidden_tests_leave_the_starter_but_stay_in_the_test():
    bundle = load_bundle("nbgrader", HIDDEN_TESTS)
    tests = {t.name: t for t in bundle.tests}
    assert tests["correct_squares"].visibility == "hidden"
    assert tests["squares_invalid_input"].visibility == "public"
    assert "assert squares(11) ==" in tests["correct_squares"].code
    assert "HIDDEN TESTS" not in tests["correct_squares"].code
    placeholder = next(c for c in bundle.starter["cells"] if cell_key(c) == "correct_squares")
    assert placeholder["source"] == (
        '"""Check that squares returns the correct output for several inputs"""\n'
        "assert squares(1) == [1]\nassert squares(2) == [1, 4]"
    )
    assert all("squares(11)" not in s and "squares(10) ==" not in s for s in _sources(bundle.starter))


def test_nbgrader_problem1_reference_passes_and_starter_fails_locally():
    solution, starter = self_check(load_bundle("nbgrader", PROBLEM1))
    assert solution and all(o.passed for o in solution.values()), solution
    assert not any(o.passed for o in starter.values()), starter


def test_nbgrader_hidden_tests_catch_a_reference_that_hard_codes_the_public_answers():
    # nbgrader's own fixture: its "solution" only knows n = 1, 2, 10, which the hidden asserts expose,
    # so this grader would fail its self-check and never be published.
    solution, _ = self_check(load_bundle("nbgrader", HIDDEN_TESTS))
    assert not solution["correct_squares"].passed
    assert not solution["correct_sum_of_squares"].passed
    assert solution["squares_invalid_input"].passed and solution["sum_of_squares_uses_squares"].passed


@pytest.mark.parametrize(
    ("learner", "passing"),
    [
        (
            "hacker",
            {"correct_squares", "squares_invalid_input", "correct_sum_of_squares", "sum_of_squares_uses_squares"},
        ),
        ("bitdiddle", {"squares_invalid_input", "sum_of_squares_uses_squares"}),  # squares starts at 0
    ],
)
def test_nbgrader_real_submissions_pass_the_imported_tests_they_should(learner, passing):
    bundle = load_bundle("nbgrader", PROBLEM1)
    submitted = json.loads((USER_GUIDE / "submitted" / learner / "ps1" / "problem1.ipynb").read_text())
    for cell in submitted["cells"]:
        cell["source"] = "".join(cell["source"])
    outcomes = run_locally(submitted, bundle.tests)
    assert {name for name, o in outcomes.items() if o.passed} == passing


def test_nbgrader_markdown_solution_regions_and_solution_cells_without_markers(tmp_path):
    path = _notebook(
        tmp_path,
        [
            _md("Explain:\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\nThanks.", grade_id="why", solution=True),
            _code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", grade_id="f", solution=True),
            _code("answer = 42", grade_id="whole", solution=True),
            _code("assert f() == 1", grade_id="test_f", grade=True, points=2),
        ],
    )
    bundle = load_bundle("nbgrader", path)
    assert _sources(bundle.starter)[:3] == [
        "Explain:\nYOUR ANSWER HERE\nThanks.",
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "# YOUR CODE HERE\nraise NotImplementedError()",
    ]
    assert _sources(bundle.solution)[:3] == ["Explain:\nBecause.\nThanks.", "def f():\n    return 1", "answer = 42"]
    solution, starter = self_check(bundle)
    assert solution["test_f"].passed and not starter["test_f"].passed


def test_nbgrader_v3_notebooks_are_converted(tmp_path):
    v3 = {
        "metadata": {"name": ""},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "collapsed": False,
                        "input": "x = 1  ### BEGIN SOLUTION\n",
                        "language": "python",
                        "metadata": {"nbgrader": {"grade_id": "x", "solution": True, "grade": False}},
                        "outputs": [],
                    },
                    {
                        "cell_type": "code",
                        "collapsed": False,
                        "input": "assert x == 1",
                        "language": "python",
                        "metadata": {"nbgrader": {"grade_id": "t", "grade": True, "solution": False, "points": 1}},
                        "outputs": [],
                    },
                ],
                "metadata": {},
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    with pytest.raises(BundleError, match=r"old\.ipynb, cell 0, line 1: .*mentions solution markers"):
        load_bundle("nbgrader", path)
    v3["worksheets"][0]["cells"][0]["input"] = "x = 1\n"
    path.write_text(json.dumps(v3))
    bundle = load_bundle("nbgrader", path)
    assert bundle.starter["nbformat"] == 4
    assert _sources(bundle.starter) == ["# YOUR CODE HERE\nraise NotImplementedError()", "assert x == 1"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([_code("x = 1")], "no cell has nbgrader metadata"),
        ([_code("x = 1", grade_id="a", solution=True)], "no automatically graded test"),
        (
            [_code("### BEGIN SOLUTION\nx = 1", grade_id="a", solution=True)],
            r"cell 0, line 1: 'BEGIN SOLUTION' is never",
        ),
        ([_code("x = 1\n### END SOLUTION", grade_id="a", solution=True)], r"cell 0, line 2: 'END SOLUTION' without"),
        (
            [_code("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", grade_id="a", solution=True)],
            r"cell 0, line 2: nested 'BEGIN SOLUTION'",
        ),
        ([_code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")], r"cell 0: solution region in a cell that is not"),
        (
            [_code("assert 1\n### BEGIN HIDDEN TESTS\nassert 2", grade_id="t", grade=True, points=1)],
            r"cell 0, line 2: 'BEGIN HIDDEN TESTS' is never closed",
        ),
        ([_code("x = 1", solution=True)], r"cell 0: nbgrader cell without a 'grade_id'"),
        ([_code("assert True", grade_id="t", grade=True)], r"cell 0: graded cell 't' needs 'points'"),
        (
            [_code("assert True", grade_id="t", grade=True, points=1), _code("x", grade_id="t", solution=True)],
            r"cell 1: cell key 't' is used by more than one cell",
        ),
        ([_code("### AUTOTEST f(1)", grade_id="t", grade=True, points=1)], "AUTOTEST directives are not supported"),
        ([_md("hello", grade_id="t", grade=True, points=1)], "Markdown test cell must also be a solution cell"),
        ([_code("x = 1", grade_id="t", grade=False, solution=False, locked=True, checksum="abc")], "import the source"),
    ],
)
def test_nbgrader_invalid_sources_are_refused_with_file_and_place(tmp_path, cells, message):
    path = _notebook(tmp_path, cells)
    with pytest.raises(BundleError, match=message) as caught:
        load_bundle("nbgrader", path)
    assert str(caught.value).startswith(str(path))


def test_nbgrader_real_fixtures_that_are_not_importable_sources_are_refused():
    with pytest.raises(BundleError, match="released or submitted notebook"):
        load_bundle("nbgrader", NBGRADER / "tests" / "apps" / "files" / "submitted-cheat-attempt.ipynb")
    with pytest.raises(BundleError, match="no automatically graded test"):  # only manually graded answers
        load_bundle("nbgrader", USER_GUIDE / "source" / "ps1" / "problem2.ipynb")
    with pytest.raises(BundleError, match=r"problem1\.ipynb, cell 5: nbgrader AUTOTEST"):
        load_bundle("nbgrader", USER_GUIDE / "source" / "ps1_autotest" / "problem1.ipynb")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", r"line 1: not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a Jupyter notebook"),
        (b'{"nbformat": 5, "nbformat_minor": 0, "cells": [], "metadata": {}}', "nbformat v5 is not supported"),
        (b'{"nbformat": 4, "nbformat_minor": 4, "cells": [{"cell_type": "code"}], "metadata": {}}', "not a valid"),
    ],
)
def test_files_that_are_not_v4_notebooks_are_refused(tmp_path, content, message):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    for fmt in ("nbgrader", "otter"):
        with pytest.raises(BundleError, match=message) as caught:
            load_bundle(fmt, path)
        assert "broken.ipynb" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Otter Assign


def _question_of(test_name: str) -> str:
    return re.match(r"(q\d+|question\d+)", test_name).group(1)


def test_otter_starter_code_is_what_otter_assign_gives_students():
    bundle = load_bundle("otter", OTTER_EXAMPLE)
    student = json.loads(
        (OTTER / "test" / "test_assign" / "files" / "example-correct" / "student" / "example.ipynb").read_text()
    )
    student_code = ["".join(c["source"]) for c in student["cells"] if c["cell_type"] == "code"]
    # Otter's init cell names the notebook file and its last cell exports a zip: neither applies here.
    assert student_code[0].startswith("# Initialize Otter") and student_code[-1].startswith("grader.export(")
    ours = [c["source"] for c in bundle.starter["cells"] if c["cell_type"] == "code"]
    assert ours[0] == "import otter\ngrader = otter.Notebook()"
    assert ours[1:] == student_code[1:-1]
    answers = [c["source"] for c in bundle.starter["cells"] if c["cell_type"] == "markdown"]
    assert answers.count("_Type your answer here, replacing this text._") == 2
    assert "_Write your thing here._" in answers and "This markdown should be removed" not in answers
    assert all("BEGIN" not in s and "SOLUTION" not in s.replace("## solution ##", "") for s in _sources(bundle.starter))


def test_otter_points_follow_otter_rules():
    bundle = load_bundle("otter", OTTER_EXAMPLE)
    student = json.loads(
        (OTTER / "test" / "test_assign" / "files" / "example-correct" / "student" / "example.ipynb").read_text()
    )
    shown = {}
    for cell in student["cells"]:
        text = "".join(cell["source"])
        question = re.search(r"\*\*Question (\d+)", text)
        points = re.search(r"_Points:_ ([\d.]+)", text)
        if question and points:
            shown[int(question.group(1))] = float(points.group(1))
    ours: dict[int, float] = {}
    for test in bundle.tests:
        number = int(re.sub(r"\D", "", _question_of(test.name)))
        ours[number] = ours.get(number, 0) + test.points
    del shown[5]  # question 5 has no tests: nothing grades it automatically, and it is not manual
    assert ours == shown
    tests = {t.name: t for t in bundle.tests}
    assert [tests[f"q1a-{i}"].points for i in range(1, 6)] == [2, 3, 1, 10, 0]  # unspecified: 0
    assert (tests["q9-1"].points, tests["q9-2"].points) == (0.5, 0.5)  # `points: 1` shared
    assert (tests["q8a-1"].points, tests["q8a-2"].points) == (10, 2)  # `points: [10, 2]`
    assert {t.group for t in bundle.tests if t.name.startswith("q1")} == {"q1"}  # all_or_nothing: true
    assert {t.group for t in bundle.tests if not t.name.startswith("q1")} == {""}


def test_otter_tests_keep_config_hidden_flags_messages_and_kinds():
    bundle = load_bundle("otter", OTTER_EXAMPLE)
    tests = {t.name: t for t in bundle.tests}
    assert tests["q1a-1"].failure_message == "This is not an int."
    assert tests["q1a-4"].visibility == "hidden"
    assert tests["q1a-4"].code.startswith("# a test to check that type hints")
    assert "TEST CONFIG" not in tests["q1a-4"].code
    assert (tests["q1a-4"].kind, tests["q1-6"].kind) == ("expr", "assert")
    assert all(t.after is None for t in bundle.tests if t.kind != "manual")
    assert {t.name for t in bundle.tests if t.kind == "manual"} == {"q2", "q4", "question6", "q7"}
    check_cells = [c for c in bundle.starter["cells"] if cell_role(c) == "test"]
    assert [c["source"] for c in check_cells] == [
        "import otter\ngrader = otter.Notebook()",
        'grader.check("q1")',
        'grader.check("q3")',
        'grader.check("q8")',
        'grader.check("q9")',
    ]
    demo = {t.name: t for t in load_bundle("otter", OTTER_DEMO).tests}
    assert demo["q1-3"].visibility == "hidden" and demo["q1-3"].code == "square(2.5) == 6.25"  # `# HIDDEN` line
    assert demo["q1-1"].points == pytest.approx(1 / 3)


def test_otter_raw_config_cells_are_not_in_the_notebooks():
    for path in (OTTER_EXAMPLE, OTTER_DEMO, OTTER_EXCEPTION_EXAMPLE):
        bundle = load_bundle("otter", path)
        for notebook in (bundle.starter, bundle.solution):
            assert [cell_key(c) for c in notebook["cells"]] == [cell_key(c) for c in bundle.starter["cells"]]
            text = "\n".join(_sources(notebook))
            for marker in ("ASSIGNMENT CONFIG", "BEGIN QUESTION", "END QUESTION", "BEGIN TESTS", "TEST CONFIG"):
                assert marker not in text


def test_otter_example_reference_passes_and_starter_fails_locally(otter_support_modules):
    for path in (OTTER_EXAMPLE, OTTER_EXCEPTION_EXAMPLE):
        solution, starter = self_check(load_bundle("otter", path))
        assert solution and all(o.passed for o in solution.values()), (path.name, solution)
        assert not all(o.passed for o in starter.values())
        assert not starter["q3a-2" if path == OTTER_EXAMPLE else "q3-1"].passed


def test_otter_tutorial_reference_passes_and_starter_fails_locally(otter_support_modules):
    bundle = load_bundle("otter", OTTER_DEMO)
    solution, starter = self_check(bundle)
    needs_pandas = {name for name in solution if name.startswith("q3-")}
    checked = set(solution) if HAS_PANDAS else set(solution) - needs_pandas
    assert checked >= {"q1-1", "q1-2", "q1-3", "q2-1", "q2-2"}
    assert all(solution[name].passed for name in checked), solution
    assert not any(starter[name].passed for name in {"q1-1", "q1-3", "q2-1", "q2-2"})


@pytest.mark.parametrize(
    ("submission", "failing"),
    [("demo-passesAll.ipynb", set()), ("demo-fails2Hidden.ipynb", {"q2-2"})],
)
def test_otter_graded_submissions_get_the_results_otter_gave(otter_support_modules, submission, failing):
    bundle = load_bundle("otter", OTTER_DEMO)
    solution = run_locally(bundle.solution, bundle.tests)
    expected = {name: outcome.value for name, outcome in solution.items()}
    notebook = json.loads((OTTER / "docs" / "tutorial" / "submissions" / "ipynbs" / submission).read_text())
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"])
    outcomes = run_locally(notebook, bundle.tests, expected=expected)
    checked = {name for name in outcomes if HAS_PANDAS or not name.startswith("q3-")}
    assert {name for name in checked if not outcomes[name].passed} == failing


def _otter(tmp_path, *cells) -> Path:
    return _notebook(tmp_path, list(cells), name="master.ipynb")


GOOD_QUESTION = [
    _raw("# BEGIN QUESTION\nname: q1\npoints: 2"),
    _raw("# BEGIN SOLUTION"),
    _code("x = 2 # SOLUTION"),
    _raw("# END SOLUTION"),
    _raw("# BEGIN TESTS"),
    _code("x == 2"),
    _raw("# END TESTS"),
    _raw("# END QUESTION"),
]


def test_otter_small_master_imports(tmp_path):
    bundle = load_bundle("otter", _otter(tmp_path, *GOOD_QUESTION))
    assert _sources(bundle.starter) == ["import otter\ngrader = otter.Notebook()", "x = ...", 'grader.check("q1")']
    assert _sources(bundle.solution)[1] == "x = 2"
    assert [(t.name, t.points, t.kind) for t in bundle.tests] == [("q1-1", 2.0, "expr")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c[:-1], r"question 'q1' has no '# END QUESTION'"),
        (lambda c: [c[0], *c[2:]], r"cell 2: '# END SOLUTION' but no block is open"),
        (lambda c: [*c[:2], _raw("# BEGIN TESTS"), *c[2:]], r"cell 2: '# BEGIN TESTS' inside the solution block"),
        (lambda c: [c[0], c[1], _code("x = 2"), *c[3:]], r"cell 2: code in a solution block has no '# SOLUTION'"),
        (lambda c: [c[0], c[1], _code("# BEGIN SOLUTION\nx = 2"), *c[3:]], r"cell 2, line 1: '# BEGIN SOLUTION' is"),
        (lambda c: [*c[:5], _md("x == 2"), *c[6:]], r"cell 5: a tests block may hold only code"),
        (lambda c: [*c[:5], _code('""" # BEGIN TEST CONFIG\nweight: 2\n""" # END TEST CONFIG\nx'), *c[6:]], "weight"),
        (lambda c: [*c[:5], _code('""" # BEGIN TEST CONFIG\npoints: [\n""" # END TEST CONFIG\nx'), *c[6:]], "YAML"),
        (
            lambda c: [*c[:5], _code('""" # BEGIN TEST CONFIG\npoints: 3\n""" # END TEST CONFIG\nx'), *c[6:]],
            "more than",
        ),
        (
            lambda c: [*c[:5], *[_code('""" # BEGIN TEST CONFIG\nname: t\n""" # END TEST CONFIG\nx')] * 2, *c[6:]],
            "unique: t",
        ),
        (lambda c: [_raw("# BEGIN QUESTION\nname: q1\npoints: [1, 2]"), *c[1:]], r"lists 2 values for 1 tests"),
        (lambda c: [_raw("# BEGIN QUESTION\npoints: 1"), *c[1:]], r"cell 0: a question needs a 'name'"),
        (lambda c: [_raw("# BEGIN QUESTION\nname: q1\nmanual: true"), *c[1:]], "manual question 'q1' cannot have"),
        (lambda c: [*c, *c], r"cell 8: question name 'q1' is used twice"),
        (lambda c: [_raw("# BEGIN QUESTION\nname: q1\nmanual: true"), *c[1:4], c[7]], "no automatically graded"),
        (lambda c: [_code("# BEGIN QUESTION\nname: q1"), *c[1:]], "must be in a raw cell"),
        (lambda c: [_md("```\nBEGIN QUESTION\nname: q1\n```"), _code("x = 2 # SOLUTION")], "Otter Assign v0"),
        (lambda c: [_code("x = 2")], "not an Otter Assign master notebook"),
    ],
)
def test_otter_invalid_masters_are_refused_with_file_and_place(tmp_path, change, message):
    path = _otter(tmp_path, *change(list(GOOD_QUESTION)))
    with pytest.raises(BundleError, match=message) as caught:
        load_bundle("otter", path)
    assert str(caught.value).startswith(str(path))


# ---------------------------------------------------------------------------------------------
# Our pack format


def _all_bundles() -> list[tuple[str, AssignmentBundle]]:
    bundles = [
        ("problem1", load_bundle("nbgrader", PROBLEM1)),
        ("hidden-tests", load_bundle("nbgrader", HIDDEN_TESTS)),
        ("otter-example", load_bundle("otter", OTTER_EXAMPLE)),
        ("otter-demo", load_bundle("otter", OTTER_DEMO)),
    ]
    for course, slug in DEMO_ASSIGNMENTS.items():
        bundles.append((slug, load_bundle("pack", COURSES / course / "assignments" / slug)))
    return bundles


def test_write_pack_round_trips_every_bundle_exactly(tmp_path):
    for name, bundle in _all_bundles():
        settings = {"time_limit_seconds": 60, "max_attempts": None, "pass_percent": 70}
        write_pack(bundle, tmp_path / name, settings=settings)
        again = load_bundle("pack", tmp_path / name)
        assert again == bundle, name
        assert load_settings(tmp_path / name) == settings
        write_pack(again, tmp_path / f"{name}-2", settings=settings)
        for file in ("assignment.yaml", "starter.ipynb", "solution.ipynb", "instructions.md"):
            assert (tmp_path / name / file).read_bytes() == (tmp_path / f"{name}-2" / file).read_bytes()


def _pack(tmp_path: Path, manifest: dict | str, starter: list | None = None, solution: list | None = None) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest, sort_keys=False)
    (folder / "assignment.yaml").write_text(text)
    (folder / "instructions.md").write_text("Do it.")
    cells = starter if starter is not None else [_code("def f():\n    raise NotImplementedError()")]
    _notebook(folder, cells, name="starter.ipynb")
    _notebook(folder, solution if solution is not None else [_code("def f():\n    return 1")], name="solution.ipynb")
    return folder


GOOD_TEST = {"name": "f-returns-1", "points": 1, "kind": "assert", "visibility": "public", "code": "assert f() == 1"}


def test_pack_without_cell_keys_gets_positional_keys(tmp_path):
    bundle = load_bundle("pack", _pack(tmp_path, {"title": "F", "tests": [dict(GOOD_TEST, after="cell-1")]}))
    assert bundle.instructions == "Do it."
    assert [cell_key(c) for c in bundle.starter["cells"]] == ["cell-1"]
    assert bundle.tests == [TestSpec(name="f-returns-1", points=1, code="assert f() == 1", after="cell-1")]


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("title: [unclosed\n", r"assignment\.yaml, line 2: invalid YAML"),
        ("- a list\n", "must be a YAML mapping"),
        ({"title": "F", "colour": "red", "tests": [GOOD_TEST]}, r"line 2: unknown key\(s\): colour"),
        ({"title": "F", "tests": []}, r"line 2: 'tests' must be a non-empty list"),
        (
            {"title": "F", "tests": [GOOD_TEST, dict(GOOD_TEST)]},
            r"line 8: test name 'f-returns-1' is already used by test #1",
        ),
        ({"title": "F", "tests": [dict(GOOD_TEST, kind="doctest")]}, r"line 3: test 'f-returns-1': kind must be"),
        ({"title": "F", "tests": [dict(GOOD_TEST, code="assert (")]}, "syntax error on line 1"),
        ({"title": "F", "tests": [dict(GOOD_TEST, after="nowhere")]}, "placed after cell 'nowhere', which the starter"),
        ({"title": "F", "tests": [dict(GOOD_TEST, kind="manual", code="")]}, "no automatically graded test"),
        ({"title": "F", "tests": [dict(GOOD_TEST, weight=2)]}, r"line 3: test #1: unknown key\(s\) weight"),
        ({"title": "F", "memory_mb": True, "tests": [GOOD_TEST]}, r"line 2: memory_mb must be a whole number"),
        ({"title": "F", "time_limit_seconds": 10, "cell_timeout_seconds": 30, "tests": [GOOD_TEST]}, "cannot exceed"),
        ({"title": "F", "instructions": "../secret.md", "tests": [GOOD_TEST]}, "not found in the folder"),
    ],
)
def test_invalid_packs_are_refused_with_file_and_line(tmp_path, manifest, message):
    folder = _pack(tmp_path, manifest)
    with pytest.raises(SpecError, match=message) as caught:
        load_bundle("pack", folder)
    assert "assignment.yaml" in str(caught.value)


def test_pack_starter_and_solution_must_match_key_for_key(tmp_path):
    starter = [_code("x = 1"), _code("y = 2")]
    starter[1]["metadata"]["mooc"] = {"key": "second"}
    folder = _pack(tmp_path, {"title": "F", "tests": [GOOD_TEST]}, starter=starter, solution=[_code("x = 1")])
    with pytest.raises(BundleError, match=r"solution\.ipynb, cell 1: cells must match starter\.ipynb key for key"):
        load_bundle("pack", folder)
    (folder / "starter.ipynb").write_text("{")
    with pytest.raises(BundleError, match=r"starter\.ipynb, line 1: not JSON"):
        load_bundle("pack", folder)


def test_load_settings_returns_validated_ints(tmp_path):
    folder = _pack(
        tmp_path,
        {"title": "F", "time_limit_seconds": 60, "cell_timeout_seconds": 20, "memory_mb": 256, "max_attempts": 5,
         "cooldown_minutes": 0, "pass_percent": 80, "tests": [GOOD_TEST]},
    )  # fmt: skip
    assert load_settings(folder) == {
        "time_limit_seconds": 60,
        "cell_timeout_seconds": 20,
        "memory_mb": 256,
        "max_attempts": 5,
        "cooldown_minutes": 0,
        "pass_percent": 80,
    }
    folder = _pack(tmp_path, {"title": "F", "pass_percent": 101, "tests": [GOOD_TEST]})
    with pytest.raises(BundleError, match=r"line 2: pass_percent must be a whole number from 0 to 100"):
        load_settings(folder)


def test_unknown_format_and_folder_for_a_notebook_format_are_refused(tmp_path):
    with pytest.raises(BundleError, match="unknown format 'jupyter'"):
        load_bundle("jupyter", tmp_path)
    with pytest.raises(BundleError, match="imports one notebook"):
        load_bundle("otter", tmp_path)
    with pytest.raises(BundleError, match=r"missing: an assignment folder needs assignment\.yaml"):
        load_bundle("pack", tmp_path)


# ---------------------------------------------------------------------------------------------
# The demo assignments


@pytest.mark.parametrize(("course", "slug"), list(DEMO_ASSIGNMENTS.items()))
def test_demo_assignment_is_referenced_by_its_course_and_well_formed(course, slug):
    course_yaml = yaml.safe_load((COURSES / course / "course.yaml").read_text())
    items = [item for week in course_yaml["weeks"] for item in week["items"] if item["kind"] == "assignment"]
    assert [item.get("assignment") for item in items] == [f"assignments/{slug}"]
    bundle = load_bundle("pack", COURSES / course / "assignments" / slug)
    settings = load_settings(COURSES / course / "assignments" / slug)
    assert settings["time_limit_seconds"] <= 120 and settings["memory_mb"] <= 1024
    assert bundle.instructions.startswith("# ") and len(bundle.instructions) > 400
    assert len(bundle.starter["cells"]) <= 12
    auto = [t for t in bundle.tests if t.kind != "manual"]
    assert 3 <= len(auto) <= 6
    assert {t.visibility for t in auto} == {"public", "hidden"}
    assert all(t.hint for t in auto) and all(t.points > 0 for t in auto)
    assert all("import numpy as np" in t.code for t in auto)
    starter_text = "\n".join(_sources(bundle.starter))
    assert "# YOUR CODE HERE" in starter_text and "raise NotImplementedError" in starter_text
    solution_code = "\n".join(c["source"] for c in bundle.solution["cells"] if c["cell_type"] == "code")
    assert "raise NotImplementedError" not in solution_code and "YOUR CODE HERE" not in solution_code


@pytest.mark.parametrize(("course", "slug"), list(DEMO_ASSIGNMENTS.items()))
def test_demo_reference_passes_every_test_quickly_and_starter_fails(course, slug):
    bundle = load_bundle("pack", COURSES / course / "assignments" / slug)
    started = time.monotonic()
    solution, starter = self_check(bundle)
    assert time.monotonic() - started < 2.0
    assert all(o.passed for o in solution.values()), solution
    assert not any(o.passed for o in starter.values()), starter


def test_demo_hidden_tests_catch_a_plausible_wrong_answer():
    # A learner who forgets the stride in conv_forward passes the public shape test but not the hidden ones.
    bundle = load_bundle("pack", COURSES / "convolutional-neural-networks" / "assignments" / "convolution-forward-pass")
    notebook = json.loads(json.dumps(bundle.solution))
    for cell in notebook["cells"]:
        cell["source"] = cell["source"].replace("h * stride", "h").replace("w * stride", "w")
    outcomes = run_locally(notebook, bundle.tests)
    hidden = {t.name for t in bundle.tests if t.visibility == "hidden"}
    assert any(not outcomes[name].passed for name in hidden)
    assert all(o.passed for name, o in outcomes.items() if name not in hidden and "shape" in name)
