"""A learner gets notifications, sees the count in the header, opens one, chooses the daily digest, and
unsubscribes from an e-mail's link; the header fits a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from notifications import api, registry, services
from tests.e2e.conftest import ARTIFACTS
from tests.notifications.kinds import DEMO, register_demo_kinds

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_kinds():
    saved = dict(registry._kinds)
    register_demo_kinds()
    yield
    registry._kinds.clear()
    registry._kinds.update(saved)


@pytest.fixture
def learner(transactional_db):
    from tests.factories import CourseFactory, UserFactory

    CourseFactory(title="Neural Networks and Deep Learning")
    return UserFactory(email="ada@example.com", name="Ada Lovelace")


def log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()


def site_path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_learner_opens_a_notification_chooses_the_digest_and_unsubscribes(
    page, live_server, learner, demo_kinds, celery_eager
):
    api.notify(
        event_key="demo.event:1",
        kind=DEMO,
        recipient_ids=[learner.pk],
        title="Grace replied in “Vanishing gradients”",
        body="Try a ReLU and He initialization.",
        url="/accounts/profile/",
    )
    api.notify(event_key="demo.event:2", kind=DEMO, recipient_ids=[learner.pk], title="Week 2 is open", url="/courses/")
    assert len(mail.outbox) == 2  # immediate e-mails, sent after the commit (Celery runs in-process here)

    log_in(page, live_server, learner)
    bell = page.get_by_role("link", name="Notifications, 2 unread")
    expect(bell).to_be_visible()
    expect(bell.locator("[data-unread-count]")).to_have_text("2")
    page.screenshot(path=str(ARTIFACTS / "notifications-header-desktop.png"))

    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.get_by_role("list", name="Notifications, newest first").get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Week 2 is open")  # newest first
    expect(page.locator(".notification.is-unread")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "notifications-list-desktop.png"), full_page=True)

    page.get_by_role("link", name=re.compile("Grace replied")).click()
    expect(page).to_have_url(live_server.url + "/accounts/profile/")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()

    # Keyboard: the bell is reachable and says what it is.
    page.get_by_role("link", name="Notifications, 1 unread").focus()
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".notification.is-unread")).to_have_count(1)

    # Choose the daily digest for this kind.
    page.get_by_role("link", name="e-mail preferences").click()
    group = page.get_by_role("group", name="Demo events")
    expect(group.get_by_label("E-mail me right away")).to_be_checked()
    group.get_by_label("Daily digest").check()
    page.get_by_role("button", name="Save e-mail choices").click()
    expect(page.get_by_text("Your e-mail choices are saved.")).to_be_visible()
    expect(page.get_by_role("group", name="Demo events").get_by_label("Daily digest")).to_be_checked()
    page.screenshot(path=str(ARTIFACTS / "notifications-preferences-desktop.png"), full_page=True)
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == api.EMAIL_DIGEST

    # The next one waits for the digest; the digest e-mail carries the one-click link.
    api.notify(event_key="demo.event:3", kind=DEMO, recipient_ids=[learner.pk], title="A new reading is up")
    assert len(mail.outbox) == 2
    assert services.digests_send() == 1
    services.outbox_deliver_due()
    digest = mail.outbox[-1]
    assert "A new reading is up" in digest.body
    link = re.search(r"Stop the daily digest \(one click\): (\S+)", digest.body).group(1)

    # Mark all read (htmx) updates the list and the bell in place.
    page.goto(live_server.url + "/notifications/")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".notification.is-unread")).to_have_count(0)
    expect(page.get_by_role("link", name="Notifications, none unread")).to_be_visible()
    expect(page.locator("#notification-status")).to_have_text("All notifications are marked read.")

    # Unsubscribe from the e-mail, logged out: a confirmation page, then a button.
    page.get_by_role("button", name="Log out").click()
    page.goto(live_server.url + site_path(link))
    expect(page.get_by_role("heading", name="Stop the daily digest?")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "notifications-unsubscribe-desktop.png"), full_page=True)
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == api.EMAIL_DIGEST  # looking changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == api.EMAIL_NONE


def test_the_bell_fits_a_phone_header(browser, live_server, learner, demo_kinds):
    from tests.factories import NotificationFactory

    NotificationFactory.create_batch(120, recipient=learner)  # the widest badge: "99+"
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server, learner)
        page.goto(live_server.url + "/courses/")
        bell = page.get_by_role("link", name="Notifications, 99+ unread")
        expect(bell).to_be_visible()
        box = bell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # in view without scrolling the menu
        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= 100, header
        brand = page.locator(".brand").bounding_box()
        assert brand["x"] + brand["width"] <= box["x"] + 1  # the brand never runs under the bell
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows the page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notifications-header-phone.png"))

        bell.click()
        expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "notifications-list-phone.png"), full_page=True)
        page.goto(live_server.url + "/notifications/preferences/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "notifications-preferences-phone.png"), full_page=True)
    finally:
        context.close()
