"""A learner makes an API token on their profile, copies it (shown once), uses it from a script, sees
its last use, and revokes it; the page fits a phone and passes axe-core. Then the docs page loads."""

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import axe_findings, horizontal_overflow

pytestmark = pytest.mark.e2e


@pytest.fixture
def learner(transactional_db):
    from tests.factories import CourseFactory, SubscriptionFactory

    CourseFactory(title="Neural Networks and Deep Learning")
    return SubscriptionFactory(user__email="ada@example.com", user__name="Ada Lovelace").user


def log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()


def call_api(live_server, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(live_server.url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_learner_makes_uses_and_revokes_a_token(page, live_server, learner):
    log_in(page, live_server, learner)
    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()

    page.get_by_label("Name").fill("Grade export script")
    page.get_by_label("Read and write: also submit work, post, record progress").check()
    page.get_by_label("Expires after").select_option("90")
    page.get_by_role("button", name="Make token").click()

    secret = page.locator("[data-token-value]").inner_text().strip()
    assert secret.startswith("dlpat_")
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    row = page.locator("tr", has_text="Grade export script")
    expect(row).to_contain_text("read, write")
    expect(row).to_contain_text("never")
    page.screenshot(path=str(ARTIFACTS / "api-tokens-desktop.png"), full_page=True)
    assert axe_findings(page) == []

    status, me = call_api(live_server, "/api/v1/me/", secret)
    assert (status, me["email"], me["scope"]) == (200, "ada@example.com", ["read", "write"])

    page.goto(live_server.url + "/accounts/profile/tokens/")  # reloading never shows the secret again
    assert secret not in page.content()
    expect(page.locator("tr", has_text="Grade export script")).not_to_contain_text("never")

    page.set_viewport_size({"width": 390, "height": 844})
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(ARTIFACTS / "api-tokens-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Revoke Grade export script").click()
    expect(page.get_by_text("revoked: it no longer works")).to_be_visible()
    expect(page.locator("tr", has_text="Grade export script")).to_contain_text("Revoked")
    status, error = call_api(live_server, "/api/v1/me/", secret)
    assert status == 401 and "revoked" in error["error"]["message"]


def test_the_api_docs_page_renders_from_local_files(page, live_server, learner):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(live_server.url + "/api/v1/docs/")
    expect(page.get_by_text("Deep Learning platform API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/submissions/").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "api-docs-desktop.png"))
    assert outside == []
