"""Peer review through the API: submit, ask for work, read it with its rubric, review it; the pages'
rules and anonymity both ways; idempotent retries."""

import uuid

import pytest

from peer_review.models import Review, ReviewStatus, Submission
from tests.peer_review.conftest import GOOD, make_assignment, subscriber  # noqa: F401 (the fixture)
from tests.restapi.conftest import client_for, error_of, make_learner

pytestmark = pytest.mark.django_db


def test_a_learner_submits_asks_for_work_reads_it_and_reviews_it(make_assignment):  # noqa: F811
    assignment = make_assignment()
    author, reviewer = subscriber(), subscriber()
    author_client, client = client_for(author), client_for(reviewer)
    listed = client.get(f"/api/v1/peer-review/assignments/?course={assignment.item.course.slug}").json()
    assert listed["assignments"] == [assignment.pk]

    work = author_client.post(
        f"/api/v1/peer-review/assignments/{assignment.pk}/submissions/", {"text": "My plan: a metric."}, format="json"
    )
    assert work.status_code == 201, work.json()
    client.post(f"/api/v1/peer-review/assignments/{assignment.pk}/submissions/", {"text": "Mine"}, format="json")

    leased = client.post(f"/api/v1/peer-review/assignments/{assignment.pk}/tasks/", format="json")
    assert leased.status_code == 201
    submission_id = leased.json()["submission"]
    assert submission_id == work.json()["id"]

    tasks = client.get("/api/v1/peer-review/tasks/").json()
    assert [(t["submission"], t["status"]) for t in tasks] == [(submission_id, "leased")]
    assert tasks[0]["expires_at"]

    opened = client.get(f"/api/v1/peer-review/work/{submission_id}/")
    assert opened.status_code == 200
    body = opened.json()
    assert body["text"] == "My plan: a metric."
    assert [c["name"] for c in body["rubric"]] == ["problem", "plan"]
    assert [o["points"] for o in body["rubric"][1]["options"]] == [0, 2, 4]
    assert author.email not in str(body) and "author" not in body  # anonymous both ways

    review = client.post(
        f"/api/v1/peer-review/work/{submission_id}/reviews/",
        {"scores": GOOD, "comments": {"plan": "Concrete and measurable."}},
        format="json",
    )
    assert review.status_code == 201, review.json()
    assert Review.objects.get(pk=review.json()["id"]).status == ReviewStatus.COMPLETED
    nothing = client.post(f"/api/v1/peer-review/assignments/{assignment.pk}/tasks/", format="json")
    assert nothing.status_code == 200 and nothing.json()["submission"] is None


def test_work_not_leased_to_the_caller_is_a_404(make_assignment):  # noqa: F811
    assignment = make_assignment()
    author = subscriber()
    work = client_for(author).post(
        f"/api/v1/peer-review/assignments/{assignment.pk}/submissions/", {"text": "Secret plan"}, format="json"
    )
    response = client_for(subscriber()).get(f"/api/v1/peer-review/work/{work.json()['id']}/")
    assert response.status_code == 404
    assert "Secret plan" not in response.content.decode()


def test_refusals_keep_their_sentence_and_change_nothing(make_assignment):  # noqa: F811
    assignment = make_assignment()
    refused = client_for(make_learner("registered")).post(
        f"/api/v1/peer-review/assignments/{assignment.pk}/submissions/", {"text": "Plan"}, format="json"
    )
    assert refused.status_code == 403
    assert error_of(refused)["reason"] == "needs_subscription"
    missing = client_for(subscriber()).post(
        "/api/v1/peer-review/assignments/999999/submissions/", {"text": "Plan"}, format="json"
    )
    assert missing.status_code == 422 and "no such peer-review assignment" in error_of(missing)["message"]
    learner = subscriber()
    client_for(learner).post(
        f"/api/v1/peer-review/assignments/{assignment.pk}/submissions/", {"text": "Plan"}, format="json"
    )
    bad = client_for(subscriber()).post(
        f"/api/v1/peer-review/work/{Submission.objects.get().pk}/reviews/", {"scores": {"plan": "lots"}}, format="json"
    )
    assert bad.status_code == 400
    assert not Review.objects.filter(status=ReviewStatus.COMPLETED).exists()


def test_a_retried_submission_with_the_same_key_is_stored_once(make_assignment):  # noqa: F811
    assignment = make_assignment()
    client = client_for(subscriber())
    key = str(uuid.uuid4())
    url = f"/api/v1/peer-review/assignments/{assignment.pk}/submissions/"
    first = client.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Submission.objects.filter(text="Once").count() == 1
