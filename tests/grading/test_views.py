"""Assignment pages: the editor assembles a notebook from the starter and the learner's code."""

import json

import pytest
from django.urls import reverse

from grading.models import Submission
from grading.notebooks import notebook_load
from tests.factories import SubscriptionFactory, UserFactory
from tests.grading.conftest import make_assignment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)


def test_editor_submits_the_edited_code_cells(client):
    assignment = make_assignment()
    learner = SubscriptionFactory().user
    client.force_login(learner)
    url = reverse("grading:editor", args=[assignment.item.pk])
    page = client.get(url).content.decode()
    assert 'name="cell-2"' in page and "raise NotImplementedError()" in page
    response = client.post(url, {"cell-2": "def sigmoid(z):\r\n    return 1 / (1 + np.exp(-z))"})
    submission = Submission.objects.get(learner=learner)
    assert response.url == submission.get_absolute_url()
    cells = notebook_load(submission.notebook_path)["cells"]
    assert cells[2]["source"] == "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
    assert cells[1]["source"] == "import numpy as np"  # untouched cells keep the starter's code


def test_download_carries_the_assignment_in_its_metadata(client):
    assignment = make_assignment()
    client.force_login(SubscriptionFactory().user)
    response = client.get(reverse("grading:download", args=[assignment.item.pk]))
    notebook = json.loads(response.content)
    assert notebook["metadata"]["mooc"] == {"assignment": "sigmoid", "grader_version": 1}
    assert response["Content-Disposition"] == 'attachment; filename="sigmoid.ipynb"'


