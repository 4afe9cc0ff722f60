"""A learner who finished a course (by fixture) finds the certificate and downloads its PDF; anyone
opens the verification page without logging in."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

COURSE = "neural-networks-and-deep-learning"


@pytest.fixture
def certified(demo_content, monkeypatch):
    """A subscriber who completed the first course: the completion signal queues the Celery task, which
    runs here in-process so the test sees the certificate it issues."""
    from certificates import tasks
    from courses import services
    from courses.models import Course
    from tests.factories import SubscriptionFactory

    monkeypatch.setattr(tasks.issue_course_certificate, "delay", lambda *a: tasks.issue_course_certificate(*a))
    learner = SubscriptionFactory(user__email="grad@example.com", user__name="Katherine Johnson").user
    services.course_completion_record(user=learner, course=Course.objects.get(slug=COURSE))
    return learner


def test_finish_a_course_and_download_the_certificate(page, live_server, certified, tmp_path):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(certified.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()

    page.goto(live_server.url + f"/courses/{COURSE}/")
    expect(page.locator("[data-completion]")).to_contain_text("You completed this course")
    page.screenshot(path="test-artifacts/course-completed.png", full_page=True)
    page.get_by_role("link", name="My progress").click()
    expect(page.get_by_text("1 of 5 courses completed")).to_be_visible()
    page.screenshot(path="test-artifacts/progress-specialization.png", full_page=True)
    page.get_by_role("link", name="Certificates").click()
    expect(page.get_by_role("heading", name="My certificates")).to_be_visible()
    page.get_by_role("link", name="Neural Networks and Deep Learning").click()
    expect(page.locator("[data-certificate-status]")).to_contain_text("Valid certificate")
    expect(page.get_by_role("heading", name="Katherine Johnson")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.name.startswith("certificate-") and target.read_bytes().startswith(b"%PDF-")
    page.screenshot(path="test-artifacts/certificate-owner.png", full_page=True)


def test_open_the_verification_page_logged_out(page, live_server, certified):
    from certificates.models import Certificate

    certificate = Certificate.objects.get(user=certified)
    page.goto(live_server.url + f"/certificates/{certificate.public_id}/")
    expect(page.locator("[data-certificate-status]")).to_contain_text("Valid certificate")
    expect(page.get_by_role("heading", name="Katherine Johnson")).to_be_visible()
    expect(page.get_by_role("heading", name="Neural Networks and Deep Learning")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()  # nobody is logged in
    og_title = page.locator('meta[property="og:title"]').get_attribute("content")
    assert og_title == "Katherine Johnson · Neural Networks and Deep Learning"
    expect(page.get_by_role("link", name="LinkedIn")).to_have_attribute("href", re.compile("linkedin.com"))

    certificate.revoked_at = certificate.issued_at
    certificate.revoked_reason = "Issued by mistake."
    certificate.save()
    page.reload()
    expect(page.locator("[data-certificate-status]")).to_contain_text("Revoked")
    expect(page.locator("[data-certificate-status]")).to_contain_text("Issued by mistake.")
