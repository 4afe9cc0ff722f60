"""The trusted side: tests run outside the learner's namespace, learner values arrive as data."""

import json

import numpy as np
import pytest

from grading import engine
from grading.pipeline import grade_notebook
from grading.spec import TestSpec, locked_cell_hashes
from tests.grading.fakes import FakeAnswer, FakeSession


def _nb(*cells):
    out = []
    for i, cell in enumerate(cells):
        if isinstance(cell, tuple):
            source, meta = cell
        else:
            source, meta = cell, {}
        out.append(
            {"cell_type": "code", "source": source, "metadata": {"mooc": {"key": f"c{i}", **meta}}, "outputs": []}
        )
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": out}


def _grade(notebook, tests, starter=None, **kwargs):
    starter = starter or notebook
    return grade_notebook(
        FakeSession(),
        starter=starter,
        tests=tests,
        locked_hashes=locked_cell_hashes(starter),
        notebook=notebook,
        **kwargs,
    )


SQUARES = (
    "def squares(n):\n    if n < 1:\n        raise ValueError('n >= 1')\n    return [i * i for i in range(1, n + 1)]\n"
)
SUM = "def sum_of_squares(n):\n    return sum(squares(n))\n"


def test_assert_tests_pass_and_fail_with_messages():
    tests = [
        TestSpec(name="values", points=2, code="assert squares(3) == [1, 4, 9], 'wrong values'"),
        TestSpec(
            name="invalid",
            points=1,
            code="try:\n    squares(0)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('did not raise')",
        ),
        TestSpec(name="bad", points=1, code="assert squares(2) == [1, 5], 'two squares'"),
    ]
    report = _grade(_nb(SQUARES), tests)
    assert [(t.name, t.passed) for t in report.tests] == [("values", True), ("invalid", True), ("bad", False)]
    assert report.score == 3 and report.max_score == 4
    assert report.tests[2].message.startswith("two squares\nExpected: array of shape (2,), dtype int64: [1, 5]\n")


def test_nbgrader_delete_and_restore_is_mirrored_into_the_kernel():
    uses = (
        "orig = squares\n"
        "del squares\n"
        "try:\n    sum_of_squares(1)\n"
        "except NameError:\n    pass\n"
        "else:\n    raise AssertionError('does not use squares')\n"
        "finally:\n    squares = orig"
    )
    after = "assert squares(2) == [1, 4]"
    tests = [TestSpec(name="uses", points=1, code=uses), TestSpec(name="still-there", points=1, code=after)]
    honest = _grade(_nb(SQUARES, SUM), tests)
    assert [t.passed for t in honest.tests] == [True, True]
    reimplemented = _grade(
        _nb(SQUARES, "def sum_of_squares(n):\n    return sum(i * i for i in range(1, n + 1))\n"), tests
    )
    assert [t.passed for t in reimplemented.tests] == [False, True]
    assert reimplemented.tests[0].message == "does not use squares"


def test_learner_tricks_inside_the_kernel_do_not_change_the_outcome():
    cheat = (
        # Patching modules (np.allclose) needs a real process boundary: tests/grading/test_sandbox_grading.py.
        "class Always:\n    def __eq__(self, other):\n        return True\n"
        "def sigmoid(z):\n    return Always()\n"
        "AssertionError = type('AssertionError', (Exception,), {})\n"
    )
    tests = [
        TestSpec(
            name="close", points=1, code="import numpy as np\nassert np.allclose(sigmoid(np.array([0.0])), [0.5])"
        ),
        TestSpec(name="eq", points=1, code="assert sigmoid(0.0) == 0.5"),
    ]
    report = _grade(_nb(cheat), tests)
    assert report.score == 0
    assert all("could not be checked" in t.message or "cannot transfer" in t.message for t in report.tests)


