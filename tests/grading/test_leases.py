"""Leases (grading ADR 0003): the database decides which attempt grades a submission and saves its grade."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from grading import sandbox, services
from grading.models import GradingRun, Submission
from grading.pipeline import GradeReport
from tests.factories import SubscriptionFactory
from tests.grading.conftest import SIGMOID_STARTER, as_bytes, make_assignment

pytestmark = pytest.mark.django_db

REPORT = GradeReport(status="graded", score=3, max_score=3, tests=[], cells=[], flags=[], execution_time=0.1)


@pytest.fixture
def sent(monkeypatch):
    queued = []
    monkeypatch.setattr("grading.services._enqueue", lambda pk: queued.append(pk))
    return queued


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block queued for after its commit (the re-queued tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def submission(sent):
    assignment = make_assignment(time_limit_seconds=60)
    learner = SubscriptionFactory().user
    created = services.submission_create(assignment=assignment, learner=learner, data=as_bytes(SIGMOID_STARTER))
    sent.clear()
    return created


def expire_lease(submission):
    Submission.objects.filter(pk=submission.pk).update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))


def test_a_claim_takes_the_lease_and_a_second_delivery_does_nothing(submission, settings):
    settings.GRADING_WORKER_ID = "host-a"
    run = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    submission.refresh_from_db()
    assert submission.status == "running" and submission.claims == 1
    assert submission.lease_attempt == run.attempt_id and submission.lease_worker == "host-a" == run.worker
    lease_left = (submission.lease_expires_at - timezone.now()).total_seconds()
    assert settings.GRADING_LEASE_SECONDS - 5 < lease_left <= settings.GRADING_LEASE_SECONDS
    # The broker hands the same message to another worker (visibility timeout, a restored message):
    assert services._run_start(submission_id=submission.pk, version=None, regrade=None) is None
    assert submission.runs.count() == 1


def test_only_the_lease_holder_renews(submission):
    run = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    expire_lease(submission)
    assert services.submission_lease_renew(submission_id=submission.pk, attempt=uuid.uuid4()) is False
    assert services.submission_lease_renew(submission_id=submission.pk, attempt=run.attempt_id) is True
    submission.refresh_from_db()
    assert submission.lease_expires_at > timezone.now()


def test_a_result_from_an_attempt_that_lost_its_lease_is_refused(submission, monkeypatch, sent, committed):
    """Attempt A stalls past its lease; beat re-queues the submission and attempt B claims it. A's result
    arriving afterwards is discarded: the grade is B's, saved once."""
    second = {}

    def stalled_grading(**kwargs):
        expire_lease(submission)
        with committed():
            assert services.submissions_requeue_stale() == 1  # beat: the lease expired
        second["run"] = services._run_start(submission_id=submission.pk, version=None, regrade=None)
        return REPORT, "mooc-sandbox:test"

    monkeypatch.setattr("grading.runner.grade_with_sandbox", stalled_grading)
    first = services.submission_grade(submission_id=submission.pk)
    first.refresh_from_db()
    submission.refresh_from_db()
    assert first.status == "abandoned" and "lost its lease" in first.log
    assert submission.status == "running" and submission.lease_attempt == second["run"].attempt_id
    assert sent == [submission.pk]

    run = services._run_finish(second["run"], REPORT, "mooc-sandbox:test")
    submission.refresh_from_db()
    assert run.status == "graded" and submission.status == "graded" and submission.latest_run == run
    assert submission.lease_attempt is None and submission.claims == 2
    assert list(submission.runs.values_list("status", flat=True).order_by("pk")) == ["abandoned", "graded"]


def test_a_claim_after_an_expired_lease_closes_the_dead_attempts_run(submission):
    dead = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    expire_lease(submission)
    fresh = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    dead.refresh_from_db()
    assert fresh is not None and dead.status == "abandoned"
    assert services._run_finish(dead, REPORT, "img").status == "abandoned"
    assert services._run_finish(fresh, REPORT, "img").status == "graded"


def test_the_sweeper_requeues_expired_leases_only(submission, sent, committed):
    run = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    assert services.submissions_requeue_stale() == 0  # the lease is live
    expire_lease(submission)
    with committed():
        assert services.submissions_requeue_stale() == 1
    submission.refresh_from_db()
    run.refresh_from_db()
    assert submission.status == "queued" and submission.lease_attempt is None and submission.lease_worker == ""
    assert run.status == "abandoned" and "expired" in run.log
    assert sent == [submission.pk]


def test_a_notebook_whose_attempts_keep_dying_ends_in_error(submission, settings, sent, committed):
    settings.GRADING_MAX_ABANDONED = 3
    for _ in range(3):
        services._run_start(submission_id=submission.pk, version=None, regrade=None)
        expire_lease(submission)
        with committed():
            services.submissions_requeue_stale()
    submission.refresh_from_db()
    assert submission.status == "error" and "stopped several times" in submission.latest_run.error_message
    assert sent == [submission.pk, submission.pk]  # re-queued twice, then given up


