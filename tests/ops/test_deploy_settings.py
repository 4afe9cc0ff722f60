"""Production settings pass `manage.py check --deploy` with no warning, and every page carries a content
security policy that allows no inline script."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess per test: make check skips it; make test runs it

ROOT = Path(__file__).resolve().parents[2]


def production(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MEDIA_", "CSP_"))} | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "courses.example.com",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_with_no_warning():
    result = production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_hsts_turned_down_on_purpose_is_not_reported():
    result = production(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SECURE_HSTS_PRELOAD="false", DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_media_from_an_object_store_may_play_in_the_page():
    code = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['media-src'])"
    result = production(
        "shell", "-c", code,
        MEDIA_STORAGE="s3", MEDIA_S3_BUCKET="media", MEDIA_S3_ENDPOINT_URL="https://objects.example.org:9000/",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[\"'self'\", 'https://objects.example.org:9000']"


@pytest.mark.django_db
def test_every_page_carries_a_policy_without_inline_script(client):
    response = client.get("/accounts/login/")
    policy = {
        part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split(";") if part.strip()
    }
    assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert not any("'unsafe-eval'" in sources for sources in policy.values())
