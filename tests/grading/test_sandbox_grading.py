"""The whole grading path on the real Docker engine: self-check, grading, adversarial notebooks, regrades."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from grading import services
from grading.models import GraderVersion, Submission
from grading.spec import TestSpec
from tests.factories import SubscriptionFactory, UserFactory
from tests.grading.conftest import SIGMOID_SOLUTION, SIGMOID_STARTER, SIGMOID_TESTS, as_bytes, make_assignment, notebook

pytestmark = [pytest.mark.django_db, pytest.mark.docker]
COMPAT = Path(__file__).resolve().parents[3] / "shared" / "compat"


@pytest.fixture(autouse=True)
def _engine(docker_engine, settings):
    settings.SANDBOX_WARM_POOL_SIZE = 0  # each test starts its own containers; the pool is benchmarked in bench/


def _submit(assignment, nb, learner=None):
    learner = learner or SubscriptionFactory().user
    submission = services.submission_create(assignment=assignment, learner=learner, data=as_bytes(nb))
    services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    return submission


def _solution_with(*extra_cells):
    cells = [c["source"] for c in SIGMOID_SOLUTION["cells"]]
    cells = [
        ("#md " + s) if SIGMOID_SOLUTION["cells"][i]["cell_type"] == "markdown" else s for i, s in enumerate(cells)
    ]
    return notebook(*cells[:3], *extra_cells)


def test_publish_runs_the_self_check_and_computes_expected_values():
    tests = [
        *SIGMOID_TESTS,
        TestSpec(name="expr", points=1, kind="expr", code="import numpy as np\nsigmoid(np.array([0.0, 1.0]))"),
    ]
    assignment = make_assignment(published=False, tests=tests)
    version = assignment.versions.get()
    services.grader_version_publish(version=version)
    version.refresh_from_db()
    assert version.status == GraderVersion.Status.PUBLISHED
    assert version.self_check["ok"] and version.self_check["starter"]["score"] == 0
    assert version.tests[2]["has_expected"] and "__ndarray__" in version.tests[2]["expected"]
    assignment.refresh_from_db()
    assert assignment.current_version == version
    version.tests = []
    with pytest.raises(Exception, match="published and cannot change"):
        version.save()


def test_a_buggy_grader_is_not_published_and_says_why():
    wrong = TestSpec(name="wrong_expectation", points=1, code="assert sigmoid(0.0) == 0.7, 'sigmoid(0) should be 0.7'")
    assignment = make_assignment(published=False, tests=[*SIGMOID_TESTS, wrong])
    version = assignment.versions.get()
    with pytest.raises(services.PublishError, match="reference solution fails “wrong_expectation”"):
        services.grader_version_publish(version=version)
    version.refresh_from_db()
    assert version.status == GraderVersion.Status.FAILED
    assignment.refresh_from_db()
    assert assignment.current_version is None


def test_a_grader_the_starter_already_passes_is_not_published():
    trivial = [TestSpec(name="imports", points=1, code="import numpy as np\nassert np.pi > 3")]
    assignment = make_assignment(published=False, tests=trivial)
    with pytest.raises(services.PublishError, match="starter notebook already passes"):
        services.grader_version_publish(version=assignment.versions.get())


def test_correct_notebook_gets_full_marks_and_hidden_tests_stay_hidden():
    assignment = make_assignment()
    submission = _submit(assignment, SIGMOID_SOLUTION)
    assert submission.status == "graded" and submission.score == submission.max_score == 3
    run = submission.latest_run
    assert run.image_tag.startswith("mooc-sandbox:") and run.execution_seconds > 0
    wrong = _submit(assignment, _solution_with("def sigmoid(z):\n    return z"))
    hidden = next(t for t in wrong.latest_run.tests if t["name"] == "sigmoid_array")
    # The author's message only (none here); the hint is revealed on demand.
    assert (hidden["message"], hidden["hints"]) == ("This hidden test failed.", 1)
    assert "0.8807" not in json.dumps({k: v for k, v in hidden.items() if k != "staff_message"})
    assert wrong.score == 0


CHEATS = {
    "patched numpy and an always-equal object": (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "class Always:\n    def __eq__(self, other):\n        return True\n    __array_priority__ = 1000\n"
        "def sigmoid(z):\n    return Always()"
    ),
    "input transformer that blanks every later cell": (
        "def sigmoid(z):\n    return z\nget_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"
    ),
    "fake results printed and written to disk": (
        "def sigmoid(z):\n    return z\n"
        'print(\'{"score": 3, "max_score": 3, "tests": []}\')\n'
        "open('/tmp/results.json', 'w').write('{\"score\": 3, \"max_score\": 3}')"
    ),
    "exit before the tests": "def sigmoid(z):\n    return z\nimport os\nos._exit(0)",
    "an empty array that numpy broadcasts against anything": "def sigmoid(z):\n    return np.zeros((0, 1, 1))",
    "an empty array with a huge other dimension": "def sigmoid(z):\n    return np.empty((10**9, 0))",
    "grader helpers replaced": (
        "def sigmoid(z):\n    return z\n"
        "def __mooc_describe(names):\n    return {n: 'value' for n in names}\n"
        "sigmoid_zero = True"
    ),
}


@pytest.mark.parametrize("name", CHEATS)
def test_tampering_never_raises_the_score(name):
    assignment = make_assignment()
    submission = _submit(assignment, _solution_with(CHEATS[name]))
    assert submission.status == "graded"
    assert submission.score == 0, [(t["name"], t["message"]) for t in submission.latest_run.tests]


def test_a_kernel_that_exits_during_a_test_is_graded_with_a_clear_message():
    assignment = make_assignment()
    submission = _submit(assignment, _solution_with("import os\ndef sigmoid(z):\n    os._exit(0)"))
    assert submission.status == "graded" and submission.score == 0
    assert [t["status"] for t in submission.latest_run.tests] == ["not_run", "not_run"]
    message = submission.latest_run.tests[0]["message"]
    assert "the kernel stopped while a test was running: your code ended the kernel" in message


def test_a_kernel_broken_by_a_patched_json_module_is_reported_clearly():
    assignment = make_assignment()
    patched = "import json\njson.dumps = lambda *a, **k: '{}'\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
    submission = _submit(assignment, _solution_with(patched))
    assert submission.status == "graded" and submission.score == 0
    assert "replace json" in submission.latest_run.tests[0]["message"]


def test_hidden_inputs_do_not_come_back_through_later_feedback():
    """A learner function that keeps its arguments and raises or returns them later: a public test or a
    cell after a hidden test must not carry the hidden test's inputs to the learner."""
    tests = [
        TestSpec(name="hidden_first", points=2, visibility="hidden", after="cell-2", hint="Try negative inputs.",
                 code="import numpy as np\nassert np.isclose(sigmoid(-7.654321), 1 / (1 + np.exp(7.654321)))"),
        TestSpec(name="public_raise", points=1, code="assert abs(sigmoid(0.0) - 0.5) < 1e-9"),
        TestSpec(name="public_value", points=1, code="got = sigmoid(1.0)\nassert got == 0.7310585786300049, got"),
    ]  # fmt: skip
    assignment = make_assignment(tests=tests)
    keeper = (
        "seen = []\ndef sigmoid(z):\n    seen.append(repr(z))\n    if z == 0.0:\n        raise ValueError(seen)\n"
        "    return 'seen ' + ','.join(seen) if z == 1.0 else 1 / (1 + np.exp(-z))"
    )
    nb = notebook("#md # Sigmoid", "import numpy as np", keeper, "raise ValueError(seen)", "print(seen)")
    submission = _submit(assignment, nb)
    assert submission.status == "graded" and submission.score == 2
    run = submission.latest_run
    learner_view = json.dumps([{k: v for k, v in t.items() if k != "staff_message"} for t in run.tests])
    assert "7.654321" not in learner_view + json.dumps(run.cells)
    # The hidden test ran last: the public tests and the cells show their full details, none of it hidden.
    assert run.tests[1]["message"] == "ValueError: ['0.0']"
    assert "ValueError: []" in json.dumps(run.cells)  # the cells ran before any test called sigmoid
    assert run.tests[0]["passed"]


