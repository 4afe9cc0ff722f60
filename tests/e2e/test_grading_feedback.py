"""The feedback of a failing notebook, graded for real in the sandbox: the learner's own outputs, the
unimplemented function named with its cell, expected-vs-got for a public test, hints opened one at a
time, and the submit form counting down to the next allowed submission."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grading import services as grading_services
from grading.models import HintReveal, Submission
from grading.spec import TestSpec
from tests.e2e.page_checks import axe_findings, horizontal_overflow
from tests.factories import SubscriptionFactory
from tests.grading.conftest import as_bytes, make_assignment, notebook

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[2]

STARTER = notebook(
    "#md # Logistic regression\nImplement `sigmoid`, then `predict`.",
    "import numpy as np",
    "def sigmoid(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "def predict(w, X):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "print('sigmoid of -1, 0, 2:', sigmoid(np.array([-1.0, 0.0, 2.0])))",
    locked=(4,),
)
SOLUTION = notebook(
    "#md # Logistic regression\nImplement `sigmoid`, then `predict`.",
    "import numpy as np",
    "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))",
    "def predict(w, X):\n    return sigmoid(X @ w) > 0.5",
    "print('sigmoid of -1, 0, 2:', sigmoid(np.array([-1.0, 0.0, 2.0])))",
    locked=(4,),
)
# Half done: sigmoid has the sign wrong in the exponent, predict is still the starter's stub.
ATTEMPT = notebook(
    "#md # Logistic regression\nImplement `sigmoid`, then `predict`.",
    "import numpy as np",
    "def sigmoid(z):\n    return 1 / (1 + np.exp(z))",
    "def predict(w, X):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "print('sigmoid of -1, 0, 2:', sigmoid(np.array([-1.0, 0.0, 2.0])))",
    locked=(4,),
)
TESTS = [
    TestSpec(
        name="sigmoid_values",
        points=2,
        code="import numpy as np\n"
        "assert np.allclose(sigmoid(np.array([-1.0, 0.0, 2.0])), [0.26894142, 0.5, 0.88079708])",
        hint="Evaluate sigmoid(2) by hand: is it above or below 0.5?",
        hints=["sigmoid(z) = 1 / (1 + e^(-z)): mind the sign.", "Use np.exp(-z)."],
    ),
    TestSpec(
        name="predict_labels",
        points=1,
        code="import numpy as np\n"
        "assert np.array_equal(predict(np.array([1.0]), np.array([[2.0], [-3.0]])), [True, False])",
    ),
    TestSpec(
        name="sigmoid_large_inputs",
        points=2,
        visibility="hidden",
        code="import numpy as np\nassert np.allclose(sigmoid(np.array([30.0, -30.0])), [1.0, 9.357623e-14])",
        failure_message="sigmoid should approach 1 for large inputs and 0 for very negative ones.",
    ),
]


def _log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("input[name=password]").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()


@pytest.fixture
def graded(docker_engine, transactional_db, monkeypatch):
    """A learner's half-done attempt, graded in the real sandbox (in this process, no queue)."""
    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)
    assignment = make_assignment(starter=STARTER, solution=SOLUTION, tests=TESTS, cooldown_minutes=10)
    learner = SubscriptionFactory(user__email="halfway@example.com").user
    submission = grading_services.submission_create(assignment=assignment, learner=learner, data=as_bytes(ATTEMPT))
    grading_services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == "graded", submission.latest_run.log
    return submission


def test_failing_notebook_feedback_hints_and_countdown(page, live_server, graded):
    submission = graded
    _log_in(page, live_server, submission.learner)
    page.goto(live_server.url + submission.get_absolute_url())
    tests = page.locator(".test-list")
    # The learner's own output, in full (it ran before any hidden test).
    expect(page.locator(".cell-out pre").first).to_contain_text("sigmoid of -1, 0, 2: [0.73105858 0.5")
    # The unimplemented function, by name and cell.
    expect(tests).to_contain_text("`predict` is not implemented yet — cell 4 still raises NotImplementedError.")
    # Expected and got for the public test, like numpy's testing helpers.
    values = page.locator(".test").filter(has_text="sigmoid_values")
    expect(values).to_contain_text("Expected: array of shape (3,), dtype float64: [0.26894142, 0.5")
    expect(values).to_contain_text("Got:      array of shape (3,), dtype float64: [0.73105858, 0.5")
    expect(values).to_contain_text("Mismatched elements: 2 / 3")
    expect(values).to_contain_text("Tolerance: rtol=1e-05, atol=1e-08")
    # The hidden test: its author's message only.
    hidden = page.locator(".test").filter(has_text="sigmoid_large_inputs")
    expect(hidden).to_contain_text("sigmoid should approach 1 for large inputs")
    assert "9.357623e-14" not in page.content() and "30.0" not in page.content()
    # Grader version and image sit in a collapsed details area.
    expect(page.locator(".tech-details")).not_to_have_attribute("open", "")
    expect(page.get_by_text("sandbox image")).to_be_hidden()
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        assert horizontal_overflow(page) == [], name
        page.screenshot(path=str(ROOT / "test-artifacts" / f"grading-failing-feedback-{name}.png"), full_page=True)
    assert axe_findings(page) == []

    # Hints: none shown until asked, then one at a time.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(values.locator(".hint-list")).to_have_count(0)
    values.get_by_role("button", name="Show a hint (1 of 3)").click()
    expect(values.locator(".hint-list li")).to_have_text(
        ["Hint 1: Evaluate sigmoid(2) by hand: is it above or below 0.5?"]
    )
    values.get_by_role("button", name="Show the next hint (2 of 3)").click()
    expect(values.locator(".hint-list li")).to_have_count(2)
    expect(values).to_contain_text("mind the sign")
    assert HintReveal.objects.get(learner=submission.learner, test_name="sigmoid_values").count == 2
    page.reload()  # what was opened stays open
    expect(values.locator(".hint-list li")).to_have_count(2)
    expect(values.get_by_role("button", name="Show the next hint (3 of 3)")).to_be_visible()
    assert axe_findings(page) == []

    # The submit form stays, disabled, counting down to the next allowed submission.
    page.goto(live_server.url + submission.assignment.item.get_absolute_url())
    upload = page.get_by_role("button", name="Upload and grade")  # inside the disabled fieldset
    expect(upload).to_be_disabled()
    left = page.locator("[data-countdown-left]")
    expect(left).to_have_text(re.compile(r"^(10:00|9:\d\d)$"))
    first = left.text_content()
    expect(left).not_to_have_text(first, timeout=5_000)  # it is live
    page.screenshot(path=str(ROOT / "test-artifacts" / "grading-countdown.png"), full_page=True)
    assert axe_findings(page) == []
    # Near the end of the cooldown the form turns itself back on.
    ready_soon = timezone.now() - datetime.timedelta(minutes=10) + datetime.timedelta(seconds=3)
    Submission.objects.filter(pk=submission.pk).update(submitted_at=ready_soon)
    page.reload()
    expect(upload).to_be_disabled()
    expect(upload).to_be_enabled(timeout=15_000)
    expect(page.locator("input[type=file]")).to_be_enabled()
    expect(page.locator("[data-countdown-done]")).to_have_text("You can submit again now.")
