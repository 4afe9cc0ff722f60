"""Me, enrollments and progress, grades, certificates, events: each as the pages show it."""

import datetime

import pytest
from django.utils import timezone

from courses.models import CourseCompletion, Item, ItemProgress
from quizzes.models import Attempt
from tests.factories import CertificateFactory, NotificationFactory, QuizFactory
from tests.grading.conftest import make_assignment
from tests.restapi.conftest import client_for, error_of, make_learner

pytestmark = pytest.mark.django_db


def test_me_tells_who_and_in_which_state(learner):
    body = client_for(learner).get("/api/v1/me/").json()
    assert body["email"] == learner.email
    assert (body["access_state"], body["access_state_label"]) == ("active", "Active")
    assert body["roles"] == {"mentor": False, "peer_reviewer": False, "staff": False}


def test_a_lecture_records_playback_progress_and_completes_at_ninety_percent(course, learner):
    lecture = Item.objects.get(slug="backprop")
    client = client_for(learner)
    half = client.post(f"/api/v1/items/{lecture.pk}/progress/", {"position": 5, "ranges": [[0, 5]]}, format="json")
    assert half.json() | {"completed_at": None} == {
        "item_id": lecture.pk,
        "complete": False,
        "completed_at": None,
        "watched": 0.5,
        "position": 5.0,
    }
    done = client.post(f"/api/v1/items/{lecture.pk}/progress/", {"position": 10, "ranges": [[5, 10]]}, format="json")
    assert done.json()["complete"] is True


def test_a_reading_is_marked_complete_and_a_graded_item_cannot_be(course, learner):
    client = client_for(learner)
    notes, quiz = Item.objects.get(slug="notes"), Item.objects.get(slug="quiz-1")
    assert client.post(f"/api/v1/items/{notes.pk}/progress/", {"complete": True}, format="json").json()["complete"]
    refused = client.post(f"/api/v1/items/{quiz.pk}/progress/", {"complete": True}, format="json")
    assert refused.status_code == 400
    assert error_of(refused)["message"] == "Graded items are completed by passing them."


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Send either position (and ranges) for a lecture, or complete: true."),
        ({"ranges": [[0, 1]]}, "position: Send the player's position with the played ranges."),
        ({"position": -1}, "position: Ensure this value is greater than or equal to 0."),
    ],
)
def test_a_progress_update_that_makes_no_sense_is_a_400(course, learner, payload, message):
    lecture = Item.objects.get(slug="backprop")
    response = client_for(learner).post(f"/api/v1/items/{lecture.pk}/progress/", payload, format="json")
    assert response.status_code == 400
    assert error_of(response)["message"] == message


def test_progress_in_a_locked_item_is_refused_by_the_access_module(course):
    lecture = Item.objects.get(slug="backprop")
    response = client_for(make_learner("registered")).post(
        f"/api/v1/items/{lecture.pk}/progress/", {"position": 1, "ranges": [[0, 1]]}, format="json"
    )
    assert response.status_code == 403
    assert error_of(response)["reason"] == "needs_subscription"
    assert not ItemProgress.objects.exists()


def test_enrollments_list_progress_and_the_detail_goes_week_by_week(course, learner):
    client = client_for(learner)
    notes = Item.objects.get(slug="notes")
    client.post(f"/api/v1/items/{notes.pk}/progress/", {"complete": True}, format="json")
    [row] = client.get("/api/v1/enrollments/").json()
    assert row["progress"] | {"completed_at": None} == {
        "done": 1,
        "total": 4,
        "percent": 25,
        "graded_passed": 0,
        "graded_total": 1,  # the quiz
        "completed_at": None,
    }
    detail = client.get("/api/v1/enrollments/neural-networks/").json()
    assert [w["number"] for w in detail["weeks"]] == [1, 2]
    assert [i["status"] for i in detail["weeks"][0]["items"]] == ["not-started", "complete", "not-started"]
    assert detail["weeks"][0]["deadline"] is not None


def test_a_course_one_is_not_enrolled_in_is_a_404_that_says_how_to_enroll(course, learner):
    response = client_for(learner).get("/api/v1/enrollments/neural-networks/")
    assert response.status_code == 404
    assert "open one of its items" in error_of(response)["message"]


def test_resetting_deadlines_moves_them_as_the_course_page_does(course, learner):
    client = client_for(learner)
    client.get(f"/api/v1/items/{Item.objects.get(slug='notes').pk}/")
    from courses.models import Enrollment

    Enrollment.objects.update(created_at=timezone.now() - datetime.timedelta(weeks=3))
    assert client.get("/api/v1/enrollments/neural-networks/").json()["weeks"][0]["overdue"] is True
    after = client.post("/api/v1/enrollments/neural-networks/reset-deadlines/").json()
    week1 = after["weeks"][0]
    assert week1["overdue"] is False
    due = datetime.datetime.fromisoformat(week1["deadline"]) - timezone.now()
    assert datetime.timedelta(days=6) < due <= datetime.timedelta(weeks=1)


