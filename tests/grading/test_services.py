"""Submissions: refused uploads change nothing; accepted ones are committed before the task is queued."""

import datetime

import pytest

from grading import sandbox, services
from grading.models import Submission
from tests.factories import SubscriptionFactory, UserFactory
from tests.grading.conftest import SIGMOID_STARTER, as_bytes, make_assignment, notebook

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber():
    """A learner with an active subscription: the access policy lets them submit."""
    return SubscriptionFactory().user


def test_accepted_submission_is_stored_then_queued_after_commit(
    subscriber, django_capture_on_commit_callbacks, monkeypatch
):
    assignment = make_assignment()
    sent = []
    monkeypatch.setattr("grading.services._enqueue", lambda pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = services.submission_create(
            assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER)
        )
        assert sent == []  # nothing queued before the row is committed
    for callback in callbacks:
        callback()
    assert sent == [submission.pk]
    assert submission.status == "queued" and submission.attempt == 1
    assert submission.notebook_path.endswith(f"{submission.notebook_sha256}.ipynb")


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"nonsense", "not valid JSON"), (as_bytes(notebook("x = 1", assignment="other")), "belongs to the assignment")],
)
def test_bad_upload_changes_nothing(subscriber, settings, data, message):
    assignment = make_assignment()
    with pytest.raises(services.SubmissionRejected, match=message):
        services.submission_create(assignment=assignment, learner=subscriber, data=data)
    assert not Submission.objects.exists()
    assert not settings.SUBMISSIONS_ROOT.exists() or not any(settings.SUBMISSIONS_ROOT.rglob("*.ipynb"))


def test_learner_without_access_is_refused():
    assignment = make_assignment()
    with pytest.raises(services.SubmissionRejected, match=r"^Start your free trial to submit graded work\.$"):
        services.submission_create(assignment=assignment, learner=UserFactory(), data=as_bytes(SIGMOID_STARTER))
    assert not Submission.objects.exists()


def test_unpublished_assignment_refuses_submissions(subscriber):
    assignment = make_assignment(published=False)
    with pytest.raises(services.SubmissionRejected, match="not open for submissions"):
        services.submission_create(assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER))


def test_attempt_limit_and_cooldown(subscriber, monkeypatch):
    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)
    assignment = make_assignment(max_attempts=2, cooldown_minutes=10)
    now = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
    services.submission_create(assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER), now=now)
    with pytest.raises(services.SubmissionRejected, match="submit again in 5:00"):
        services.submission_create(
            assignment=assignment,
            learner=subscriber,
            data=as_bytes(SIGMOID_STARTER),
            now=now + datetime.timedelta(minutes=5),
        )
    later = now + datetime.timedelta(minutes=11)
    second = services.submission_create(
        assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER), now=later
    )
    assert second.attempt == 2
    with pytest.raises(services.SubmissionRejected, match="used all 2 attempts"):
        services.submission_create(
            assignment=assignment,
            learner=subscriber,
            data=as_bytes(SIGMOID_STARTER),
            now=later + datetime.timedelta(hours=1),
        )


def test_infrastructure_failure_puts_the_submission_back_in_the_queue(subscriber, monkeypatch):
    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)
    assignment = make_assignment()
    submission = services.submission_create(assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER))

    def engine_down(**kwargs):
        raise sandbox.InfrastructureError("Cannot connect to the Docker daemon")

    monkeypatch.setattr("grading.runner.grade_with_sandbox", engine_down)
    with pytest.raises(sandbox.InfrastructureError):
        services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == "queued" and not submission.runs.exists()

    services.submission_mark_failed(submission_id=submission.pk, reason="engine down after 5 retries")
    submission.refresh_from_db()
    assert submission.status == "error"
    assert "do not need to resubmit" in submission.latest_run.error_message


def test_task_routes_to_the_grading_queue():
    from config.celery import app
    from grading.tasks import grade_submission

    assert app.amqp.router.route({}, grade_submission.name)["queue"].name == "grading"
    assert grade_submission.acks_late is True