def test_expr_tests_compare_with_the_reference_value():
    solution = _nb("x = 2\ndef square(v):\n    return v * v\n")
    tests = [
        TestSpec(name="q1", points=1, kind="expr", code="isinstance(x, int)"),
        TestSpec(name="q3", points=2, kind="expr", code="square(16)"),
        TestSpec(name="arr", points=1, kind="expr", code="import numpy as np\nnp.arange(3) * x"),
    ]
    reference = _grade(solution, tests, collect_expected=True)
    for spec, result in zip(tests, reference.tests, strict=True):
        spec.expected, spec.has_expected = engine.encode_value(result.value), True
    good = _grade(_nb("x = 2\ndef square(v):\n    return v ** 2\n"), tests)
    assert good.score == 4
    wrong = _grade(_nb("x = 3.0\ndef square(v):\n    return v + v\n"), tests)
    assert [t.passed for t in wrong.tests] == [False, False, False]
    assert wrong.tests[1].message == "expected 256, got 32"


def test_an_array_of_the_right_shape_with_wrong_values_is_not_described_as_the_expected_one():
    notebook = _nb("import numpy as np\ndef f():\n    return np.array([np.nan, np.inf])")
    tests = [
        TestSpec(
            name="arr", points=1, kind="expr", code="f()", expected=engine.encode_value(np.ones(2)), has_expected=True
        )
    ]
    report = _grade(notebook, tests)
    assert report.tests[0].message == "expected array of shape (2,), dtype float64 with other values"


def test_hidden_tests_show_name_and_author_message_only():
    tests = [
        TestSpec(
            name="secret",
            points=1,
            code="assert squares(50)[-1] == 2501, 'boundary 2500'",
            visibility="hidden",
            hint="Check large n.",
            failure_message="squares(n) must end with n squared.",
        )
    ]
    report = _grade(_nb(SQUARES), tests)
    learner_view = report.tests[0].for_learner()
    assert learner_view["message"] == "squares(n) must end with n squared."
    assert learner_view["passed"] is False and learner_view["status"] == "failed"
    assert "2501" not in str(learner_view) and "boundary" not in str(learner_view)
    assert "boundary 2500" in report.tests[0].message  # staff see the assertion's own text


def test_tests_placed_after_a_cell_see_the_state_at_that_point():
    notebook = _nb("x = 1", ("", {"role": "test"}), "x = 2")
    tests = [
        TestSpec(name="early", points=1, code="assert x == 1", after="c1"),
        TestSpec(name="late", points=1, code="assert x == 2"),
    ]
    report = _grade(notebook, tests)
    assert [t.passed for t in report.tests] == [True, True]
    assert report.cells[1].status == "feedback"  # the placeholder runs for feedback only


def test_modified_locked_cell_is_flagged_and_the_released_code_runs():
    starter = _nb(("LIMIT = 10", {"locked": True}), "def f():\n    return LIMIT\n")
    submitted = _nb(("LIMIT = 99999", {"locked": True}), "def f():\n    return LIMIT\n")
    report = _grade(submitted, [TestSpec(name="limit", points=1, code="assert f() == 10")], starter=starter)
    assert report.tests[0].passed
    assert "locked_cell_modified:c0" in report.flags and report.cells[0].replaced


def test_learner_errors_are_reported_and_missing_names_fail_cleanly():
    report = _grade(_nb("def f(:\n  pass", "y = 1"), [TestSpec(name="f", points=1, code="assert f() == 1")])
    assert report.cells[0].status == "error" and report.cells[0].error.startswith("SyntaxError")
    assert not report.tests[0].passed and "NameError" in report.tests[0].message


def test_manual_tests_are_not_scored():
    report = _grade(
        _nb("x = 1"),
        [
            TestSpec(name="auto", points=1, code="assert x == 1"),
            TestSpec(name="essay", points=3, kind="manual", code=""),
        ],
    )
    assert report.score == 1 and report.max_score == 1
    assert report.tests[1].status == "manual"


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        (np.array([0.5, 0.25]), np.array([0.5, 0.2500000001]), True),
        (np.array([0.5]), np.array([[0.5]]), False),
        ([1, 2], (1, 2), False),
        ({"dW": np.ones(2)}, {"dW": np.ones(2)}, True),
        (float("nan"), float("nan"), True),
        (True, 1, False),
        (3, 3.0000001, True),
        (np.complex128(0.5 + 1000j), 0.5, False),
        (0.5, np.complex128(0.5 + 0j), True),
        (np.array([0.5 + 1j]), np.array([0.5]), False),
        ("a", "a", True),
    ],
)
def test_values_equal(actual, expected, equal):
    assert engine.values_equal(actual, expected) is equal


