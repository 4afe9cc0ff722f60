"""Submissions through grading's door: create, status, feedback; idempotency; who sees what."""

import datetime
import io
import json
import uuid

import pytest
from django.utils import timezone

from grading import services as grading_services
from grading.models import Submission
from grading.pipeline import CellReport, GradeReport
from grading.pipeline import TestReport as GradedTest
from restapi.models import IdempotencyRecord
from tests.factories import UserFactory
from tests.grading.conftest import SIGMOID_SOLUTION, as_bytes, make_assignment
from tests.restapi.conftest import client_for, error_of, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def assignment(db):
    return make_assignment(slug="sigmoid", max_attempts=3)


def upload(client, item_id, notebook=SIGMOID_SOLUTION, **headers):
    file = io.BytesIO(as_bytes(notebook))
    file.name = "sigmoid.ipynb"
    return client.post("/api/v1/submissions/", {"item": item_id, "notebook": file}, format="multipart", **headers)


def test_a_subscriber_submits_a_notebook_file_and_it_is_queued(assignment, learner):
    response = upload(client_for(learner), assignment.item_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["attempt"], body["item_id"]) == ("queued", 1, assignment.item_id)
    assert response["Location"].endswith(f"/api/v1/submissions/{body['id']}/")
    assert Submission.objects.get(pk=body["id"]).learner == learner


def test_a_notebook_can_be_sent_as_json_too(assignment, learner):
    response = client_for(learner).post(
        "/api/v1/submissions/", {"item": assignment.item_id, "notebook": SIGMOID_SOLUTION}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("state", "status", "reason"),
    [("registered", 403, "needs_subscription"), ("expired", 403, "access_ended")],
)
def test_the_access_module_refuses_with_its_reason(assignment, state, status, reason):
    response = upload(client_for(make_learner(state)), assignment.item_id)
    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["reason"]) == ("access_denied", reason)
    assert not Submission.objects.exists()


def test_a_read_only_token_cannot_submit(assignment, learner):
    response = upload(client_for(learner, scope="read"), assignment.item_id)
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"


def test_the_assignments_rules_are_a_422_with_their_sentence(assignment, learner):
    client = client_for(learner)
    for _ in range(3):
        assert upload(client, assignment.item_id).status_code == 201
    response = upload(client, assignment.item_id)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "submission_rejected"
    assert error["message"] == "You have used all 3 attempts for this assignment."


