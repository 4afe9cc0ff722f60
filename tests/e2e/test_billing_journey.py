"""A learner starts a free trial with a test card on the local card page (localstripe), watches a paid
lecture, cancels, completes a course (by fixture), sees the subscription end through localstripe's real
webhook, and still opens that course, but not another."""

import re
import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.page_checks import wait_until

pytestmark = pytest.mark.e2e

PAID = "/courses/neural-networks-and-deep-learning/logistic-regression-as-a-neural-network/"
OTHER_COURSE = "improving-deep-neural-networks"


@pytest.fixture
def paid_lecture_video(demo_content, settings):
    from courses import media
    from courses.models import Lecture

    lecture = Lecture.objects.get(item__slug="logistic-regression-as-a-neural-network")
    relative = f"lectures/e2e-paid-{lecture.pk}.mp4"
    media.render_video(
        title=lecture.item.title, subtitle="e2e", cues=lecture.captions[:2], out_path=settings.MEDIA_ROOT / relative
    )
    Lecture.objects.filter(pk=lecture.pk).update(video=relative)
    return lecture


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_trial_watch_cancel_complete_end_and_keep_the_completed_course(
    page, live_server, paid_lecture_video, stripe_local, celery_eager
):
    from billing import gateway
    from billing.models import Subscription, WebhookEvent
    from courses import services as course_services
    from courses.models import Course, Item
    from tests.factories import UserFactory

    time.sleep(1.2)  # earlier tests' late localstripe deliveries drain to the discard URL
    gateway.current().webhook_register(
        url=f"{live_server.url}/billing/stripe/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    learner = UserFactory(email="grace@example.com")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()

    # A paid lecture is locked before the trial, and says what it costs and how to get it.
    assert page.goto(live_server.url + PAID).status == 403
    cta = page.locator("[data-locked] [data-subscribe-cta]")
    expect(cta).to_contain_text("Try everything free for 7 days, then $49/month for all five courses.")
    page.screenshot(path=str(_artifacts() / "billing-locked-item-cta.png"), full_page=True)
    cta.get_by_role("link", name="Start your 7-day free trial").click()

    # Start the trial with a test card on the local card page.
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    expect(page.get_by_text("$49.00 a month for all five courses")).to_be_visible()
    page.screenshot(path=str(_artifacts() / "billing-before-trial.png"), full_page=True)
    page.get_by_role("button", name="Start your 7-day free trial").click()
    expect(page.get_by_role("heading", name="Start your 7-day free trial")).to_be_visible()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.screenshot(path=str(_artifacts() / "billing-local-card-page.png"), full_page=True)
    page.get_by_role("button", name="Start free trial").click()
    expect(page.get_by_role("heading", name="Your free trial has started")).to_be_visible()
    expect(page.locator("[data-first-charge]")).to_have_text("$49.00")
    trial_end = Subscription.objects.get(user=learner).trial_end
    expect(page.locator("[data-trial-end]")).to_have_text(f"{trial_end:%A %-d %B %Y}")
    page.screenshot(path=str(_artifacts() / "billing-welcome.png"), full_page=True)
    wait_for(lambda: WebhookEvent.objects.filter(type="customer.subscription.created", status="processed").exists())

    # Watch the paid lecture.
    page.goto(live_server.url + PAID)
    expect(page.get_by_role("heading", name="Logistic Regression as a Neural Network")).to_be_visible()
    page.locator("video").evaluate("v => { v.muted = true; return v.play(); }")
    wait_until(page, "document.querySelector('video').currentTime > 0.5")

    # The countdown counts the whole first day: 7 days left right after starting.
    page.get_by_role("link", name="Billing").click()
    expect(page.locator("[data-billing-state]")).to_have_text("Free trial")
    expect(page.locator(".billing-big").first).to_have_text("7 days left in your free trial")

    # Cancel: the learner confirms first and is told the exact date access ends (the trial's end).
    page.get_by_role("link", name="Cancel subscription").click()
    ends = f"{trial_end:%-d %B %Y}"
    expect(page.locator("[data-cancel-confirm] [data-ends-at]")).to_have_text(ends)
    page.screenshot(path=str(_artifacts() / "billing-cancel-confirm.png"), full_page=True)
    page.get_by_role("button", name="Yes, cancel my subscription").click()
    expect(page.get_by_text(f"Your subscription ends on {ends}; completed courses stay open.")).to_be_visible()
    expect(page.get_by_role("button", name="Resume subscription")).to_be_visible()
    page.screenshot(path=str(_artifacts() / "billing-canceled.png"), full_page=True)

    # Complete the first course (by fixture), then let the subscription end: Stripe deletes it at the
    # period's end and its webhook arrives.
    first = Course.objects.get(slug="neural-networks-and-deep-learning")
    course_services.course_completion_record(user=learner, course=first)
    sub = Subscription.objects.get(user=learner)
    gateway.client().v1.subscriptions.cancel(sub.stripe_subscription_id)
    wait_for(lambda: WebhookEvent.objects.filter(type="customer.subscription.deleted", status="processed").exists())

    page.get_by_role("link", name="Billing").click()
    expect(page.locator("[data-billing-state]")).to_have_text("Canceled or expired")
    expect(page.get_by_text("The courses you completed stay open to you, forever.")).to_be_visible()

    # The completed course stays open; another course is closed.
    response = page.goto(live_server.url + PAID)
    assert response.status == 200
    expect(page.locator("video")).to_be_visible()
    other = Item.objects.filter(course__slug=OTHER_COURSE, is_preview=False, kind="lecture").first()
    locked = page.goto(live_server.url + other.get_absolute_url())
    assert locked.status == 403
    page.goto(live_server.url + "/courses/" + OTHER_COURSE + "/")
    expect(page.get_by_role("heading", name="Syllabus")).to_be_visible()

    gateway.current().webhook_register(url="http://127.0.0.1:9/discard", secret=settings.STRIPE_WEBHOOK_SECRET)
    time.sleep(1.2)


def _artifacts():
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def test_a_second_tab_cannot_start_a_second_subscription(page, live_server, stripe_local):
    """Two tabs on the card page: the first starts the trial, the second is told, and nothing more is made."""
    from billing.models import Subscription
    from tests.factories import UserFactory

    learner = UserFactory(email="two.tabs@example.com")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    tabs = [page, page.context.new_page()]
    for tab in tabs:  # both tabs reach the card page before either is submitted
        tab.goto(live_server.url + "/billing/")
        tab.get_by_role("button", name="Start your 7-day free trial").click()
        expect(tab.get_by_role("heading", name="Start your 7-day free trial")).to_be_visible()

    first, second = tabs
    first.get_by_role("button", name="Start free trial").click()
    expect(first.get_by_role("heading", name="Your free trial has started")).to_be_visible()
    second.get_by_role("button", name="Start free trial").click()

    # The second tab is taken to the billing page, which says why and shows the one trial.
    expect(second.get_by_role("heading", name="Billing")).to_be_visible()
    expect(second.get_by_text("You already have an active subscription.")).to_be_visible()
    expect(second.locator("[data-billing-state]")).to_have_text("Free trial")
    second.screenshot(path=str(_artifacts() / "billing-second-tab-refused.png"), full_page=True)
    second.set_viewport_size({"width": 390, "height": 844})
    second.screenshot(path=str(_artifacts() / "billing-second-tab-refused-phone.png"), full_page=True)
    assert Subscription.objects.filter(user=learner).count() == 1
    second.close()
