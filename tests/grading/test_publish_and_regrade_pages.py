"""Staff paths that must not block a request or multiply queries: publishing a grader (self-check in a
worker, followed on a live page) and the regrade comparison the progress page polls every second."""

import pytest
from django.urls import reverse
from django.utils import timezone

from grading import sandbox, selectors, services, tasks
from grading.models import GraderVersion, GradingRun, RegradeJob, Submission
from tests.factories import UserFactory
from tests.grading.conftest import make_assignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def passing_report(version):
    return {"ok": True, "problems": [], "image": "mooc-sandbox:test", "checked_at": timezone.now().isoformat(),
            "solution": {"score": 4, "max_score": 4, "tests": [{"name": "t1", "passed": True, "message": ""}]},
            "starter": {"score": 0, "max_score": 4}, "tests": version.tests}  # fmt: skip


def test_the_admin_action_queues_the_self_check_and_opens_its_progress_page(staff_client, monkeypatch, after_commit):
    assignment = make_assignment(published=False)
    version = assignment.versions.get()
    sent = []
    monkeypatch.setattr(tasks.publish_grader_version, "delay", lambda version_id: sent.append(version_id))

    def no_sandbox_in_the_request(**kwargs):
        raise AssertionError("the self-check ran inside the admin request")

    monkeypatch.setattr(services, "grader_version_self_check", no_sandbox_in_the_request)
    with after_commit():
        response = staff_client.post(
            reverse("admin:grading_graderversion_changelist"),
            {"action": "publish", "_selected_action": [version.pk]},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:publish", args=[version.pk])
    assert sent == [version.pk]
    version.refresh_from_db()
    assert version.status == GraderVersion.Status.CHECKING
    page = staff_client.get(response["Location"])
    assert b"Self-check running" in page.content
    assert b'hx-trigger="every 1s"' in page.content


def test_the_worker_publishes_and_the_page_says_so(staff_client, monkeypatch):
    assignment = make_assignment(published=False)
    version = assignment.versions.get()
    monkeypatch.setattr(services, "grader_version_self_check", lambda *, version: passing_report(version))
    services.grader_version_publish_queue(version=version)
    tasks.publish_grader_version.apply(args=[version.pk])
    version.refresh_from_db()
    assignment.refresh_from_db()
    assert version.status == GraderVersion.Status.PUBLISHED
    assert assignment.current_version == version
    page = staff_client.get(reverse("grading:publish", args=[version.pk]), HTTP_HX_REQUEST="true")
    assert b"Passed its self-check" in page.content
    assert b"hx-trigger" not in page.content  # finished: the page stops polling


def test_a_failing_self_check_is_shown_with_its_problems(staff_client, monkeypatch):
    version = make_assignment(published=False).versions.get()
    report = passing_report(version) | {"ok": False, "problems": ["Test t1 fails on the reference solution."]}
    monkeypatch.setattr(services, "grader_version_self_check", lambda *, version: dict(report))
    tasks.publish_grader_version.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == GraderVersion.Status.FAILED
    page = staff_client.get(reverse("grading:publish", args=[version.pk]))
    assert b"Test t1 fails on the reference solution." in page.content


def test_an_unreachable_sandbox_retries_then_leaves_a_draft_with_the_reason(monkeypatch):
    version = make_assignment(published=False).versions.get()

    def engine_down(*, version):
        raise sandbox.InfrastructureError("engine unreachable")

    monkeypatch.setattr(services, "grader_version_self_check", engine_down)
    result = tasks.publish_grader_version.apply(args=[version.pk], retries=tasks.publish_grader_version.max_retries)
    assert result.successful()
    version.refresh_from_db()
    assert version.status == GraderVersion.Status.DRAFT
    assert "not available" in version.self_check["problems"][0]


def test_only_staff_see_the_publish_page(client):
    version = make_assignment(published=False).versions.get()
    client.force_login(UserFactory())
    assert client.get(reverse("grading:publish", args=[version.pk])).status_code in (403, 404)


def _graded_run(submission, version, *, regrade=None, score=2.0):
    now = timezone.now()
    return GradingRun.objects.create(
        submission=submission, grader_version=version, regrade=regrade, status=GradingRun.Status.GRADED,
        score=score, max_score=4, started_at=now, finished_at=now,
    )  # fmt: skip


def _job_with(n: int) -> RegradeJob:
    assignment = make_assignment(slug=f"sigmoid-{n}")
    version = assignment.current_version
    ids = []
    for _ in range(n):
        submission = Submission.objects.create(
            assignment=assignment, learner=UserFactory(), attempt=1, notebook_sha256="x", notebook_path="x",
            size_bytes=1, submitted_at=timezone.now(),
        )  # fmt: skip
        _graded_run(submission, version, score=1.0)
        ids.append(submission.pk)
    job = RegradeJob.objects.create(
        assignment=assignment, grader_version=version, created_by=UserFactory(is_staff=True), total=n,
        submission_ids=ids,
    )  # fmt: skip
    for pk in ids[: n // 2]:
        _graded_run(Submission.objects.get(pk=pk), version, regrade=job, score=3.0)
    return job


def test_the_regrade_comparison_costs_the_same_queries_for_3_or_30_submissions(django_assert_num_queries):
    small, large = _job_with(3), _job_with(30)
    with django_assert_num_queries(2):
        services_rows = selectors.regrade_comparison(job=small)
    assert [(r["old"], r["new"]) for r in services_rows] == [(1.0, 3.0), (1.0, None), (1.0, None)]
    with django_assert_num_queries(2):
        rows = selectors.regrade_comparison(job=large)
    assert len(rows) == 30
    assert sum(r["new"] == 3.0 for r in rows) == 15
