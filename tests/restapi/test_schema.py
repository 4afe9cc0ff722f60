"""The committed OpenAPI schema is the one the code generates, and the docs page loads nothing from outside."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
UPDATE = "make api-schema  (= .venv/bin/python manage.py spectacular --file docs/api/openapi.yaml --validate)"


@pytest.mark.slow
def test_the_committed_schema_matches_the_code(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    generated = out.getvalue()
    committed = SCHEMA.read_text()
    assert generated == committed, f"docs/api/openapi.yaml is out of date with the API. Regenerate it: {UPDATE}"


def test_the_served_schema_is_the_committed_one(db):
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    assert response.content.decode() == SCHEMA.read_text()


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/docs/?script="])
def test_the_docs_page_loads_only_files_of_this_site(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    text = response.content.decode()
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", text), "no CDN on the docs page"


def test_the_docs_pages_files_come_from_the_pinned_sidecar_package(db):
    text = Client().get("/api/v1/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', text)
    static = [a for a in assets if a.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/")]
    assert len(static) >= 3, assets
    from django.contrib.staticfiles import finders

    for asset in static:
        assert finders.find(asset.removeprefix("/static/")), asset


def test_every_operation_documents_the_error_shape(db):
    import yaml

    schema = yaml.safe_load(SCHEMA.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("401", "403", "429", "500"):
                ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)
