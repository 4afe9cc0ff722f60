"""/healthz and /readyz: answered before host checks and the HTTPS redirect; ready only while the database,
Redis, the media storage and at least one grading host's Docker engine answer."""

import json

import pytest
import redis
from django.conf import settings

from ops import health

pytestmark = pytest.mark.django_db


@pytest.fixture
def engines():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(health.ENGINES_KEY)
    yield client
    client.delete(health.ENGINES_KEY)
    client.close()


@pytest.fixture
def production_like(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["courses.example.com"]


def test_healthz_answers_a_probe_by_address_over_plain_http(client, production_like):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.get("/courses/", HTTP_HOST="10.0.0.7:8000").status_code == 400  # pages still check the host


def test_readyz_is_ready_when_everything_answers(client, production_like, engines):
    entry = health.record_engine(hostname="grader-1")  # what a grading worker does every 15 s
    assert entry["ok"], entry
    response = client.get("/readyz", HTTP_HOST="10.0.0.7:8000")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ready", body
    assert set(body["checks"]) == {"database", "redis", "storage", "engine"}
    assert body["checks"]["engine"]["detail"] == "1 of 1 grading host(s) reach their engine"
    assert body["checks"]["storage"]["detail"] == "filesystem"


def test_readyz_names_what_is_down(client, settings, engines):
    health.record_engine(hostname="grader-1")
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    response = client.get("/readyz")
    checks = response.json()["checks"]
    assert response.status_code == 503 and response.json()["status"] == "not ready"
    assert not checks["redis"]["ok"] and "ConnectionError" in checks["redis"]["detail"]
    assert checks["database"]["ok"] and checks["storage"]["ok"]


def test_readyz_fails_without_a_writable_media_folder(client, settings, engines, tmp_path):
    health.record_engine(hostname="grader-1")
    settings.MEDIA_ROOT = tmp_path / "not-there"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "not a writable folder" in response.json()["checks"]["storage"]["detail"]


def test_an_engine_that_does_not_answer_or_a_silent_worker_is_not_ready(client, engines, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # a grading host whose engine is down
    assert not health.record_engine(hostname="grader-2")["ok"]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "grader-2" in response.json()["checks"]["engine"]["detail"]

    monkeypatch.delenv("DOCKER_HOST")
    health.record_engine(hostname="grader-1", now=0)  # a heartbeat from long ago: that worker is gone
    stale = json.loads(engines.hget(health.ENGINES_KEY, "grader-1"))
    assert stale["ok"]
    engines.hdel(health.ENGINES_KEY, "grader-2")
    detail = client.get("/readyz").json()["checks"]["engine"]["detail"]
    assert "no grading worker reported its engine" in detail


def test_readyz_checks_the_bucket_of_an_object_store(client, s3_media, engines, settings):
    _, bucket, s3 = s3_media
    health.record_engine(hostname="grader-1")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["storage"]["detail"] == f"bucket {bucket}"
    s3.delete_bucket(Bucket=bucket)
    response = client.get("/readyz")
    assert response.status_code == 503 and not response.json()["checks"]["storage"]["ok"]
