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
