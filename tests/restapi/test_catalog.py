"""The catalog: courses, and each course as a tree with the access module's answer for every item."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access import api as access
from courses.models import Item
from tests.restapi.conftest import client_for, error_of, make_learner

pytestmark = pytest.mark.django_db


def test_visitors_see_the_course_list_with_nothing_done(course):
    response = client_for().get("/api/v1/courses/")
    assert response.status_code == 200
    [row] = response.json()
    assert row["slug"] == "neural-networks"
    assert row["released"] is True
    assert (row["items_total"], row["items_done"]) == (4, 0)
    assert row["url"].endswith("/courses/neural-networks/")


@pytest.mark.parametrize("state", ["anonymous", "registered", "active", "expired", "staff"])
def test_every_item_carries_the_access_modules_decision_for_the_caller(course, state):
    user = None if state == "anonymous" else make_learner(state)
    response = client_for(user).get("/api/v1/courses/neural-networks/")
    assert response.status_code == 200
    items = [item for week in response.json()["weeks"] for item in week["items"]]
    assert [i["slug"] for i in items] == ["welcome", "notes", "quiz-1", "backprop"]
    from django.contrib.auth.models import AnonymousUser

    for row in items:
        decision = access.can_view_item(user or AnonymousUser(), Item.objects.get(pk=row["id"]))
        assert row["access"] == {
            "allowed": bool(decision),
            "reason": str(decision.reason),
            "message": decision.message,
            "opens_on": None,
        }
    if state in ("anonymous", "registered", "expired"):
        assert [i["access"]["allowed"] for i in items] == [True, False, False, False]
    else:
        assert all(i["access"]["allowed"] for i in items)


def test_a_locked_item_says_why_in_the_pages_words(course):
    response = client_for(make_learner("registered")).get("/api/v1/courses/neural-networks/")
    notes = response.json()["weeks"][0]["items"][1]
    assert notes["access"]["reason"] == "needs_subscription"
    assert notes["access"]["message"] == "Start your free trial to open every lecture, reading, quiz and notebook."


def test_requested_fields_pick_fields_at_every_level(course):
    response = client_for().get(
        "/api/v1/courses/neural-networks/", {"requested_fields": "slug,weeks.number,weeks.items.slug"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "slug": "neural-networks",
        "weeks": [
            {"number": 1, "items": [{"slug": "welcome"}, {"slug": "notes"}, {"slug": "quiz-1"}]},
            {"number": 2, "items": [{"slug": "backprop"}]},
        ],
    }


def test_requested_fields_naming_a_whole_nested_field_keep_all_of_it(course):
    response = client_for().get("/api/v1/courses/neural-networks/", {"requested_fields": "progress"})
    assert set(response.json()) == {"progress"}
    assert set(response.json()["progress"]) == {
        "done",
        "total",
        "percent",
        "graded_passed",
        "graded_total",
        "completed_at",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("slug,colour", "No field colour. Fields here: id, slug,"),
        ("weeks.items.colour", "No field weeks.items.colour. Fields here: weeks.items.id,"),
        ("title.length", "title has no fields to pick from."),
        ("slug,,title", "'' is not a field name."),
    ],
)
def test_unknown_requested_fields_are_a_clear_400(course, fields, message):
    response = client_for().get("/api/v1/courses/neural-networks/", {"requested_fields": fields})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert message in error["fields"]["requested_fields"][0]


def test_an_unknown_course_is_a_json_404(course):
    response = client_for().get("/api/v1/courses/no-such-course/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_course_tree_costs_the_same_queries_however_many_items(course, learner):
    client = client_for(learner)
    client.get("/api/v1/courses/neural-networks/")  # warm: token last-used write, content types
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/courses/neural-networks/")
    week = course.weeks.first()
    from tests.factories import ItemFactory

    for n in range(20):
        ItemFactory(week=week, course=course, slug=f"extra-{n}")
    with CaptureQueriesContext(connection) as big:
        assert client.get("/api/v1/courses/neural-networks/").status_code == 200
    assert len(big) == len(small)


def test_an_open_reading_comes_with_its_text(course, learner):
    notes = Item.objects.get(slug="notes")
    response = client_for(learner).get(f"/api/v1/items/{notes.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["reading"].startswith("# Notes")
    assert body["lecture"] is None
    assert (body["course"], body["week"], body["next_id"]) == ("neural-networks", 1, notes.pk + 1)


def test_a_lecture_comes_with_captions_and_its_protected_urls(course):
    welcome = Item.objects.get(slug="welcome")
    body = client_for().get(f"/api/v1/items/{welcome.pk}/").json()
    assert body["lecture"]["captions"][0] == {"start": 0.0, "end": 2.0, "text": "First line."}
    assert body["lecture"]["captions_url"].endswith(f"/media/lectures/{welcome.pk}/captions.vtt")
    assert body["lecture"]["video_url"] is None  # not rendered


def test_a_locked_item_is_a_403_with_the_decision_and_a_visitor_gets_a_401(course):
    notes = Item.objects.get(slug="notes")
    refused = client_for(make_learner("expired")).get(f"/api/v1/items/{notes.pk}/")
    assert refused.status_code == 403
    error = error_of(refused)
    assert (error["code"], error["reason"]) == ("access_denied", "access_ended")
    assert error["message"].startswith("Your subscription has ended.")
    visitor = client_for().get(f"/api/v1/items/{notes.pk}/")
    assert visitor.status_code == 401
    assert error_of(visitor)["reason"] == "sign_in"
    assert visitor["WWW-Authenticate"] == 'Bearer realm="api"'


def test_opening_an_item_enrolls_as_the_page_does(course, learner):
    notes = Item.objects.get(slug="notes")
    client = client_for(learner)
    assert client.get("/api/v1/enrollments/").json() == []
    client.get(f"/api/v1/items/{notes.pk}/")
    [enrollment] = client.get("/api/v1/enrollments/").json()
    assert enrollment["course"]["slug"] == "neural-networks"