def test_grades_list_every_graded_item_with_the_attempt_that_counts(course, learner):
    assignment = make_assignment(slug="sigmoid", pass_percent=60)
    quiz = QuizFactory(item=Item.objects.get(slug="quiz-1"))
    now = timezone.now()
    Attempt.objects.create(
        quiz=quiz, user=learner, number=1, status="submitted", started_at=now, percent=90, passed=True
    )
    from grading.models import Submission

    Submission.objects.create(
        assignment=assignment, learner=learner, attempt=1, notebook_sha256="x", notebook_path="x", size_bytes=1,
        status="graded", score=2, max_score=3, submitted_at=now,
    )  # fmt: skip
    rows = {row["item_slug"]: row for row in client_for(learner).get("/api/v1/grades/").json()}
    assert rows["quiz-1"] | {"best_percent": round(rows["quiz-1"]["best_percent"])} == {
        "item_id": quiz.pk,
        "item_slug": "quiz-1",
        "title": "Quiz 1",
        "kind": "quiz",
        "course": "neural-networks",
        "week": 1,
        "attempts": 1,
        "best_percent": 90,
        "pass_percent": quiz.pass_percent,
        "passed": True,
    }
    assert rows["sigmoid"]["passed"] is True and round(rows["sigmoid"]["best_percent"]) == 67
    assert rows["sigmoid"]["pass_percent"] == 60


def test_grades_for_an_unknown_course_are_a_404(course, learner):
    assert client_for(learner).get("/api/v1/grades/", {"course": "nope"}).status_code == 404


def test_certificates_mine_and_public_verification_with_revocation(course, learner):
    certificate = CertificateFactory(user=learner, course=course)
    mine = client_for(learner).get("/api/v1/certificates/").json()
    assert [c["id"] for c in mine] == [certificate.public_id]
    public = client_for().get(f"/api/v1/certificates/{certificate.public_id}/").json()
    assert (public["valid"], public["learner_name"], public["revoked_at"]) == (True, certificate.learner_name, None)
    certificate.revoked_at, certificate.revoked_reason = timezone.now(), "Plagiarism."
    certificate.save()
    revoked = client_for().get(f"/api/v1/certificates/{certificate.public_id}/").json()
    assert (revoked["valid"], revoked["revoked_reason"]) == (False, "Plagiarism.")
    assert client_for().get("/api/v1/certificates/nope/").status_code == 404


def test_completed_course_shows_its_completion_date(course, learner):
    CourseCompletion.objects.create(user=learner, course=course, completed_at=timezone.now())
    body = client_for(learner).get("/api/v1/courses/neural-networks/", {"requested_fields": "progress"}).json()
    assert body["progress"]["completed_at"] is not None


# ---- events: cursor pagination -------------------------------------------------------------------------


def test_events_are_cursor_paginated_with_link_headers_and_next(learner):
    NotificationFactory.create_batch(45, recipient=learner)
    client = client_for(learner)
    seen, url, pages = [], "/api/v1/events/?page_size=20", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [e["id"] for e in body["results"]]
        pages += 1
        link = response["Link"]
        assert 'rel="first"' in link
        if body["next"]:
            assert f'<{body["next"]}>; rel="next"' in link
        else:
            assert 'rel="next"' not in link
        url = body["next"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 45
    created = [n.pk for n in sorted(learner_notifications(learner), key=lambda n: (n.created_at, n.pk), reverse=True)]
    assert seen == created


def learner_notifications(user):
    from notifications.models import Notification

    return list(Notification.objects.filter(recipient=user))


def test_an_event_added_meanwhile_neither_shifts_nor_repeats_a_page(learner):
    NotificationFactory.create_batch(5, recipient=learner)
    client = client_for(learner)
    first = client.get("/api/v1/events/?page_size=2").json()
    NotificationFactory(recipient=learner, created_at=timezone.now() + datetime.timedelta(days=1))
    second = client.get(first["next"]).json()
    assert not {e["id"] for e in first["results"]} & {e["id"] for e in second["results"]}


@pytest.mark.parametrize(
    ("query", "field"),
    [("page_size=101", "page_size"), ("page_size=0", "page_size"), ("cursor=%%%", "cursor"), ("cursor=e30", "cursor")],
)
def test_a_bad_page_size_or_cursor_is_a_400(learner, query, field):
    response = client_for(learner).get(f"/api/v1/events/?{query}")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_events_are_marked_read(learner):
    first, _second = NotificationFactory.create_batch(2, recipient=learner)
    client = client_for(learner)
    assert client.post("/api/v1/events/read/", {"ids": [first.pk]}, format="json").json() == {"marked": 1}
    assert client.post("/api/v1/events/read/", {}, format="json").json() == {"marked": 1}


def test_someone_elses_events_are_never_listed_nor_marked(learner):
    theirs = NotificationFactory(recipient=make_learner("active"))
    client = client_for(learner)
    assert client.get("/api/v1/events/").json()["results"] == []
    assert client.post("/api/v1/events/read/", {"ids": [theirs.pk]}, format="json").json() == {"marked": 0}


def test_grades_cost_the_same_queries_however_many_graded_items(course, learner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    QuizFactory(item=Item.objects.get(slug="quiz-1"))
    make_assignment(slug="first")
    client = client_for(learner)
    client.get("/api/v1/grades/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/grades/")
    week = course.weeks.first()
    for n in range(5):
        QuizFactory(item__week=week, item__course=course, item__slug=f"more-quiz-{n}")
        make_assignment(slug=f"more-{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/grades/").json()) == 12
    assert len(many) == len(few)


def test_resetting_deadlines_with_nothing_overdue_is_a_422_and_changes_nothing(course, learner):
    from courses.models import Enrollment
    from tests.restapi.conftest import client_for, error_of

    client = client_for(learner)
    client.post("/api/v1/enrollments/", {"course": course.slug}, format="json")
    Enrollment.objects.get_or_create(user=learner, course=course)
    before = list(Enrollment.objects.filter(user=learner).values_list("schedule_start", flat=True))
    response = client.post(f"/api/v1/enrollments/{course.slug}/reset-deadlines/")
    assert response.status_code == 422
    assert error_of(response)["code"] == "nothing_overdue"
    assert list(Enrollment.objects.filter(user=learner).values_list("schedule_start", flat=True)) == before