def test_upload_refusal_is_json_for_the_upload_script_and_a_message_otherwise(client):
    assignment = make_assignment()
    client.force_login(SubscriptionFactory().user)
    url = reverse("grading:submit", args=[assignment.item.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.ipynb", b"not json", content_type="application/json")
    as_json = client.post(url, {"notebook": bad}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400 and "not valid JSON" in as_json.json()["error"]
    plain = client.post(url, {}, follow=True)
    assert "Choose a notebook file" in plain.content.decode()
    assert not Submission.objects.exists()


def test_submissions_are_private_to_their_learner_and_staff(client):
    assignment = make_assignment()
    owner = SubscriptionFactory().user
    from grading import services
    from tests.grading.conftest import SIGMOID_STARTER, as_bytes

    submission = services.submission_create(assignment=assignment, learner=owner, data=as_bytes(SIGMOID_STARTER))
    url = submission.get_absolute_url()
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(reverse("grading:submission_notebook", args=[submission.pk])).status_code == 404
    assert client.post(reverse("grading:submission_regrade", args=[submission.pk])).status_code == 403  # staff only
    client.force_login(owner)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url).status_code == 200


def test_editor_shows_whole_cells_locked_ones_read_only_headings_under_the_page(client):
    from tests.grading.conftest import notebook

    starter = notebook("#md # Sigmoid\n## Your code", "import numpy as np", "a = 1\nb = 2\nc = 3\nd = 4", locked=(1,))
    assignment = make_assignment(starter=starter)
    learner = SubscriptionFactory().user
    client.force_login(learner)
    page = client.get(reverse("grading:editor", args=[assignment.item.pk])).content.decode()
    assert "<h2" in page and "Sigmoid</h2>" in page and "Your code</h3>" in page  # h1, then h2, h3
    assert 'name="cell-1"' not in page and "read-only" in page  # the locked cell is shown, not offered
    assert 'name="cell-2" class="code-input" rows="5"' in page  # four lines and one to type on
    assert f'data-draft-key="mooc:editor-draft:{learner.pk}:{assignment.pk}"' in page
    assert 'data-draft-base="starter-1"' in page and "data-unsaved" not in page


def test_a_refused_editor_submission_keeps_the_code_marked_unsaved(client, monkeypatch):
    from grading import services

    def refuse(**kwargs):
        raise services.SubmissionRejected("The grader is closed for this assignment.")

    monkeypatch.setattr(services, "submission_create", refuse)
    assignment = make_assignment()
    client.force_login(SubscriptionFactory().user)
    url = reverse("grading:editor", args=[assignment.item.pk])
    page = client.post(url, {"cell-2": "def sigmoid(z):\r\n    return 7"}).content.decode()
    assert "The grader is closed for this assignment." in page
    assert "return 7" in page and " data-unsaved>" in page  # the script keeps it as a draft and warns
    assert not Submission.objects.exists()


def test_the_submission_page_clears_the_editor_draft_once(client):
    assignment = make_assignment()
    learner = SubscriptionFactory().user
    client.force_login(learner)
    response = client.post(reverse("grading:editor", args=[assignment.item.pk]), {"cell-2": "x = 1"})
    key = f"mooc:editor-draft:{learner.pk}:{assignment.pk}"
    assert f'data-draft-saved="{key}"' in client.get(response.url).content.decode()
    assert "data-draft-saved" not in client.get(response.url).content.decode()  # a later visit keeps newer drafts


def _graded_failure(assignment, learner):
    """A submission whose hidden test failed, saved as the pipeline would save it."""
    from grading import services
    from grading.pipeline import GradeReport, TestReport
    from tests.grading.conftest import SIGMOID_STARTER, as_bytes

    submission = services.submission_create(assignment=assignment, learner=learner, data=as_bytes(SIGMOID_STARTER))
    run = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    failed = TestReport(
        name="sigmoid_array", kind="assert", visibility="hidden", points=0, max_points=2, passed=False,
        status="failed", message="secret 0.8807", hints=["Make sure sigmoid works on whole arrays."],
    )  # fmt: skip
    report = GradeReport(status="graded", score=0, max_score=2, tests=[failed], cells=[], flags=[], execution_time=0.3)
    services._run_finish(run, report, "sandbox:test")
    submission.refresh_from_db()
    return submission


def test_hints_open_one_at_a_time_for_the_learner_only_and_count_in_the_gradebook(client):
    from grading.models import HintReveal
    from grading.selectors import gradebook
    from grading.spec import TestSpec
    from tests.grading.conftest import SIGMOID_TESTS

    ladder = TestSpec(**{**SIGMOID_TESTS[1].to_dict(), "hints": ["Use np.exp(-z)."]})
    assignment = make_assignment(tests=[SIGMOID_TESTS[0], ladder])
    learner = SubscriptionFactory().user
    submission = _graded_failure(assignment, learner)
    url = reverse("grading:submission_hint", args=[submission.pk])
    client.force_login(learner)
    page = client.get(submission.get_absolute_url()).content.decode()
    assert "Show a hint" in page and "Make sure sigmoid" not in page and "secret" not in page
    first = client.post(url, {"test": "sigmoid_array"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Hint 1:</span> Make sure sigmoid works on whole arrays." in first and "Show the next hint" in first
    second = client.post(url, {"test": "sigmoid_array"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Use np.exp(-z)." in second and "Show the next hint" not in second
    client.post(url, {"test": "sigmoid_array"}, HTTP_HX_REQUEST="true")  # no third hint: the count stays
    assert HintReveal.objects.get(learner=learner).count == 2
    assert client.post(url, {"test": "sigmoid_zero"}, HTTP_HX_REQUEST="true").status_code == 400  # not failed
    assert [row["hints"] for row in gradebook(assignment=assignment)] == [2]
    client.force_login(UserFactory(is_staff=True))
    assert client.post(url, {"test": "sigmoid_array"}, HTTP_HX_REQUEST="true").status_code == 400  # not theirs
    assert HintReveal.objects.get(learner=learner).count == 2


def test_the_gradebook_counts_hints_opened():
    from grading.models import HintReveal, Submission
    from grading.selectors import gradebook

    assignment = make_assignment()
    learner = SubscriptionFactory(user__email="a@example.com").user
    submission = _graded_failure(assignment, learner)
    Submission.objects.filter(pk=submission.pk).update(score=1)
    HintReveal.objects.create(assignment=assignment, learner=learner, test_name="sigmoid_array", count=2)
    HintReveal.objects.create(assignment=assignment, learner=learner, test_name="other", count=1)
    assert [(r["learner__email"], r["hints"]) for r in gradebook(assignment=assignment)] == [("a@example.com", 3)]


def test_during_a_cooldown_the_form_stays_disabled_with_a_countdown(client):
    import datetime

    from django.utils import timezone

    from grading import selectors

    assignment = make_assignment(cooldown_minutes=5)
    learner = SubscriptionFactory().user
    submission = _graded_failure(assignment, learner)
    now = submission.submitted_at + datetime.timedelta(seconds=55)
    state = selectors.assignment_page(user=learner, assignment=assignment, now=now)
    assert (state.can_submit, state.wait_text) == (False, "4:05")
    assert state.ready_at == submission.submitted_at + datetime.timedelta(minutes=5)
    client.force_login(learner)
    page = client.get(assignment.item.get_absolute_url()).content.decode()
    assert 'class="upload-fields" disabled' in page and "data-countdown-left" in page and "countdown.js" in page
    later = selectors.assignment_page(
        user=learner, assignment=assignment, now=timezone.now() + datetime.timedelta(minutes=6)
    )
    assert later.can_submit and later.ready_at is None


def test_the_upload_limit_is_one_setting_stated_the_same_everywhere(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grading.models import Assignment

    settings.GRADING_UPLOAD_MAX_BYTES = 10_000_000
    assignment = make_assignment()
    assert Assignment.objects.get(pk=assignment.pk).max_upload_bytes == 10_000_000
    client.force_login(SubscriptionFactory().user)
    page = client.get(assignment.item.get_absolute_url()).content.decode()
    assert "notebooks up to 10 MB" in page and "up to 10 MB)" in page
    big = SimpleUploadedFile("big.ipynb", b" " * 12_345_678, content_type="application/json")
    url = reverse("grading:submit", args=[assignment.item.pk])
    refused = client.post(url, {"notebook": big}, HTTP_ACCEPT="application/json").json()["error"]
    assert refused.startswith("The file is 12.3 MB; notebooks may be at most 10 MB. Clear the outputs")
