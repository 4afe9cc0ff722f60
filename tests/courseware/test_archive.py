"""Keep your course: a learner who completed a course downloads its readings, transcripts, notebooks and
their own submissions with feedback, built by a task with progress, and still after the subscription ended."""

import datetime
import io
import json
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseCompletion, ItemKind
from courseware import services
from courseware.models import CourseArchive
from grading.models import Assignment, GraderVersion, GradingRun, Submission
from tests.factories import ItemFactory, LectureFactory, ReadingFactory, SubscriptionFactory, WeekFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def completed_course(settings, tmp_path):
    """A course with a reading, a lecture and an assignment, completed by a learner whose subscription
    has since ended, who submitted the assignment twice."""
    settings.SUBMISSIONS_ROOT = tmp_path / "submissions"
    from grading.notebooks import notebook_store

    week = WeekFactory(number=1, title="Logistic regression")
    course = week.course
    ReadingFactory(
        item=ItemFactory(week=week, kind=ItemKind.READING, slug="notes", title="Week notes", order=1),
        body="# Notes\n\nThe sigmoid is $\\sigma(z) = 1/(1+e^{-z})$.\n\n```python\nprint(1)\n```\n",
    )
    lecture = LectureFactory(item__week=week, item__slug="intro", item__title="Introduction", item__order=2)
    assignment_item = ItemFactory(week=week, kind=ItemKind.ASSIGNMENT, slug="sigmoid", title="Sigmoid", order=3)
    assignment = Assignment.objects.create(item=assignment_item, instructions="Write `sigmoid`.")
    starter = {"cells": [{"cell_type": "code", "source": "def sigmoid(z): ...", "metadata": {}}], "nbformat": 4,
               "nbformat_minor": 5, "metadata": {}}  # fmt: skip
    version = GraderVersion.objects.create(
        assignment=assignment, number=1, status="published", starter=starter, solution=starter, tests=[],
        content_hash="x",
    )  # fmt: skip
    Assignment.objects.filter(pk=assignment.pk).update(current_version=version)
    learner = SubscriptionFactory(status="canceled", ended_at=NOW, user__name="Ada Lovelace").user
    CourseCompletion.objects.create(user=learner, course=course, completed_at=NOW - datetime.timedelta(days=3))
    for attempt in (1, 2):
        notebook = dict(starter, cells=[{"cell_type": "code", "source": f"# attempt {attempt}", "metadata": {}}])
        digest, relative = notebook_store(json.dumps(notebook).encode())
        submission = Submission.objects.create(
            assignment=assignment, learner=learner, attempt=attempt, notebook_sha256=digest, notebook_path=relative,
            size_bytes=10, submitted_at=NOW, status="graded", score=attempt, max_score=2,
        )  # fmt: skip
        run = GradingRun.objects.create(
            submission=submission, grader_version=version, status="graded", score=attempt, max_score=2,
            started_at=NOW, finished_at=NOW,
            tests=[{"name": "hidden shapes", "status": "failed" if attempt == 1 else "passed", "passed": attempt == 2,
                    "points": attempt - 1, "max_points": 1, "message": "Check the shape of your answer.",
                    "visibility": "hidden", "staff_message": "SECRET hidden input [1, 2, 3]", "kind": "assert"}],
            cells=[{"index": 0, "status": "ok", "outputs": [{"type": "stream", "text": f"printed {attempt}"}]}],
        )  # fmt: skip
        Submission.objects.filter(pk=submission.pk).update(latest_run=run)
    return course, learner, lecture


