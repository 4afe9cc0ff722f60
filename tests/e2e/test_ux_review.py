"""Findings of the browser review, checked in a browser: the offer on locked content for a visitor,
one h1 on a reading, readable small orange text, and a compact header on a phone."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

COURSE = "/courses/neural-networks-and-deep-learning/"
LOCKED_READING = COURSE + "week-1-notes/"


@pytest.fixture
def plan(transactional_db):
    from tests.factories import PlanFactory

    return PlanFactory()


def test_visitor_sees_what_locked_content_costs_and_how_to_start(page, live_server, demo_content, plan):
    page.goto(live_server.url + "/")
    spec_url = page.get_by_role("link", name="Explore the specialization").get_attribute("href")
    for path, name in (("/", "home"), ("/courses/", "catalog"), (spec_url, "specialization")):
        page.goto(live_server.url + path)
        expect(page.locator("[data-subscribe-cta]")).to_have_count(1)
        expect(page.locator("[data-offer]")).to_contain_text("Try everything free for 7 days, then $49/month")
        page.screenshot(path=f"test-artifacts/ux-offer-{name}.png", full_page=True)

    page.goto(live_server.url + COURSE)
    explainer = page.locator("[data-locked-explainer]")
    expect(explainer).to_contain_text("Items with a lock are part of the subscription.")
    expect(explainer).to_contain_text("$49/month")
    page.screenshot(path="test-artifacts/ux-course-lock-explainer.png", full_page=True)

    assert page.goto(live_server.url + LOCKED_READING).status == 403
    locked = page.locator("[data-locked]")
    expect(locked).to_contain_text("Try everything free for 7 days, then $49/month")
    page.screenshot(path="test-artifacts/ux-locked-reading-visitor.png", full_page=True)
    locked.get_by_role("link", name="Sign up to start your free trial").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/\?next=/billing/$"))


def test_reading_has_one_h1_and_readable_crumbs(page, live_server, demo_content):
    from tests.factories import SubscriptionFactory

    learner = SubscriptionFactory(user__email="reader@example.com").user
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    page.goto(live_server.url + LOCKED_READING)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Supervised Learning with Neural Networks")
    # #a35200 on the page background is 5.2:1 (WCAG AA needs 4.5:1 for this 14px text).
    expect(page.locator(".crumbs").first).to_have_css("color", "rgb(163, 82, 0)")
    page.screenshot(path="test-artifacts/ux-reading-one-h1.png", full_page=True)


def test_phone_header_has_a_menu_with_every_link_reachable_by_keyboard(browser, live_server, demo_content, plan):
    from tests.e2e.conftest import ARTIFACTS
    from tests.factories import UserFactory

    learner = UserFactory(email="phone@example.com", name="Phone Learner")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill(learner.email)
        page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
        page.get_by_role("button", name="Sign In").click()
        page.goto(live_server.url + COURSE)
        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= 70, header  # one short row: the brand and the Menu button
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        menu = page.get_by_role("button", name="Menu")
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        for name in ("Courses", "My progress", "Certificates", "Billing", "Phone Learner"):
            link = nav.get_by_role("link", name=name)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, name
        logout = nav.get_by_role("button", name="Log out")
        expect(logout).to_be_visible()
        page.keyboard.press("Tab")  # the next stop after the button is the first link of the menu
        expect(nav.get_by_role("link", name="Courses")).to_be_focused()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ux-phone-menu-open.png"))
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()
    finally:
        context.close()


def test_without_javascript_every_header_link_stays_on_the_page(browser, live_server, demo_content, plan):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + COURSE)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        nav = page.get_by_role("navigation", name="Main")
        for name in ("Courses", "Heroes of Deep Learning", "Log in", "Sign up"):
            link = nav.get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, name
    finally:
        context.close()
