"""Issue 14's whole journey, at phone width and at desktop width, on the demo pack as `make run` serves it:
a newcomer signs up with their name, starts the free trial with a test card (localstripe), completes the
first course (every quiz answered in the browser, the programming assignment written in the in-browser
editor and graded in the Docker sandbox), sees the certificate with their name, cancels (and is e-mailed),
an admin ends the subscription now (in the admin, through Stripe), the completed course still opens and
another does not, and the "Keep your course" download works.

Celery tasks run in-process when sent (as a worker would run them moments later under `make run`):
grading in the sandbox, the completion rule, the certificate, the e-mails, the course zip."""

import io
import json
import re
import time
import zipfile

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
COURSE = "neural-networks-and-deep-learning"
OTHER_COURSE = "improving-deep-neural-networks"
ASSIGNMENT = "vectorised-logistic-regression"
NAME = "Ada King Lovelace"
PASSWORD = "analytical-engine-1843"


@pytest.fixture
def journey_world(demo_content, docker_engine, stripe_local, celery_eager, live_server):
    """The demo pack with the first course's grader self-checked and published in the sandbox (what
    `make run` does with `publish_graders`), the $49 plan in localstripe, and its webhooks sent to the
    live server."""
    from django.core.management import call_command

    from billing import gateway

    call_command("publish_graders", assignment=ASSIGNMENT, stdout=io.StringIO())
    time.sleep(1.2)  # earlier tests' late localstripe deliveries drain to the discard URL
    gateway.current().webhook_register(
        url=f"{live_server.url}/billing/stripe/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    yield
    gateway.current().webhook_register(url="http://127.0.0.1:9/discard", secret=settings.STRIPE_WEBHOOK_SECRET)
    time.sleep(1.2)


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def nav(page, name):
    """Follow a link of the main navigation, opening the phone menu first when there is one."""
    toggle = page.locator("[data-menu-toggle]")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def shot(page, width, name):
    ARTIFACTS.mkdir(exist_ok=True)
    assert not horizontal_overflow(page), (name, horizontal_overflow(page))
    page.screenshot(path=str(ARTIFACTS / f"journey14-{width}-{name}.png"), full_page=True)


def sign_up(page, live_server, email):
    page.goto(live_server.url)
    nav(page, "Sign up")
    page.get_by_label("Full name").fill(NAME)
    expect(page.locator("[data-name-preview]")).to_have_text(NAME)
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password \(again\)")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Verify Your Email Address")).to_be_visible()
    confirm = next(m for m in mail.outbox if m.to == [email])
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", confirm.body).group(0)
    page.goto(live_server.url + "/accounts/" + link.split("/accounts/", 1)[1])
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(f"Successfully signed in as {email}.")).to_be_visible()
    expect(page.locator(".nav-user")).to_have_text(NAME)  # the header greets them by name (in the menu on a phone)


def start_trial(page, width):
    from billing.models import WebhookEvent

    nav(page, "Billing")
    page.get_by_role("button", name="Start your 7-day free trial").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    shot(page, width, "card")
    page.get_by_role("button", name="Start free trial").click()
    expect(page.get_by_role("heading", name="Your free trial has started")).to_be_visible()
    wait_for(lambda: WebhookEvent.objects.filter(type="customer.subscription.created", status="processed").exists())


def answer_right(page, attempt):
    """Answer every question of the attempt right, the way a learner would; the test knows the answers."""
    for row in attempt.questions.select_related("question").prefetch_related("question__options").order_by("position"):
        question = row.question
        fieldset = page.locator(f"#question-{row.position}")
        if question.kind in ("single", "multiple"):
            right = [o for o in question.options.all() if o.is_correct]
            for option in right[: 1 if question.kind == "single" else None]:
                fieldset.locator(f'input[value="{option.pk}"]').check()
        elif question.kind == "numeric":
            fieldset.get_by_role("textbox").fill(format(question.numeric_answer, ".12g"))
        else:
            fieldset.get_by_role("textbox").fill(question.text_answers[0])