def test_a_learner_whose_subscription_ended_keeps_a_completed_course(client, completed_course, after_commit):
    course, learner, lecture = completed_course
    client.force_login(learner)
    page = client.get(course.get_absolute_url()).content.decode()
    assert "data-keep-course" in page and "Make my download" in page

    with after_commit():
        response = client.post(reverse("courses:archive_request", args=[course.slug]))
    archive = CourseArchive.objects.get(user=learner, course=course)
    assert response.status_code == 302 and response["Location"] == reverse("courses:archive", args=[archive.pk])
    assert (archive.status, archive.done, archive.total) == ("ready", 4, 4)
    status_page = client.get(response["Location"]).content.decode()
    assert "data-archive-download" in status_page and "Ready" in status_page

    download = client.get(reverse("courses:archive_download", args=[archive.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{course.slug}.zip"'
    body = b"".join(download.streaming_content) if download.streaming else download.content
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        names = set(zf.namelist())
        root = course.slug
        week = f"{root}/week-01-logistic-regression"
        assert {f"{root}/README.txt", f"{root}/index.html", f"{week}/01-notes.md", f"{week}/01-notes.html"} <= names
        assert {f"{week}/02-intro.txt", f"{week}/02-intro.vtt"} <= names
        assert {f"{week}/03-sigmoid/starter.ipynb", f"{week}/03-sigmoid/instructions.md"} <= names
        assert {f"{week}/03-sigmoid/my-attempt-{n}{ext}" for n in (1, 2) for ext in (".ipynb", "-feedback.md")} <= names
        html = zf.read(f"{week}/01-notes.html").decode()
        assert "<math" in html and "<pre" in html
        assert not re.search(r"(src|href)=\"https?://", html)  # nothing to fetch: it reads offline
        assert zf.read(f"{week}/02-intro.vtt").decode().startswith("WEBVTT")
        assert lecture.item.lecture.captions[0]["text"] in zf.read(f"{week}/02-intro.txt").decode()
        feedback = zf.read(f"{week}/03-sigmoid/my-attempt-1-feedback.md").decode()
        assert "Check the shape of your answer." in feedback and "printed 1" in feedback and "Score: 1 / 2" in feedback
        assert json.loads(zf.read(f"{week}/03-sigmoid/my-attempt-2.ipynb"))["cells"][0]["source"] == "# attempt 2"
        everything = b"".join(zf.read(name) for name in names).decode()
        assert "SECRET" not in everything  # hidden tests' details are staff-only, in the download too
        assert "Ada Lovelace" in zf.read(f"{root}/README.txt").decode()


def test_a_course_not_completed_cannot_be_kept_and_nobody_downloads_anothers(client, completed_course, after_commit):
    course, learner, _ = completed_course
    other = SubscriptionFactory().user
    client.force_login(other)
    assert "data-keep-course" not in client.get(course.get_absolute_url()).content.decode()
    response = client.post(reverse("courses:archive_request", args=[course.slug]), follow=True)
    assert "Complete the course to download it" in response.content.decode()
    assert not CourseArchive.objects.filter(user=other).exists()

    with after_commit():
        archive = services.archive_request(user=learner, course=course)
    assert client.get(reverse("courses:archive_download", args=[archive.pk])).status_code == 404
    assert client.get(reverse("courses:archive", args=[archive.pk])).status_code == 404


def test_asking_twice_while_building_makes_one_archive_and_a_fresh_one_replaces_the_old(completed_course, after_commit):
    from pathlib import Path

    from django.conf import settings

    course, learner, _ = completed_course
    first = services.archive_request(user=learner, course=course)
    assert services.archive_request(user=learner, course=course) == first  # still queued: the same one
    services.archive_build(archive_id=first.pk)
    first.refresh_from_db()
    with after_commit():
        second = services.archive_request(user=learner, course=course)
    second.refresh_from_db()
    assert second.pk != first.pk and second.status == "ready"
    assert not CourseArchive.objects.filter(pk=first.pk).exists()
    assert not (Path(settings.MEDIA_ROOT) / first.file).exists()


def test_a_failed_build_is_visible_and_can_be_asked_again(completed_course, monkeypatch, client):
    course, learner, _ = completed_course
    archive = services.archive_request(user=learner, course=course)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("courseware.archive.Builder.build", broken)
    services.archive_build(archive_id=archive.pk)
    archive.refresh_from_db()
    assert archive.status == "failed" and "disk full" in archive.error
    client.force_login(learner)
    page = client.get(reverse("courses:archive", args=[archive.pk])).content.decode()
    assert "We could not build this download" in page
    assert services.archive_request(user=learner, course=course).pk != archive.pk


def test_visitors_are_sent_to_log_in(client, completed_course):
    course, _, _ = completed_course
    response = client.post(reverse("courses:archive_request", args=[course.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
