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
