"""Staff in the admin: end a learner's subscription now (through localstripe and the webhook), after which
a completed course stays open and another closes; and the financial-aid round trip: a learner applies,
staff approve in the review queue, the course opens."""

import datetime
import re
import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import axe_findings, horizontal_overflow

pytestmark = pytest.mark.e2e

DONE_LECTURE = "/courses/neural-networks-and-deep-learning/logistic-regression-as-a-neural-network/"
OTHER_COURSE = "improving-deep-neural-networks"
PASSWORD = "correct-horse-battery"


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def log_in_admin(page, live_server, user):
    page.goto(live_server.url + "/admin/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("administration", re.I))).to_be_visible()


def log_in_learner(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/courses/"))


def shots(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def check_page(page):
    """No sideways scrolling and no serious or critical axe finding, at phone and desktop width."""
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        assert horizontal_overflow(page) == [], width
        assert axe_findings(page) == [], width


def other_lecture_url():
    from courses.models import Item

    return Item.objects.filter(course__slug=OTHER_COURSE, is_preview=False, kind="lecture").first().get_absolute_url()


def test_admin_ends_a_subscription_now_and_the_completed_course_stays_open(
    browser, page, live_server, demo_content, stripe_local, celery_eager
):
    from django.core import mail
    from django.test import Client

    from billing import gateway
    from billing.models import StaffAction, Subscription, WebhookEvent
    from courses import services as course_services
    from courses.models import Course
    from tests.billing.test_localstripe import start_trial
    from tests.factories import UserFactory

    time.sleep(1.2)  # earlier tests' late localstripe deliveries drain to the discard URL
    gateway.current().webhook_register(
        url=f"{live_server.url}/billing/stripe/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    learner = UserFactory(email="lovelace@example.com", name="Ada Lovelace")
    start_trial(Client(), learner)
    sub = Subscription.objects.get(user=learner)
    course_services.course_completion_record(user=learner, course=Course.objects.get(order=1))
    admin_user = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)

    log_in_admin(page, live_server, admin_user)
    page.goto(live_server.url + "/admin/billing/subscription/")
    page.get_by_role("link", name=str(learner), exact=False).first.click()
    expect(page.get_by_role("heading", name="Manage this subscription through Stripe")).to_be_visible()
    page.get_by_role("link", name="End now (no refund)").click()
    expect(page.get_by_role("heading", name=re.compile(r"^End now \(no refund\): lovelace@"))).to_be_visible()
    page.get_by_label(re.compile("^Reason")).fill("Asked by e-mail to stop today")
    shots(page, "admin-subscription-end-now")
    page.get_by_role("button", name="Confirm: End now (no refund)").click()

    expect(page.get_by_text("End now (no refund): done through Stripe.")).to_be_visible()
    inline = page.locator("#staff_actions-group")
    expect(inline).to_contain_text("Asked by e-mail to stop today")
    expect(inline).to_contain_text("staff@example.com")
    shots(page, "admin-subscription-after-end-now")
    assert gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id).status == "canceled"
    action = StaffAction.objects.get()
    assert action.staff == admin_user and action.kind == "end_now"
    # localstripe's own event arrives through the webhook and finds the state already applied.
    wait_for(lambda: WebhookEvent.objects.filter(type="customer.subscription.deleted", status="processed").exists())
    wait_for(lambda: any("has ended" in m.subject for m in mail.outbox))
    ended = [m for m in mail.outbox if m.to == [learner.email] and "has ended" in m.subject]
    assert len(ended) == 1 and "Neural Networks and Deep Learning" in ended[0].body

    learner_context = browser.new_context(viewport={"width": 390, "height": 844})
    learner_page = learner_context.new_page()
    try:
        log_in_learner(learner_page, live_server, learner)
        assert learner_page.goto(live_server.url + DONE_LECTURE).status == 200
        assert learner_page.goto(live_server.url + other_lecture_url()).status == 403
        expect(learner_page.get_by_text("Your subscription has ended").first).to_be_visible()
    finally:
        learner_context.close()
    gateway.current().webhook_register(url="http://127.0.0.1:9/discard", secret=settings.STRIPE_WEBHOOK_SECRET)
    time.sleep(1.2)


def test_apply_for_financial_aid_staff_approve_and_the_course_opens(
    browser, page, live_server, demo_content, celery_eager
):
    from django.core import mail

    from billing.models import FinancialAidApplication
    from tests.factories import UserFactory

    learner = UserFactory(email="hopper@example.com", name="Grace Hopper")
    admin_user = UserFactory(email="reviewer@example.com", is_staff=True, is_superuser=True)
    log_in_learner(page, live_server, learner)
    assert page.goto(live_server.url + other_lecture_url()).status == 403

    page.goto(live_server.url + "/billing/")
    check_page(page)
    page.get_by_role("link", name="Apply for financial aid").click()
    expect(page.get_by_role("heading", name="Financial aid", exact=True)).to_be_visible()
    check_page(page)
    page.get_by_label("Why can you not pay for the subscription?").fill("I am a student without an income this year.")
    page.get_by_label("What do you want to do with what you learn?").fill("Build a speech model for my language.")
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_text("your application is in")).to_be_visible()
    expect(page.locator("[data-aid-status=pending]")).to_contain_text("Waiting for review")
    shots(page, "financial-aid-applied")

    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff = staff_context.new_page()
    try:
        log_in_admin(staff, live_server, admin_user)
        staff.goto(live_server.url + "/admin/billing/financialaidapplication/")
        expect(staff.get_by_text("hopper@example.com")).to_be_visible()
        staff.get_by_role("link", name="Review application").click()
        expect(staff.get_by_text("I am a student without an income this year.")).to_be_visible()
        until = datetime.date.today() + datetime.timedelta(days=120)
        staff.get_by_label("Free access until (approve)").fill(until.isoformat())
        staff.get_by_label(re.compile("^Note to the learner")).fill("Enjoy the courses.")
        shots(staff, "admin-financial-aid-review")
        staff.get_by_role("button", name="Approve and grant access").click()
        expect(staff.get_by_text("Approved: ")).to_be_visible()
    finally:
        staff_context.close()

    assert FinancialAidApplication.objects.get().status == "approved"
    wait_for(lambda: any(m.to == [learner.email] and "approved" in m.subject for m in mail.outbox))
    assert page.goto(live_server.url + other_lecture_url()).status == 200
    page.goto(live_server.url + "/billing/financial-aid/")
    expect(page.locator("[data-aid-status=approved]")).to_contain_text(f"free access until {until:%-d %B %Y}")
    shots(page, "financial-aid-approved")
    page.goto(live_server.url + "/billing/")
    expect(page.locator("[data-grant]")).to_contain_text(
        f"Free access (financial aid) to every course until {until:%-d %B %Y}"
    )
    check_page(page)
    shots(page, "billing-with-financial-aid")
