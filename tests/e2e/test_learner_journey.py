"""A newcomer signs up, verifies their e-mail, finds a lecture, watches it, and sees progress saved."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.page_checks import wait_until

pytestmark = pytest.mark.e2e


def test_sign_up_verify_watch_a_lecture_and_see_progress(page, live_server, demo_content):
    from tests.factories import PlanFactory

    PlanFactory()  # the $49/month plan with its 7-day trial (make run creates it with billing_setup)
    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="Deep Learning Specialization")).to_be_visible()

    # The home page mentions the price and the free trial once, with a way in.
    expect(page.locator("[data-subscribe-cta]")).to_have_count(1)
    expect(page.locator("[data-subscribe-cta]")).to_contain_text("$49/month")

    # Sign up. A weak password is refused, with the reasons under the password field.
    page.get_by_role("link", name="Sign up", exact=True).click()
    # The full name comes first, with a live preview of how certificates will print it.
    page.get_by_label("Full name").fill("Ada   King Lovelace")
    expect(page.locator("[data-name-preview]")).to_have_text("Ada King Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill("1234")
    page.get_by_label(re.compile(r"^Password \(again\)")).fill("1234")
    page.get_by_role("button", name="Sign up").click()
    errors = page.locator("#id_password1-errors")
    expect(errors).to_contain_text("too short")
    expect(page.get_by_label(re.compile(r"^Password:?$"))).to_have_attribute(
        "aria-describedby", re.compile("id_password1-errors")
    )
    password_box = page.locator("#id_password1").bounding_box()
    email_box = page.locator("#id_email").bounding_box()
    assert email_box["y"] < password_box["y"] < errors.bounding_box()["y"]
    page.screenshot(path="test-artifacts/signup-password-errors.png", full_page=True)
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill("analytical-engine-1843")
    page.get_by_label(re.compile(r"^Password \(again\)")).fill("analytical-engine-1843")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Verify Your Email Address")).to_be_visible()
    from accounts.models import User

    assert User.objects.get(email="ada@example.com").name == "Ada King Lovelace"

    # Verify the e-mail address with the link from the message.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(live_server.url + "/accounts/" + link.split("/accounts/", 1)[1])
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("link", name="My progress")).to_be_visible()

    # Browse: catalog → course → first lecture.
    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_role("link", name="Neural Networks and Deep Learning").click()
    expect(page.get_by_role("heading", name="Syllabus")).to_be_visible()
    page.get_by_role("link", name="Start the course").click()
    expect(page.get_by_role("heading", name="What is a Neural Network?")).to_be_visible()

    # Watch: double speed, start from the transcript, let it play to the end.
    video = page.locator("video")
    page.get_by_label("Playback speed").select_option("2")
    page.locator("[data-transcript] button").first.click()
    wait_until(page, "document.querySelector('video').currentTime > 1")
    expect(page.locator("[data-transcript] button.active")).to_have_count(1)
    wait_until(page, "document.querySelector('video').ended", timeout=30_000)
    expect(page.locator("[data-status]")).to_have_text("✓ Completed", timeout=10_000)
    assert video.evaluate("v => v.playbackRate") == 2

    # Progress survives a reload and shows on the course and progress pages.
    page.reload()
    expect(page.locator("[data-status]")).to_have_text("✓ Completed")
    page.get_by_role("link", name="Neural Networks and Deep Learning").first.click()
    expect(page.locator("[data-course-measures]")).to_contain_text("Material viewed 5 % (1 of 20 items)")
    page.get_by_role("link", name="My progress").click()
    week_one = page.get_by_role("progressbar", name="Neural Networks and Deep Learning, week 1")
    expect(week_one).to_have_attribute("aria-valuenow", "25")  # 1 of the 4 items of week 1


def test_transcript_click_seeks_and_resume_returns_there(page, live_server, demo_content):
    from tests.factories import UserFactory

    learner = UserFactory(email="resume@example.com")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    page.goto(live_server.url + "/courses/neural-networks-and-deep-learning/what-is-a-neural-network/")

    page.locator("[data-transcript] button").nth(2).click()
    wait_until(page, "document.querySelector('video').currentTime >= 7")
    with page.expect_response(lambda r: "/progress/items/" in r.url and r.request.method == "POST" and r.ok):
        page.locator("video").evaluate("v => v.pause()")  # the pause handler posts the position

    page.reload()
    wait_until(page, "document.querySelector('video').currentTime >= 6.5")
    expect(page.locator("[data-status]")).to_contain_text("Resuming from 0:0")