def test_stored_values_round_trip():
    value = {"a": (1, 2.5, float("inf")), "W": np.arange(6).reshape(2, 3), "s": "x", "n": None, "l": [np.float32(1.5)]}
    decoded = engine.decode_value(engine.encode_value(value))
    assert engine.values_equal(
        decoded, {"a": (1, 2.5, float("inf")), "W": np.arange(6).reshape(2, 3), "s": "x", "n": None, "l": [1.5]}
    )


def test_all_or_nothing_groups_award_points_only_when_every_test_passes():
    tests = [
        TestSpec(name="a", points=1, code="assert x == 1", group="q1"),
        TestSpec(name="b", points=1, code="assert x == 2", group="q1"),
        TestSpec(name="c", points=1, code="assert x == 1"),
    ]
    report = _grade(_nb("x = 1"), tests)
    assert [(t.name, t.passed, t.points) for t in report.tests] == [
        ("a", True, 0.0),
        ("b", False, 0.0),
        ("c", True, 1.0),
    ]
    assert report.score == 1 and "every test of this question" in report.tests[0].message


def test_otter_notebooks_run_unchanged_and_check_prints_public_feedback_only():
    starter = _nb(
        ("import otter\ngrader = otter.Notebook()", {"role": "test"}),
        "x = 3",
        ('grader.check("q1")', {"role": "test"}),
    )
    tests = [
        TestSpec(name="q1-public", points=1, code="assert x == 2, 'x should be 2'", question="q1"),
        TestSpec(name="q1-hidden", points=1, code="assert x > 1", question="q1", visibility="hidden"),
    ]
    report = _grade(starter, tests)
    feedback = report.cells[2].outputs[0]["text"]
    assert "q1-public: AssertionError: x should be 2" in feedback and "q1-hidden" not in feedback
    assert [t.passed for t in report.tests] == [False, True]
    fixed = _grade(
        _nb(
            ("import otter\ngrader = otter.Notebook()", {"role": "test"}),
            "x = 2",
            ('grader.check("q1")', {"role": "test"}),
        ),
        tests,
        starter=starter,
    )
    assert "q1 results: All test cases passed!" in fixed.cells[2].outputs[0]["text"]


def test_otter_feedback_accepts_what_the_grader_accepts():
    """grader.check compared expression tests with ==: a value off in the last digits (another but
    equivalent formula) was called wrong in the feedback while the grader itself gave the points."""
    starter = _nb(
        ("import otter\ngrader = otter.Notebook()", {"role": "test"}),
        "x = 0.1 + 0.2",
        ('grader.check("q1")', {"role": "test"}),
    )
    tests = [
        TestSpec(name="q1-float", points=1, kind="expr", code="x", question="q1", expected=0.3, has_expected=True),
        TestSpec(
            name="q1-list", points=1, kind="expr", code="[x, 2]", question="q1", expected=[0.3, 2], has_expected=True
        ),
    ]
    report = _grade(starter, tests)
    assert [t.passed for t in report.tests] == [True, True]
    assert "q1 results: All test cases passed!" in report.cells[2].outputs[0]["text"]
    wrong = _grade(_nb(starter["cells"][0]["source"], "x = 0.31", 'grader.check("q1")'), tests, starter=starter)
    assert "q1-float: wrong value" in wrong.cells[2].outputs[0]["text"]


def test_a_lying_kernel_cannot_make_the_worker_import_a_module_or_exit(monkeypatch):
    kernel = engine.Kernel(FakeSession())
    monkeypatch.setattr(kernel, "describe", lambda names: dict.fromkeys(names, "module:numpy.f2py.__main__"))
    outcome = engine.run_test(kernel, "assert np.ones(1)[0] == 1", name="t")
    assert not outcome.passed and "NameError" in outcome.message  # np was never imported here
    exiting = engine.run_test(engine.Kernel(FakeSession()), "import sys\nsys.exit(3)", name="exit")
    assert not exiting.passed and exiting.message.startswith("SystemExit")