def test_a_reset_namespace_after_a_test_does_not_fail_later_tests():
    """`%reset -f` also removes the grader's helpers from the kernel; they are put back."""
    first = TestSpec(name="first", points=1, after="cell-2", code="assert abs(sigmoid(0.0) - 0.5) < 1e-9")
    later = TestSpec(name="later", points=1, code="assert abs(sigmoid(2.0) - 0.8807970779778823) < 1e-9")
    assignment = make_assignment(tests=[first, later])
    reset = "%reset -f\nimport numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
    submission = _submit(assignment, _solution_with(reset))
    assert submission.score == 2, [t["message"] for t in submission.latest_run.tests]


def test_infinite_loop_and_memory_bomb_end_as_results_not_hangs():
    assignment = make_assignment(cell_timeout_seconds=2, time_limit_seconds=20, memory_mb=256)
    looping = _submit(assignment, _solution_with("while True:\n    pass"))
    # The loop is interrupted after the cell timeout; the kernel recovers, so the tests still run.
    assert looping.status == "graded" and looping.score == 3
    assert "timeout" in looping.latest_run.flags
    assert [c["status"] for c in looping.latest_run.cells][-1] == "timeout"
    hog = _submit(assignment, _solution_with("blocks = []\nwhile True:\n    blocks.append(bytearray(50_000_000))"))
    assert hog.status == "graded"
    assert {"memory", "died"} & set(hog.latest_run.flags) or any(c["status"] == "died" for c in hog.latest_run.cells)


