"""schemathesis against the committed schema on a live server (127.0.0.1 only), with a learner's token:
no server errors, no answers that the schema does not describe."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from courses.api import enrollment_ensure
from tests.factories import CertificateFactory, LectureFactory, NotificationFactory, QuizFactory, ReadingFactory
from tests.grading.conftest import SIGMOID_SOLUTION, as_bytes, make_assignment
from tests.restapi.conftest import token_for

pytestmark = pytest.mark.slow  # make check skips it; make test runs it

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "ignored_auth",
]


@pytest.fixture
def world(transactional_db, settings):
    """A learner with a subscription, a course with every kind of item, a graded submission, events and a
    certificate: enough for most generated requests to reach real data."""
    from grading import services as grading_services
    from tests.restapi.conftest import make_learner

    settings.API_THROTTLE_RATES = {
        "anon": "100000/min",
        **{scope: {"user": "100000/min", "token": "100000/min"} for scope in ("read", "write", "submissions", "posts")},
    }
    learner = make_learner("active")
    assignment = make_assignment(slug="sigmoid")
    course = assignment.item.course
    quiz = QuizFactory(item__week=assignment.item.week, item__course=course, item__slug="quiz")
    reading = ReadingFactory(item__week=assignment.item.week, item__course=course, item__slug="notes")
    lecture = LectureFactory(item__week=assignment.item.week, item__course=course, item__slug="intro")
    enrollment_ensure(user=learner, course=course)
    submission = grading_services.submission_create(
        assignment=assignment, learner=learner, data=as_bytes(SIGMOID_SOLUTION)
    )
    NotificationFactory.create_batch(3, recipient=learner)
    certificate = CertificateFactory(user=learner, course=course, completed_at=timezone.now())
    return {
        "token": token_for(learner, "write"),
        # Real identifiers, offered to the generator half of the time, so requests reach real data too.
        "items": [assignment.item_id, quiz.item_id, reading.item_id, lecture.item_id],
        "slugs": [course.slug],
        "submissions": [submission.pk],
        "certificates": [certificate.public_id],
    }


def _config(world) -> str:
    def values(name):
        return "[" + ", ".join(json.dumps(v) for v in world[name]) + "]"

    return f"""
[dictionaries.items]
values = {values("items")}
[dictionaries.slugs]
values = {values("slugs")}
[dictionaries.submissions]
values = {values("submissions")}
[dictionaries.certificates]
values = {values("certificates")}

[parameters]
"path.item_id" = {{ dictionary = "items", probability = 0.5 }}
"query.item" = {{ dictionary = "items", probability = 0.5 }}
"body.item" = {{ dictionary = "items", probability = 0.5 }}
"path.slug" = {{ dictionary = "slugs", probability = 0.5 }}
"query.course" = {{ dictionary = "slugs", probability = 0.5 }}
"path.submission_id" = {{ dictionary = "submissions", probability = 0.5 }}
"path.public_id" = {{ dictionary = "certificates", probability = 0.5 }}
"""


@pytest.fixture
def purge_grading_queue(settings):
    """Submissions made here are queued for grading after their commit; no worker runs here, so their
    messages are dropped afterwards rather than left for another test's worker."""
    yield
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("grading", "celery")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(world, live_server, purge_grading_queue, tmp_path):
    base = live_server.url.replace("localhost", "127.0.0.1")
    assert base.startswith("http://127.0.0.1:")
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(world))
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        str(SCHEMA),
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {world['token']}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "25",
        "--seed",
        "20260101",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1500, cwd=tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(result.stdout)  # the run's summary, kept to read
    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-3000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout, result.stdout[-3000:]