def test_stop_iteration_from_learner_code_cannot_end_a_check_early():
    report = _grade(
        _nb("def f(x):\n    raise StopIteration"),
        [TestSpec(name="all", points=1, code="assert all(map(lambda x: f(x) == x * x, [1, 2]))")],
    )
    assert not report.tests[0].passed and "StopIteration" in report.tests[0].message


def test_an_untransferable_learner_global_only_matters_if_the_test_uses_it():
    notebook = _nb("class Model:\n    pass\nx = Model()\ndef sq(v):\n    return v * v")
    loop = TestSpec(name="loop", points=1, code="for x in [1, 2, 3]:\n    assert sq(x) == x * x")
    uses = TestSpec(name="uses", points=1, code="assert x == 1")
    report = _grade(notebook, [loop, uses])
    assert [t.passed for t in report.tests] == [True, False]
    assert "could not be checked" in report.tests[1].message


def _learner_visible(report):
    """Everything of a report that reaches the learner (page, REST API, exports)."""
    times = [c.duration_s for c in report.cells] + [report.execution_time]
    # Times come from before the hidden tests (compared for equality they would only measure noise).
    assert all(round(t * 10) == t * 10 for t in times), times
    cells = [(c.index, c.status, c.outputs, c.error) for c in report.cells]
    return cells, [t.for_learner() for t in report.tests], report.flags


def test_nothing_learner_visible_depends_on_a_hidden_tests_inputs():
    """Hole 1: a function recorded the argument a hidden test passed, and 64 cells placed after the
    tests each ended ok or error on one bit of it; statuses, outputs and durations decoded it."""
    spy = (
        "import time\nseen = []\n"
        "def f(v):\n    seen.append(v)\n    return v\n"
        "def bit(i):\n    return (seen[-1] >> i) & 1 if seen else 0\n"
    )
    leak_cells = [
        f"print('bit {i}', bit({i}))\ntime.sleep(0.002 * bit({i}))\nif bit({i}):\n    raise ValueError(seen)"
        for i in range(12)
    ]
    notebook = _nb(spy, ("", {"role": "test"}), *leak_cells)
    views = []
    for secret in (0b101101100111, 0b010010011000):
        tests = [
            TestSpec(name="secret", points=1, code=f"assert f({secret}) == {secret}", after="c1", visibility="hidden"),
            TestSpec(name="echo", points=1, code="assert f(7) == 8"),  # a public test after all cells
        ]
        report = _grade(notebook, tests)
        assert report.tests[0].passed
        views.append(_learner_visible(report))
    assert views[0] == views[1]
    cells, public_tests, _ = views[0]
    assert {status for _, status, *_ in cells} == {"ok", "feedback"}  # the spy cells ran before the hidden test
    assert "bit 0 0" in str(cells) and public_tests[1]["status"] == "failed"


def test_missing_and_duplicated_locked_cells_are_flagged():
    starter = _nb(("LIMIT = 10", {"locked": True}), "x = 1")
    missing = _grade(
        _nb(("x = 1", {"key": "c1"})), [TestSpec(name="t", points=1, code="assert x == 1")], starter=starter
    )
    assert "locked_cell_missing:c0" in missing.flags
    twice = {**starter, "cells": starter["cells"] + [starter["cells"][0]]}
    duplicated = _grade(twice, [TestSpec(name="t", points=1, code="assert x == 1")], starter=starter)
    assert "locked_cell_duplicated:c0" in duplicated.flags


class _DiesOnCall(FakeSession):
    """A kernel that exits while a test calls into it (os._exit in the learner's function)."""

    status = "ok"

    def call(self, name, args=(), kwargs=None):
        if name.startswith("__mooc"):
            return super().call(name, args, kwargs)
        self.status = "died"
        return FakeAnswer(False, error="kernel died (died)")