def test_a_file_that_is_not_a_notebook_is_refused_and_nothing_is_stored(assignment, learner):
    file = io.BytesIO(b"print('hello')")
    file.name = "hello.py"
    response = client_for(learner).post(
        "/api/v1/submissions/", {"item": assignment.item_id, "notebook": file}, format="multipart"
    )
    assert response.status_code == 422
    assert "notebook" in error_of(response)["message"].lower()
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"notebook": {}}, "item", "This field is required."),
        ({"item": 999999, "notebook": {}}, "item", "No such item."),
        ({"item": "x", "notebook": {}}, "item", "A valid integer is required."),
        ({"item": 1, "notebook": "text"}, "notebook", "The notebook must be a JSON object (nbformat 4)."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(assignment, learner, payload, field, message):
    response = client_for(learner).post("/api/v1/submissions/", payload, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"][field] == [message]


def test_an_item_that_is_not_an_assignment_is_refused(course, learner):
    reading = course.items.get(slug="notes")
    response = client_for(learner).post(
        "/api/v1/submissions/", {"item": reading.pk, "notebook": SIGMOID_SOLUTION}, format="json"
    )
    assert error_of(response)["fields"] == {"item": ["This item is not a programming assignment."]}


# ---- idempotency -------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_gets_the_first_answer_and_submits_once(assignment, learner):
    client = client_for(learner)
    key = str(uuid.uuid4())
    first = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY=key)
    again = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.count() == 1


def test_the_key_belongs_to_its_user(assignment, learner):
    key = "shared-key"
    upload(client_for(learner), assignment.item_id, HTTP_IDEMPOTENCY_KEY=key)
    other = upload(client_for(make_learner("active")), assignment.item_id, HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Submission.objects.count() == 2


def test_a_refusal_is_replayed_too(assignment):
    client = client_for(make_learner("registered"))
    first = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k1")
    again = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 403
    assert again.json() == first.json()


def test_the_same_key_with_another_body_is_a_422_and_submits_nothing(assignment, learner):
    client = client_for(learner)
    upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k2")
    other = dict(SIGMOID_SOLUTION, metadata={**SIGMOID_SOLUTION["metadata"], "changed": True})
    response = upload(client, assignment.item_id, notebook=other, HTTP_IDEMPOTENCY_KEY="k2")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "idempotency_key_reused"
    assert "different request" in error["message"]
    assert Submission.objects.count() == 1


def test_a_retry_while_the_first_still_runs_is_a_409(assignment, learner):
    client = client_for(learner)
    first = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k4")
    # As if the first request were still between its claim and its answer.
    IdempotencyRecord.objects.filter(key="k4").update(status_code=None, body=None)
    running = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k4")
    assert first.status_code == 201
    assert running.status_code == 409
    assert error_of(running)["code"] == "idempotency_key_in_use"
    assert Submission.objects.count() == 1


def test_a_request_that_died_is_run_again_once_its_lock_passed(assignment, learner):
    client = client_for(learner)
    upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k5")
    Submission.objects.all().delete()  # as if the first request's transaction had never committed
    IdempotencyRecord.objects.filter(key="k5").update(
        status_code=None, body=None, locked_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k5")
    assert response.status_code == 201
    assert Submission.objects.count() == 1


def test_an_expired_key_may_be_used_again(assignment, learner):
    client = client_for(learner)
    upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k6")
    IdempotencyRecord.objects.filter(key="k6").update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = upload(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="k6")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Submission.objects.count() == 2


def test_a_malformed_key_is_a_400(assignment, learner):
    response = upload(client_for(learner), assignment.item_id, HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert response.status_code == 400
    assert error_of(response)["code"] == "idempotency_key_invalid"


def test_expired_records_are_purged(assignment, learner):
    from restapi import services

    upload(client_for(learner), assignment.item_id, HTTP_IDEMPOTENCY_KEY="k7")
    assert services.idempotency_purge_expired() == 0
    later = timezone.now() + datetime.timedelta(hours=25)
    assert services.idempotency_purge_expired(now=later) == 1


# ---- status and feedback ----------------------------------------------------------------------------------


def _graded(assignment, learner) -> Submission:
    submission = grading_services.submission_create(
        assignment=assignment, learner=learner, data=as_bytes(SIGMOID_SOLUTION)
    )
    run = grading_services._run_start(submission_id=submission.pk, version=None, regrade=None)
    report = GradeReport(
        status="graded",
        score=1,
        max_score=3,
        tests=[
            GradedTest("sigmoid_zero", "code", "public", 1, 1, True, "passed", "Passed."),
            GradedTest(
                "sigmoid_array", "code", "hidden", 0, 2, False, "failed",
                message="expected [0.2689, 0.8808] for inputs [-1, 2]", hints=["Make sure sigmoid works on arrays."],
            ),
        ],
        cells=[CellReport(index=1, key="cell-1", status="ok", outputs=[{"type": "stream", "text": "hi\n"}])],
        flags=["output_truncated"],
        execution_time=0.8,
    )  # fmt: skip
    grading_services._run_finish(run, report, "sandbox:test")
    return Submission.objects.get(pk=submission.pk)


def test_feedback_is_what_the_submission_page_shows_and_hides_hidden_test_details(assignment, learner):
    submission = _graded(assignment, learner)
    response = client_for(learner).get(f"/api/v1/submissions/{submission.pk}/feedback/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["finished"], body["passed"], body["score"]) == ("graded", True, False, 1.0)
    hidden = body["tests"][1]
    assert hidden == {
        "name": "sigmoid_array",
        "status": "failed",
        "points": 0.0,
        "max_points": 2.0,
        "message": "This hidden test failed.",  # the author's message only: hints are revealed on demand
    }
    assert "0.2689" not in json.dumps(body)  # the hidden test's inputs and expected values stay hidden
    assert body["outputs"] == [{"cell": 2, "text": "hi\n"}]
    assert body["flags"] == ["output_truncated"]


def test_feedback_of_a_queued_submission_is_empty_until_finished(assignment, learner):
    submission = grading_services.submission_create(
        assignment=assignment, learner=learner, data=as_bytes(SIGMOID_SOLUTION)
    )
    body = client_for(learner).get(f"/api/v1/submissions/{submission.pk}/feedback/").json()
    assert (body["finished"], body["tests"], body["passed"]) == (False, [], None)


def test_someone_elses_submission_is_a_404_but_staff_see_it(assignment, learner):
    submission = _graded(assignment, learner)
    stranger = client_for(make_learner("active")).get(f"/api/v1/submissions/{submission.pk}/")
    assert stranger.status_code == 404
    assert error_of(stranger)["code"] == "not_found"
    staff = client_for(UserFactory(is_staff=True)).get(f"/api/v1/submissions/{submission.pk}/")
    assert staff.status_code == 200
    assert staff.json()["score"] == 1.0


def test_a_learner_lists_only_their_own_submissions_and_staff_may_ask_for_anyones(assignment, learner):
    _graded(assignment, learner)
    other = make_learner("active")
    mine = client_for(other).get("/api/v1/submissions/").json()
    assert mine["results"] == []
    refused = client_for(other).get("/api/v1/submissions/", {"learner": learner.pk})
    assert refused.status_code == 403
    assert error_of(refused)["reason"] == "not_yours"
    staff = client_for(UserFactory(is_staff=True)).get("/api/v1/submissions/", {"learner": learner.pk})
    assert len(staff.json()["results"]) == 1


def test_expired_learners_keep_reading_their_own_submissions_and_feedback(assignment, learner):
    submission = _graded(assignment, learner)
    learner.subscriptions.update(status="canceled", ended_at=timezone.now())
    client = client_for(learner)
    assert client.get(f"/api/v1/submissions/{submission.pk}/feedback/").status_code == 200
    assert client.get("/api/v1/me/").json()["access_state"] == "expired"


def test_the_operator_command_and_the_periodic_task_purge_expired_records(learner):
    from django.core.management import call_command

    from restapi.tasks import purge_idempotency_records

    IdempotencyRecord.objects.create(
        user=learner, key="old", fingerprint="f", method="POST", path="/api/v1/submissions/", status_code=201,
        created_at=timezone.now(), locked_until=timezone.now(), expires_at=timezone.now() - datetime.timedelta(hours=1),
    )  # fmt: skip
    out = io.StringIO()
    call_command("purge_idempotency_records", stdout=out)
    assert out.getvalue().strip() == "Forgot 1 expired idempotency record."
    assert purge_idempotency_records() == 0


def test_a_page_of_submissions_costs_the_same_queries_however_long_the_list(assignment, learner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        for _ in range(n):
            Submission.objects.create(
                assignment=assignment, learner=learner, attempt=Submission.objects.count() + 1, notebook_sha256="x",
                notebook_path="x", size_bytes=1, submitted_at=timezone.now(),
            )  # fmt: skip

    client = client_for(learner)
    add(3)
    client.get("/api/v1/submissions/")
    with CaptureQueriesContext(connection) as short:
        client.get("/api/v1/submissions/?page_size=100")
    add(150)
    with CaptureQueriesContext(connection) as long:
        page = client.get("/api/v1/submissions/?page_size=100").json()
    assert len(page["results"]) == 100 and page["next"]
    assert len(long) == len(short)