def test_passing_marks_the_item_and_a_regrade_below_the_mark_is_flagged_not_revoked(
    subscriber, monkeypatch, after_commit
):
    from courses.models import CompletionRegression, CourseCompletion, ItemProgress
    from grading.pipeline import GradeReport

    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)
    monkeypatch.setattr("grading.services._enqueue_regrade", lambda pk: None)
    assignment = make_assignment()
    submission = services.submission_create(assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER))

    def sandbox_scores(score):
        report = GradeReport(
            status="graded", score=score, max_score=3, tests=[], cells=[], flags=[], execution_time=0.1
        )
        monkeypatch.setattr("grading.runner.grade_with_sandbox", lambda **kwargs: (report, "mooc-sandbox:test"))

    sandbox_scores(3)
    with after_commit():
        services.submission_grade(submission_id=submission.pk)
    assert ItemProgress.objects.get(user=subscriber, item=assignment.item).is_complete
    # The course's only graded item is passed, so the course is complete.
    assert CourseCompletion.objects.filter(user=subscriber, course=assignment.item.course).exists()

    sandbox_scores(1)
    job = services.regrade_create(assignment=assignment, version=assignment.current_version, by=subscriber)
    with after_commit():
        services.regrade_run(job_id=job.pk)
    flag = CompletionRegression.objects.get(user=subscriber, item=assignment.item)
    assert "below the pass mark" in flag.detail and "now scores 1/3" in flag.detail
    assert CourseCompletion.objects.filter(user=subscriber, course=assignment.item.course).exists()  # kept


def test_nul_characters_in_learner_output_are_stored(subscriber, monkeypatch):
    from grading.pipeline import CellReport, GradeReport

    monkeypatch.setattr("grading.services._enqueue", lambda pk: None)
    assignment = make_assignment()
    submission = services.submission_create(assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER))
    cell = CellReport(index=1, key="c", status="ok", outputs=[{"type": "stream", "text": "a\x00b"}])
    report = GradeReport(status="graded", score=0, max_score=3, tests=[], cells=[cell], flags=[], execution_time=0.1)
    monkeypatch.setattr("grading.runner.grade_with_sandbox", lambda **kwargs: (report, "mooc-sandbox:test"))
    run = services.submission_grade(submission_id=submission.pk)
    run.refresh_from_db()
    assert run.status == "graded" and run.cells[0]["outputs"][0]["text"] == "a\ufffdb"


def test_stale_submissions_are_requeued_and_orphan_runs_closed(subscriber, monkeypatch):
    from django.utils import timezone

    from grading.models import GradingRun

    sent = []
    monkeypatch.setattr("grading.services._enqueue", lambda pk: sent.append(pk))
    assignment = make_assignment(time_limit_seconds=60)
    services.submission_create(
        assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER)
    )  # its message lost
    crashed = services.submission_create(assignment=assignment, learner=subscriber, data=as_bytes(SIGMOID_STARTER))
    orphan = GradingRun.objects.create(
        submission=crashed, grader_version=assignment.current_version, started_at=timezone.now()
    )
    Submission.objects.filter(pk=crashed.pk).update(status="running")
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert services.submissions_requeue_stale(now=later) == 2
    crashed.refresh_from_db()
    orphan.refresh_from_db()
    assert crashed.status == "queued" and orphan.status == "abandoned"
    assert services.submissions_requeue_stale(now=timezone.now()) == 0  # fresh ones are left alone


def test_best_attempt_is_by_percentage_across_grader_versions(subscriber):
    from grading.selectors import passed_assignment_item_ids

    assignment = make_assignment(pass_percent=80)
    for attempt, (score, max_score) in enumerate([(3, 4), (4, 10)], start=1):
        Submission.objects.create(
            assignment=assignment, learner=subscriber, attempt=attempt, notebook_sha256="x", notebook_path="x",
            size_bytes=1, status="graded", score=score, max_score=max_score,
            submitted_at=datetime.datetime.now(datetime.UTC),
        )  # fmt: skip
    # 75 % and 40 %: not passed (taking Max(score) / Max(max_score) across attempts would have said 4/10).
    assert passed_assignment_item_ids(subscriber, [assignment.item]) == set()