@pytest.mark.parametrize("after", [None, "c0"])
def test_a_test_during_which_the_kernel_dies_is_reported_as_not_run(after):
    notebook = _nb("def f():\n    import os\n    os._exit(0)")
    tests = [
        TestSpec(name="first", points=1, code="assert f() == 1", after=after),
        TestSpec(name="second", points=1, code="assert f() == 1"),
    ]
    report = grade_notebook(
        _DiesOnCall(), starter=notebook, tests=tests, locked_hashes={}, notebook=notebook, collect_expected=False
    )
    assert [(t.name, t.status) for t in report.tests] == [("first", "not_run"), ("second", "not_run")]
    assert report.score == 0 and "kernel stopped" in report.tests[0].message


def test_public_tests_and_cells_show_full_details_and_hidden_inputs_never_reach_them():
    keeps = (
        "seen = []\ndef f(v):\n    seen.append(v)\n"
        "    if len(seen) > 1:\n        raise ValueError(f'inputs {seen}')\n    return v"
    )
    notebook = _nb(keeps, ("", {"role": "test"}), "raise ValueError(f'cell {seen}')")
    tests = [
        TestSpec(name="secret", points=1, code="assert f(424242) == 424242", after="c1", visibility="hidden"),
        TestSpec(name="public", points=1, code="assert f(1) == 1"),
        TestSpec(name="named", points=1, code="assert f(2) == 2", failure_message="f(2) should be 2."),
    ]
    report = _grade(notebook, tests)
    learner = [t.for_learner() for t in report.tests]
    shown = str(learner) + str([(c.outputs, c.error) for c in report.cells])
    assert "424242" not in shown, shown
    assert report.cells[-1].error == "ValueError: cell []"  # the learner's own error, in full
    assert learner[1]["passed"]
    assert learner[2]["message"] == "f(2) should be 2. (ValueError: inputs [1, 2])"
    assert "424242" in report.tests[0].message  # staff see the hidden test's full text


def test_an_empty_array_does_not_pass_allclose_or_isclose_vacuously():
    notebook = _nb("import numpy as np\ndef f(x):\n    return np.zeros((0, 1, 1))")
    tests = [
        TestSpec(name="allclose", points=1, code="import numpy as np\nassert np.allclose(f(1.0), [0.5, 0.7])"),
        TestSpec(name="from", points=1, code="from numpy import allclose\nassert allclose(f(1.0), [[0.5]])"),
        TestSpec(name="learner_np", points=1, code="assert np.all(np.isclose(f(1.0), [0.5, 0.7]))"),
        TestSpec(name="empty", points=1, code="import numpy as np\nassert np.allclose(f(1.0), np.ones((0, 1, 1)))"),
    ]
    report = _grade(notebook, tests)
    assert [t.passed for t in report.tests] == [False, False, False, True]


def test_a_locked_cell_whose_type_changed_is_flagged_and_runs_as_released():
    starter = _nb(("LIMIT = 10", {"locked": True}), "def f():\n    return LIMIT\n")
    submitted = _nb(("LIMIT = 10", {"locked": True}), "def f():\n    return LIMIT\n")
    submitted["cells"][0]["cell_type"] = "markdown"
    report = _grade(submitted, [TestSpec(name="limit", points=1, code="assert f() == 10")], starter=starter)
    assert report.tests[0].passed
    assert "locked_cell_modified:c0" in report.flags and report.cells[0].replaced
    text = {**starter, "cells": [{"cell_type": "markdown", "metadata": {"mooc": {"key": "m", "locked": True}},
                                   "source": "Read me: LIMIT = 5"}, *starter["cells"]]}  # fmt: skip
    as_code = json.loads(json.dumps(text))
    as_code["cells"][0].update(cell_type="code", outputs=[], execution_count=None)
    report = _grade(as_code, [TestSpec(name="limit", points=1, code="assert f() == 10")], starter=text)
    assert report.tests[0].passed and "locked_cell_modified:m" in report.flags
    assert all(c.key != "m" or c.status != "error" for c in report.cells)  # the text is not run as code


