"""One JSON error shape everywhere: validation, 401, 403, 404, 405, 409, 415, 422, 429, 500."""

import pytest

from restapi.views import catalog
from tests.restapi.conftest import client_for, error_of

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(db):
    response = client_for().get("/api/v1/no/such/thing/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert response["Content-Type"] == "application/json"


def test_a_method_an_endpoint_does_not_take_is_a_405_with_allow(course):
    response = client_for().delete("/api/v1/courses/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_malformed_json_is_a_400(learner):
    response = client_for(learner).post("/api/v1/events/read/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_body_in_another_format_is_a_415(learner):
    response = client_for(learner).post("/api/v1/events/read/", "ids=1", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_validation_errors_name_each_field(learner):
    response = client_for(learner).post("/api/v1/events/read/", {"ids": ["x", 0]}, format="json")
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"ids"}
    assert error["message"].startswith("ids: ")


def test_a_bug_is_a_500_in_the_same_shape_that_tells_nothing_inside(course, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("secret detail of the database")

    monkeypatch.setattr(catalog.courses, "specialization_get", broken)
    client = client_for()
    client.raise_request_exception = False
    response = client.get("/api/v1/courses/")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "secret detail" not in response.content.decode()
    assert "secret detail of the database" in caplog.text  # logged with its traceback for us


def test_accepting_only_html_is_a_406(course):
    response = client_for().get("/api/v1/courses/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert error_of(response)["code"] == "not_acceptable"