def pass_the_quizzes(page, live_server, learner):
    from quizzes.models import Attempt, Quiz

    for quiz in Quiz.objects.filter(item__course__slug=COURSE).order_by("item__week__number", "item__order"):
        page.goto(live_server.url + quiz.item.get_absolute_url())
        page.get_by_role("button", name="Start the quiz").click()
        expect(page.get_by_role("button", name="Submit answers")).to_be_visible()
        answer_right(page, Attempt.objects.filter(user=learner, quiz=quiz).latest("number"))
        page.get_by_role("button", name="Submit answers").click()
        expect(page.get_by_role("heading", name="You passed")).to_be_visible()


def write_the_assignment_in_the_editor(page, live_server, width):
    """Open the assignment, go to the in-browser editor and write the reference solution's code into the
    cells the learner may edit; submitting grades it in the sandbox."""
    from courses.models import Item
    from grading.spec import cell_source

    item = Item.objects.get(course__slug=COURSE, slug=ASSIGNMENT)
    solution_path = settings.BASE_DIR / "content" / "demo" / "courses" / COURSE / "assignments" / ASSIGNMENT
    solution = json.loads((solution_path / "solution.ipynb").read_text())
    page.goto(live_server.url + item.get_absolute_url())
    page.get_by_role("link", name=re.compile("in the browser", re.I)).first.click()
    expect(page.get_by_role("heading", name="Work in the browser", level=1)).to_be_visible()
    for index, cell in enumerate(solution["cells"]):
        editor = page.locator(f".cm-content[data-cell='cell-{index}']")
        if cell["cell_type"] != "code" or editor.count() == 0:
            continue
        source = cell_source(cell)
        if editor.inner_text().strip() == source.strip():
            continue
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(source)
    shot(page, width, "editor")
    page.get_by_role("button", name="Submit this notebook").click()
    expect(page.get_by_role("heading", name="Attempt 1")).to_be_visible(timeout=120_000)
    expect(page.locator(".score-card.is-passed")).to_be_visible(timeout=120_000)