def test_tests_after_a_reset_of_the_namespace_still_run():
    """`%reset -f` (or deleting every global) after a test removes the grader's helpers from the kernel."""
    notebook = _nb(
        "def f():\n    return 1",
        ("", {"role": "test"}),
        "for k in list(globals()):\n    if k.startswith('__mooc'):\n        del globals()[k]",
        "def g():\n    return 2",
    )
    tests = [
        TestSpec(name="f", points=1, code="assert f() == 1", after="c1"),
        TestSpec(name="g", points=1, code="assert g() == 2"),
        TestSpec(name="mirror", points=1, code="h = g\ndel g\nassert h() == 2"),
    ]
    report = _grade(notebook, tests)
    assert [t.passed for t in report.tests] == [True, True, True], [t.message for t in report.tests]


def test_empty_broadcasts_fail_with_the_idioms_nbgrader_material_uses():
    """Hole 2: np.all(f(x) == y), (f(x) == y).all() and np.all(np.abs(f(x) - y) < tol) passed for a
    function returning np.zeros((0, 1)); the guard covered allclose/isclose only."""
    idioms = [
        "assert np.all(f(x) == y)",
        "assert (f(x) == y).all()",
        "assert np.all(np.abs(f(x) - y) < 1e-6)",
        "assert np.all(np.array(f(x)) == [0.5, 0.7])",
        "assert (np.asarray(f(x)) == np.array(y)).all()",
    ]
    tests = [
        TestSpec(name=f"idiom{i}", points=1, code=f"import numpy as np\nx = 1.0\ny = np.array([0.5, 0.7])\n{code}")
        for i, code in enumerate(idioms)
    ]
    empty = _grade(_nb("import numpy as np\ndef f(x):\n    return np.zeros((0, 1))"), tests)
    assert empty.score == 0, [t.message for t in empty.tests]
    assert "compares nothing" in empty.tests[0].message and "(0, 1)" in empty.tests[0].message
    honest = _grade(_nb("import numpy as np\ndef f(x):\n    return np.array([0.5, 0.7])"), tests)
    assert honest.score == len(idioms), [t.message for t in honest.tests]
    # An empty answer that is expected to be empty still passes, and so does a property of every element.
    both_empty = TestSpec(name="e", points=1, code="import numpy as np\nassert np.all(f(1) == np.zeros((0, 1)))")
    positive = TestSpec(name="p", points=1, code="assert (f(1) >= 0).all()")
    assert _grade(_nb("import numpy as np\ndef f(x):\n    return np.zeros((0, 1))"), [both_empty, positive]).score == 2


def test_a_huge_broadcast_or_allocation_fails_the_test_and_the_worker_survives(monkeypatch):
    """Hole 3: a (250000, 1) answer given to np.allclose against 599 values grew the worker by 1.3 GB."""
    monkeypatch.setattr(engine, "TEST_MEMORY_BYTES", 256 * 1024 * 1024)
    notebook = _nb("import numpy as np\ndef f():\n    return np.zeros((250000, 1))")
    tests = [
        TestSpec(
            name="allclose",
            points=1,
            code="import numpy as np\nassert np.allclose(f(), np.linspace(0, 1, 599))",
            visibility="hidden",
        ),
        # Not a ufunc: only the address-space limit stops this one (about 2 GB of list).
        TestSpec(name="alloc", points=1, code="big = [0.0] * (len(f()) * 1000)\nassert len(big) > 0"),
        TestSpec(name="after", points=1, code="assert f().shape == (250000, 1)"),
    ]
    report = _grade(notebook, tests)
    messages = {t.name: t.message for t in report.tests}
    assert "would broadcast to shape (250000, 599)" in messages["allclose"]
    assert "more than 256 MB of the grader's memory" in messages["alloc"]
    assert [t.passed for t in report.tests] == [False, False, True]