def test_nbgrader_problem_set_release_and_real_submissions(tmp_path):
    source = COMPAT / "nbgrader/nbgrader/docs/source/user_guide/source/ps1/problem1.ipynb"
    course = make_assignment().item.course
    call_command("import_assignment", str(source), format="nbgrader", course=course.slug, slug="ps1", publish=True)
    from grading.models import Assignment

    ps1 = Assignment.objects.get(item__slug="ps1")
    released = COMPAT / "nbgrader/nbgrader/docs/source/user_guide/release/ps1/problem1.ipynb"
    starter = _submit(ps1, json.loads(released.read_text()))
    assert starter.score == 0
    for who in ("bitdiddle", "hacker"):
        nb = json.loads(
            (COMPAT / f"nbgrader/nbgrader/docs/source/user_guide/submitted/{who}/ps1/problem1.ipynb").read_text()
        )
        graded = _submit(ps1, nb)
        assert graded.status == "graded" and 0 <= graded.score <= graded.max_score
    honest = _submit(ps1, json.loads(source.read_text()))
    assert honest.score == honest.max_score


def _nbgrader_source_of_the_cheat_fixtures(tmp_path) -> Path:
    """nbgrader's own cheat-attempt fixtures are submissions of a small assignment whose source is not
    shipped; rebuild that source from the unchanged submission's metadata (answers behind markers)."""
    files = COMPAT / "nbgrader/nbgrader/tests/apps/files"
    nb = json.loads((files / "submitted-unchanged.ipynb").read_text())
    answers = {"set_a": "a = 1", "baz": "An answer!", "quux": "b = 2"}
    for cell in nb["cells"]:
        meta = cell["metadata"]["nbgrader"]
        meta.pop("checksum", None)
        meta.pop("cell_type", None)
        if meta["grade_id"] in answers:
            cell["source"] = "### BEGIN SOLUTION\n" + answers[meta["grade_id"]] + "\n### END SOLUTION"
    path = tmp_path / "cheat-source.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_nbgraders_own_cheat_attempts_score_like_the_unchanged_notebook(tmp_path):
    """The attempts hide tracebacks in the kernel so that nbgrader sees a failing assert as a pass.
    Here the assert runs outside the kernel: they score exactly what doing nothing scores."""
    course = make_assignment().item.course
    call_command(
        "import_assignment", str(_nbgrader_source_of_the_cheat_fixtures(tmp_path)),
        format="nbgrader", course=course.slug, slug="cheat", publish=True,
    )  # fmt: skip
    from grading.models import Assignment

    assignment = Assignment.objects.get(item__slug="cheat")
    files = COMPAT / "nbgrader/nbgrader/tests/apps/files"
    unchanged = _submit(assignment, json.loads((files / "submitted-unchanged.ipynb").read_text()))
    assert unchanged.score < unchanged.max_score
    for name in ("submitted-cheat-attempt.ipynb", "submitted-cheat-attempt-alternative.ipynb"):
        cheat = _submit(assignment, json.loads((files / name).read_text()))
        assert cheat.status == "graded", name
        bar = next(t for t in cheat.latest_run.tests if t["name"] == "bar")
        assert not bar["passed"] and cheat.score == unchanged.score, name