def admin_ends_the_subscription_now(browser, live_server, learner, width):
    """Staff, in their own browser at the same width: the subscription's page in the admin, "End now (no
    refund)" with a reason; the admin asks Stripe and shows its answer."""
    from billing.models import StaffAction
    from tests.factories import UserFactory

    staff = UserFactory(email=f"staff.{width}@example.com", is_staff=True, is_superuser=True)
    context = browser.new_context(viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    context.set_default_timeout(30_000)
    admin = context.new_page()
    try:
        admin.goto(live_server.url + "/admin/login/")
        admin.locator("#id_username").fill(staff.email)
        admin.locator("#id_password").fill("correct-horse-battery")
        admin.get_by_role("button", name="Log in").click()
        admin.goto(live_server.url + "/admin/billing/subscription/")
        admin.get_by_role("link", name=str(learner), exact=False).first.click()
        expect(admin.get_by_role("heading", name="Manage this subscription through Stripe")).to_be_visible()
        admin.get_by_role("link", name="End now (no refund)").click()
        admin.get_by_label(re.compile("^Reason")).fill("Demo: the learner asked to stop today")
        admin.screenshot(path=str(ARTIFACTS / f"journey14-{width}-admin-end-now.png"), full_page=True)
        admin.get_by_role("button", name="Confirm: End now (no refund)").click()
        expect(admin.get_by_text("End now (no refund): done through Stripe.")).to_be_visible()
        expect(admin.locator("#staff_actions-group")).to_contain_text("Demo: the learner asked to stop today")
    finally:
        context.close()
    action = StaffAction.objects.get(subscription__user=learner)
    assert (action.staff, action.kind, action.succeeded) == (staff, "end_now", True)


@pytest.mark.parametrize("width", WIDTHS)
def test_issue14_journey_sign_up_trial_complete_certificate_cancel_end_keep(
    browser, page, live_server, journey_world, width
):
    from accounts.models import User
    from billing.models import WebhookEvent
    from courses.models import Item

    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    page.set_default_timeout(30_000)
    email = f"ada.{width}@example.com"

    # Sign up with a name: it is what the certificate will print.
    sign_up(page, live_server, email)
    learner = User.objects.get(email=email)
    assert learner.name == NAME

    # The free trial, with a test card on the local card page.
    start_trial(page, width)

    # Complete the first course: every quiz, and the programming assignment in the browser editor.
    pass_the_quizzes(page, live_server, learner)
    write_the_assignment_in_the_editor(page, live_server, width)
    page.goto(f"{live_server.url}/courses/{COURSE}/")
    expect(page.locator("[data-completion]")).to_contain_text("You completed this course")
    shot(page, width, "course-completed")

    # The certificate carries the name given at sign-up.
    nav(page, "Certificates")
    page.get_by_role("link", name="Neural Networks and Deep Learning").click()
    expect(page.locator("[data-certificate-status]")).to_contain_text("Valid certificate")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    shot(page, width, "certificate")

    # Cancel: confirmed on the page, and by e-mail with the end date and the completed course that stays open.
    nav(page, "Billing")
    page.get_by_role("link", name="Cancel subscription").click()
    ends = page.locator("[data-cancel-confirm] [data-ends-at]").inner_text()
    page.get_by_role("button", name="Yes, cancel my subscription").click()
    expect(page.get_by_text(f"Your subscription ends on {ends}; completed courses stay open.")).to_be_visible()
    shot(page, width, "canceled")
    wait_for(lambda: any(m.to == [email] and "canceled" in m.subject for m in mail.outbox))
    canceled = next(m for m in mail.outbox if m.to == [email] and "canceled" in m.subject)
    assert ends in canceled.subject and canceled.subject.startswith("[Deep Learning] ")
    assert "You canceled your subscription to Deep Learning" in canceled.body  # the plain-text part
    assert "- Neural Networks and Deep Learning: " in canceled.body  # stays open, forever
    assert "Improving Deep Neural Networks" not in canceled.body

    # An admin ends the subscription now, in the admin, through Stripe; the learner is told.
    admin_ends_the_subscription_now(browser, live_server, learner, width)
    wait_for(lambda: WebhookEvent.objects.filter(type="customer.subscription.deleted", status="processed").exists())
    wait_for(lambda: any(m.to == [email] and "has ended" in m.subject for m in mail.outbox))
    ended = next(m for m in mail.outbox if m.to == [email] and "has ended" in m.subject)
    assert "Neural Networks and Deep Learning" in ended.body
    nav(page, "Billing")
    expect(page.locator("[data-billing-state]")).to_have_text("Canceled or expired")

    # The completed course still opens; another course does not.
    paid = Item.objects.get(course__slug=COURSE, slug="logistic-regression-as-a-neural-network")
    assert page.goto(live_server.url + paid.get_absolute_url()).status == 200
    expect(page.get_by_role("heading", name=paid.title)).to_be_visible()
    other = Item.objects.filter(course__slug=OTHER_COURSE, is_preview=False, kind="lecture").first()
    assert page.goto(live_server.url + other.get_absolute_url()).status == 403
    shot(page, width, "other-course-locked")

    # Keep your course: the zip of the completed course, after the subscription ended.
    page.goto(f"{live_server.url}/courses/{COURSE}/")
    keep = page.locator("[data-keep-course]")
    keep.get_by_role("button", name="Make my download").click()
    expect(page.locator("[data-archive-status]")).to_have_attribute("data-archive-status", "ready")
    shot(page, width, "download-ready")
    with page.expect_download() as download_info:
        page.locator("[data-archive-download]").click()
    target = download_info.value.path()
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert any(name.endswith("-week-1-notes.md") for name in names), names
    assert any(name.endswith("-week-1-notes.html") for name in names), names
    assert any(name.endswith(".vtt") for name in names), names
    assert any(name.endswith(f"{ASSIGNMENT}/starter.ipynb") for name in names), names
    assert any(name.endswith(f"{ASSIGNMENT}/my-attempt-1.ipynb") for name in names), names
    assert any(name.endswith(f"{ASSIGNMENT}/my-attempt-1-feedback.md") for name in names), names