def test_a_test_that_spins_on_a_learner_value_is_stopped_by_the_cpu_bound(monkeypatch):
    monkeypatch.setattr(engine, "TEST_CPU_SECONDS", 0.3)
    notebook = _nb("def f():\n    return 10 ** 12")
    spin = TestSpec(
        name="spin",
        points=1,
        code="n = f()\ntry:\n    while n > 0:\n        n -= 1\nexcept Exception:\n    pass\nassert n == 0",
    )
    report = _grade(notebook, [spin, TestSpec(name="next", points=1, code="assert f() == 10 ** 12")])
    assert "took more than 0.3 s of the grader's time" in report.tests[0].message
    assert report.tests[1].passed


def test_an_unimplemented_function_is_named_with_its_cell():
    starter = _nb(
        "import numpy as np",
        "def sigmoid(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "def predict(x):\n    return sigmoid(x) > 0.5",
        ("assert sigmoid(0) == 0.5", {"role": "test"}),
    )
    tests = [
        TestSpec(name="sigmoid", points=1, code="assert sigmoid(0) == 0.5", after="c3"),
        TestSpec(name="predict", points=1, code="assert predict(1.0)"),
        TestSpec(name="hidden", points=1, code="assert sigmoid(1) > 0.5", visibility="hidden"),
    ]
    report = _grade(starter, tests)
    learner = [t.for_learner() for t in report.tests]
    assert learner[0]["message"] == "`sigmoid` is not implemented yet — cell 2 still raises NotImplementedError."
    assert learner[1]["message"] == "`predict` raised NotImplementedError: `sigmoid` (cell 2) not implemented yet."
    assert learner[2]["message"] == "This hidden test failed."
    feedback = report.cells[-1]  # the released assert ran in the kernel for feedback
    assert feedback.outputs[1:] == [
        {
            "type": "error",
            "text": "NotImplementedError: `sigmoid` is not implemented yet — cell 2 still raises NotImplementedError.",
        }
    ]


def test_a_public_failure_shows_expected_and_got_like_numpy_testing():
    notebook = _nb("import numpy as np\ndef sigmoid(z):\n    return np.full(np.shape(z), 0.5)")
    tests = [
        TestSpec(
            name="allclose",
            points=1,
            code="import numpy as np\n"
            "assert np.allclose(sigmoid(np.array([-1.0, 0.0, 2.0])), [0.26894142, 0.5, 0.88079708])",
        ),
        TestSpec(name="eq", points=1, code="assert sigmoid(1.0) == 0.7310585786300049, 'sigmoid(1)'"),
        TestSpec(
            name="shape",
            points=1,
            code="import numpy as np\nassert np.array_equal(sigmoid(np.ones((2, 3))), np.ones(3))",
        ),
        TestSpec(name="hidden", points=1, code="assert sigmoid(3.0) == 0.95", visibility="hidden"),
    ]
    report = _grade(notebook, tests)
    close, eq, shape, hidden = (t.for_learner()["message"] for t in report.tests)
    assert close.splitlines() == [
        "Expected: array of shape (3,), dtype float64: [0.26894142, 0.5, 0.88079708]",
        "Got:      array of shape (3,), dtype float64: [0.5, 0.5, 0.5]",
        "Mismatched elements: 2 / 3 (66.7%)",
        "  at (0,): got 0.5, expected 0.26894142",
        "  at (2,): got 0.5, expected 0.88079708",
        "Max absolute difference: 0.380797",
        "Tolerance: rtol=1e-05, atol=1e-08",
    ]
    assert eq.splitlines() == ["sigmoid(1)", "Expected: 0.7310585786300049", "Got:      0.5"]
    assert "Shapes differ: expected (3,), got (2, 3)." in shape
    assert hidden == "This hidden test failed." and "0.95" in report.tests[3].message


def test_the_self_check_warns_about_asserts_an_empty_array_passes():
    assert engine.empty_pass_warnings("import numpy as np\nassert np.all(f(x) == y)") == ["np.all(f(x) == y)"]
    assert engine.empty_pass_warnings("assert all(a == b for a, b in zip(f(x), y))") == [
        "all((a == b for a, b in zip(f(x), y)))"
    ]
    assert engine.empty_pass_warnings("r = f(x)\nassert r.shape == (2,)\nassert (r == y).all()") == []
    assert engine.empty_pass_warnings("assert f(1) == 2") == []