def test_grade_command_prints_gradescope_style_json(tmp_path):
    make_assignment()
    path = tmp_path / "nb.ipynb"
    path.write_bytes(as_bytes(_solution_with("def sigmoid(z):\n    return 0.5")))
    from io import StringIO

    out = StringIO()
    call_command("grade", "sigmoid", str(path), json=True, stdout=out)
    result = json.loads(out.getvalue())
    assert set(result) >= {"score", "max_score", "status", "tests", "flags", "execution_time"}
    assert result["status"] == "graded" and result["score"] == 1 and result["max_score"] == 3
    for test in result["tests"]:
        assert {"name", "passed", "points", "max_points", "score", "message", "visibility"} <= set(test)
    assert [t["visibility"] for t in result["tests"]] == ["visible", "hidden"]


@pytest.mark.django_db(transaction=True)
def test_grade_command_exits_non_zero_when_the_engine_is_unreachable(tmp_path):
    import os

    from django.db import connection

    make_assignment()  # committed, so the child process sees it
    path = tmp_path / "nb.ipynb"
    path.write_bytes(as_bytes(SIGMOID_SOLUTION))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "grade", "sigmoid", str(path), "--json"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Grading failed" in result.stderr and result.stdout == ""


def test_regrade_on_a_new_version_with_progress_and_comparison():
    assignment = make_assignment()
    staff = UserFactory(is_staff=True)
    learner = SubscriptionFactory().user
    first = _submit(assignment, SIGMOID_SOLUTION, learner=learner)
    second = _submit(assignment, _solution_with("def sigmoid(z):\n    return 0.5"), learner=learner)
    stricter = [
        *SIGMOID_TESTS,
        TestSpec(name="large", points=1, code="import numpy as np\nassert sigmoid(50.0) > 0.99"),
    ]
    from grading.spec import AssignmentBundle

    bundle = AssignmentBundle(title="s", starter=SIGMOID_STARTER, solution=SIGMOID_SOLUTION, tests=stricter)
    v2 = services.grader_version_create(assignment=assignment, bundle=bundle)
    services.grader_version_publish(version=v2)
    job = services.regrade_create(assignment=assignment, version=v2, by=staff)
    job = services.regrade_run(job_id=job.pk)
    assert (job.status, job.total, job.done, job.failed) == ("done", 2, 2, 0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.score, first.max_score) == (4, 4) and second.score == 1
    from grading.selectors import regrade_comparison

    rows = {row["submission"].pk: (row["old"], row["new"]) for row in regrade_comparison(job=job)}
    assert rows == {first.pk: (3, 4), second.pk: (1, 1)}
    assert Submission.objects.get(pk=first.pk).runs.count() == 2  # history kept


def test_every_demo_assignment_passes_its_self_check():
    from courses.packs import load_pack, pack_apply
    from grading.models import Assignment
    from tests.conftest import DEMO_PACK

    pack_apply(pack=load_pack(DEMO_PACK))
    assignments = list(Assignment.objects.select_related("item__course"))
    assert len(assignments) == 5
    for assignment in assignments:
        version = services.grader_version_publish(version=assignment.versions.get())
        assert version.status == GraderVersion.Status.PUBLISHED, version.self_check
        assert version.self_check["starter"]["score"] < version.self_check["solution"]["max_score"]
