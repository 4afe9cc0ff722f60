"""One check per submission rule, one wording: the page that explains it and the service that enforces it."""

import datetime

import pytest

from grading import rules, selectors, services
from tests.factories import SubscriptionFactory
from tests.grading.conftest import SIGMOID_STARTER, as_bytes, make_assignment

NOW = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)


def test_attempts():
    assert rules.check_attempts(max_attempts=None, used=99)
    assert rules.check_attempts(max_attempts=3, used=2)
    refused = rules.check_attempts(max_attempts=3, used=3)
    assert not refused and refused.message == "You have used all 3 attempts for this assignment."
    assert rules.attempts_left(max_attempts=3, used=5) == 0 and rules.attempts_left(max_attempts=None, used=1) is None


def test_cooldown_says_how_long_and_ends_on_time():
    last = NOW
    assert rules.check_cooldown(cooldown_minutes=0, last_submitted_at=last, now=NOW)
    waiting = rules.check_cooldown(cooldown_minutes=10, last_submitted_at=last, now=NOW + datetime.timedelta(seconds=5))
    assert not waiting
    assert waiting.ready_at == NOW + datetime.timedelta(minutes=10)
    assert waiting.message == "You can submit again in 9:55 (a 10-minute pause after each one)."
    assert rules.check_cooldown(cooldown_minutes=10, last_submitted_at=last, now=NOW + datetime.timedelta(minutes=10))


@pytest.mark.parametrize(("percent", "passed"), [(None, False), (79.9, False), (80, True), (100, True)])
def test_pass_mark(percent, passed):
    assert rules.passes(percent=percent, pass_percent=80) is passed


@pytest.mark.django_db
def test_the_page_and_the_service_give_the_same_sentence(monkeypatch):
    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)
    learner = SubscriptionFactory().user
    assignment = make_assignment(max_attempts=1, cooldown_minutes=10)
    services.submission_create(assignment=assignment, learner=learner, data=as_bytes(SIGMOID_STARTER), now=NOW)
    page = selectors.assignment_page(user=learner, assignment=assignment, now=NOW + datetime.timedelta(minutes=20))
    with pytest.raises(services.SubmissionRejected) as refused:
        services.submission_create(
            assignment=assignment,
            learner=learner,
            data=as_bytes(SIGMOID_STARTER),
            now=NOW + datetime.timedelta(minutes=20),
        )
    assert page.submit_blocked_reason == str(refused.value) == "You have used your one attempt for this assignment."


@pytest.mark.django_db
def test_the_editor_notebook_is_assembled_in_the_service_not_the_view():
    assignment = make_assignment()
    base = assignment.current_version.starter
    code_cells = [i for i, c in enumerate(base["cells"]) if c["cell_type"] == "code"]
    other = (
        next(i for i, c in enumerate(base["cells"]) if c["cell_type"] != "code")
        if len(code_cells) < len(base["cells"])
        else None
    )
    typed = {code_cells[-1]: "def sigmoid(z):\r\n    return 1"}
    if other is not None:
        typed[other] = "not code: ignored"
    notebook = services.notebook_from_editor(assignment=assignment, base=base, code=typed)
    assert notebook["cells"][code_cells[-1]]["source"] == "def sigmoid(z):\n    return 1"
    if other is not None:
        assert notebook["cells"][other] == base["cells"][other]
    assert notebook["metadata"]["mooc"] == {"assignment": assignment.slug, "grader_version": 1}
    assert base["cells"][code_cells[-1]]["source"] != notebook["cells"][code_cells[-1]]["source"]  # base untouched
