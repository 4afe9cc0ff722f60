"""Rate limits per token and per user, in the cache (Redis), scoped; 429 with Retry-After."""

import io

import pytest

from tests.grading.conftest import SIGMOID_SOLUTION, as_bytes, make_assignment
from tests.restapi.conftest import client_for, error_of, make_learner, token_for

pytestmark = pytest.mark.django_db

RATES = {
    "anon": "3/min",
    "read": {"user": "5/min", "token": "4/min"},
    "write": {"user": "50/min", "token": "50/min"},
    "submissions": {"user": "3/min", "token": "2/min"},
    "posts": {"user": "3/min", "token": "2/min"},
}


@pytest.fixture(autouse=True)
def _tight_rates(settings):
    settings.API_THROTTLE_RATES = RATES


def _submit(client, item_id, **headers):
    file = io.BytesIO(as_bytes(SIGMOID_SOLUTION))
    file.name = "n.ipynb"
    return client.post("/api/v1/submissions/", {"item": item_id, "notebook": file}, format="multipart", **headers)


def test_every_answer_tells_the_remaining_quota(learner):
    client = client_for(learner)
    first = client.get("/api/v1/me/")
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("4", "3")
    assert first["X-RateLimit-Remaining"] == "3"
    assert 1 <= int(first["RateLimit-Reset"]) <= 60
    assert first["RateLimit-Policy"] == "4;w=60"


def test_one_token_is_held_to_its_own_limit_with_a_429_and_retry_after(learner):
    client = client_for(learner)
    for _ in range(4):
        assert client.get("/api/v1/me/").status_code == 200
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 429
    error = error_of(refused)
    assert error["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"
    assert refused["X-RateLimit-Scope"] == "read:token"


def test_the_user_limit_holds_across_all_their_tokens(learner):
    first, second = client_for(learner), client_for(learner)
    for _ in range(3):
        assert first.get("/api/v1/me/").status_code == 200
    assert second.get("/api/v1/me/").status_code == 200
    assert second.get("/api/v1/me/").status_code == 200  # the user's fifth
    refused = second.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Scope"] == "read:user"


def test_other_users_are_not_slowed_by_one(learner):
    client = client_for(learner)
    for _ in range(5):
        client.get("/api/v1/me/")
    other = client_for(make_learner("active"))
    assert other.get("/api/v1/me/").status_code == 200


def test_submissions_have_their_own_tighter_scope(learner):
    assignment = make_assignment(slug="sigmoid")
    client = client_for(learner)
    assert _submit(client, assignment.item_id).status_code == 201
    assert _submit(client, assignment.item_id).status_code == 201
    refused = _submit(client, assignment.item_id)
    assert refused.status_code == 429
    assert refused["X-RateLimit-Scope"] == "submissions:token"
    # Reads are another scope: still open.
    assert client.get("/api/v1/submissions/").status_code == 200


def test_a_replayed_idempotent_request_costs_no_quota(learner):
    assignment = make_assignment(slug="sigmoid")
    client = client_for(learner)
    assert _submit(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    for _ in range(3):
        assert _submit(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert _submit(client, assignment.item_id).status_code == 201  # the second counted submission


def test_a_throttled_keyed_request_may_be_retried_with_the_same_key_later(learner, settings):
    assignment = make_assignment(slug="sigmoid")
    client = client_for(learner)
    _submit(client, assignment.item_id)
    _submit(client, assignment.item_id)
    assert _submit(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="later").status_code == 429
    settings.API_THROTTLE_RATES = RATES | {"submissions": {"user": "10/min", "token": "10/min"}}
    assert _submit(client, assignment.item_id, HTTP_IDEMPOTENCY_KEY="later").status_code == 201


def test_visitors_are_counted_by_address(course):
    client = client_for()
    for _ in range(3):
        assert client.get("/api/v1/courses/").status_code == 200
    refused = client.get("/api/v1/courses/")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Scope"] == "read:anon"
    assert client_for().get("/api/v1/courses/", REMOTE_ADDR="127.0.0.2").status_code == 200


def test_counts_live_in_the_shared_cache(learner):
    from django.core.cache import cache

    secret = token_for(learner, "read")
    from django.test import Client

    Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    keys = cache._cache.get_client().keys("*api-rl:read:user*")
    assert keys, "the user's bucket is a Redis key, shared by every web process"