def test_the_database_refuses_a_second_graded_run(submission):
    run = services._run_start(submission_id=submission.pk, version=None, regrade=None)
    services._run_finish(run, REPORT, "img")
    with pytest.raises(IntegrityError), transaction.atomic():
        GradingRun.objects.create(
            submission=submission, grader_version=run.grader_version, status="graded", started_at=timezone.now()
        )


def test_engine_failures_are_requeued_when_the_engine_answers_again(submission, monkeypatch, sent, committed):
    def engine_down(**kwargs):
        raise sandbox.InfrastructureError("Cannot connect to the Docker daemon")

    monkeypatch.setattr("grading.runner.grade_with_sandbox", engine_down)
    with pytest.raises(sandbox.InfrastructureError):
        services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == "queued" and submission.lease_attempt is None and not submission.runs.exists()

    services.submission_mark_failed(submission_id=submission.pk, reason="engine down after 5 retries")
    submission.refresh_from_db()
    assert submission.status == "error" and submission.engine_failed_at is not None
    assert "graded automatically as soon as the service is back" in submission.latest_run.error_message

    monkeypatch.setattr("grading.runner.engine_reachable", lambda: False)
    assert services.submissions_requeue_engine_failures() == 0
    monkeypatch.setattr("grading.runner.engine_reachable", lambda: True)
    with committed():
        assert services.submissions_requeue_engine_failures() == 1
    submission.refresh_from_db()
    assert submission.status == "queued" and submission.engine_failed_at is None and sent == [submission.pk]

    monkeypatch.setattr("grading.runner.grade_with_sandbox", lambda **kwargs: (REPORT, "img"))
    services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == "graded" and submission.score == 3


def test_a_live_lease_elsewhere_is_not_marked_failed(submission):
    services._run_start(submission_id=submission.pk, version=None, regrade=None)
    services.submission_mark_failed(submission_id=submission.pk, reason="this host's engine is down")
    submission.refresh_from_db()
    assert submission.status == "running" and submission.engine_failed_at is None


def test_the_broker_never_redelivers_a_grading_that_may_still_run(settings):
    """Redis's visibility timeout is above the grading task's hard limit, which is above its soft limit
    and above the longest grading the runner allows."""
    from config.celery import app
    from grading import runner
    from grading.tasks import grade_submission, regrade_one

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for task in (grade_submission, regrade_one):
        assert runner.MAX_TIME_LIMIT_SECONDS < task.soft_time_limit < task.time_limit < visibility
    assert app.conf.broker_transport_options["visibility_timeout"] == visibility


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("grading.tasks.grade_submission", "grading"),
        ("grading.tasks.regrade_one", "grading"),
        ("grading.tasks.requeue_engine_failures", "grading"),
        ("grading.tasks.requeue_stale_submissions", "celery"),
        ("notifications.tasks.deliver_email", "email"),
        ("notifications.tasks.deliver_pending", "email"),
        ("courses.tasks.notify_course_releases", "email"),
        ("billing.tasks.process_webhook_event", "celery"),
        ("courses.tasks.apply_graded_result", "celery"),
    ],
)
def test_each_task_goes_to_its_queue(task, queue):
    """A grading backlog never delays e-mail or webhooks: they have queues (and workers) of their own."""
    from config.celery import app

    app.loader.import_default_modules()
    options = app.tasks[task]._get_exec_options()
    routed = app.amqp.router.route(options, task)
    assert routed["queue"].name == queue


def test_staff_read_the_lease_in_the_admin(submission, client, settings):
    from tests.factories import UserFactory

    settings.GRADING_WORKER_ID = "grader-7"
    services._run_start(submission_id=submission.pk, version=None, regrade=None)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/grading/submission/{submission.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "grader-7" in text and "Lease expires at" in text
    assert 'name="lease_worker"' not in text  # read-only: no input to change it


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_grading(sent, settings, monkeypatch):
    """The attempt's thread pushes the expiry forward while the sandbox works; a dead process would not."""
    import time

    settings.GRADING_LEASE_RENEW_SECONDS = 0.1
    assignment = make_assignment()
    learner = SubscriptionFactory().user
    submission = services.submission_create(assignment=assignment, learner=learner, data=as_bytes(SIGMOID_STARTER))
    seen = []

    def slow_grading(**kwargs):
        for _ in range(3):
            seen.append(Submission.objects.values_list("lease_expires_at", flat=True).get(pk=submission.pk))
            time.sleep(0.5)
        return REPORT, "img"

    monkeypatch.setattr("grading.runner.grade_with_sandbox", slow_grading)
    run = services.submission_grade(submission_id=submission.pk)
    assert seen[0] < seen[1] < seen[2]
    assert run.status == "graded" and Submission.objects.get(pk=submission.pk).lease_expires_at is None
