"""A learner asks a question and is shown a similar thread while typing; another learner answers; the
notification arrives; the asker accepts the answer. Posted anonymously, the question shows as anonymous
to the other learner and named to staff. The pages fit a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import horizontal_overflow

pytestmark = pytest.mark.e2e


@pytest.fixture
def forum_world(transactional_db):
    import datetime

    from django.utils import timezone

    from courses.models import ItemKind
    from forums import services
    from forums.models import Profile
    from tests.factories import CourseFactory, ItemFactory, SubscriptionFactory, UserFactory, WeekFactory

    old = timezone.now() - datetime.timedelta(days=60)
    course = CourseFactory(slug="neural-networks-and-deep-learning", title="Neural Networks and Deep Learning")
    week = WeekFactory(course=course, number=2, title="Neural Networks Basics")
    ItemFactory(
        week=week,
        slug="vectorised-logistic-regression",
        title="Vectorised Logistic Regression",
        kind=ItemKind.ASSIGNMENT,
    )

    def member(email, name):
        user = SubscriptionFactory(user__email=email, user__name=name, user__date_joined=old).user
        services.profile_ensure(user)
        Profile.objects.filter(user=user).update(trusted_at=old)
        return user

    asker = member("ada@example.com", "Ada Lovelace")
    helper = member("grace@example.com", "Grace Hopper")
    earlier = member("alan@example.com", "Alan Turing")
    staff = UserFactory(email="staff@example.com", name="Sam Staff", is_staff=True)
    forum = services.forum_ensure(course_id=course.pk)
    existing = services.thread_create(
        author=earlier,
        forum=forum,
        title="propagate() fails: shapes (1,3) and (2,1) not aligned",
        body="My forward pass is `sigmoid(np.dot(X.T, w) + b)` and the public test fails.",
    )
    services.reply_create(author=helper, thread=existing, body="Use `np.dot(w.T, X)`: one column per example.")
    return {"course": course, "asker": asker, "helper": helper, "staff": staff, "existing": existing}


def log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/courses/"))


def test_ask_see_a_similar_thread_get_an_answer_accept_it(browser, page, live_server, forum_world, celery_eager):
    course, asker, helper, staff = (forum_world[k] for k in ("course", "asker", "helper", "staff"))

    # Ada asks; while she types the title, the thread that already answers her shows up.
    log_in(page, live_server, asker)
    page.goto(live_server.url + f"/forums/{course.slug}/")
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_label("Title").press_sequentially("ValueError shapes not aligned in propagate", delay=20)
    suggestion = page.locator("[data-suggestions]").get_by_role("link", name=re.compile("propagate\\(\\) fails"))
    expect(suggestion).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "forum-ask-suggestions-1280.png"), full_page=True)
    # Hers is a different question after all: she asks it, anonymously, with code and math.
    page.get_by_label("Title").fill("Why is my cost increasing after 100 iterations?")
    page.get_by_label("Details").fill(
        "My update is\n\n```python\nw = w - learning_rate * dw\n```\n\nand the cost $J$ goes up after 100 steps."
    )
    page.get_by_label(re.compile("Anonymous to other learners")).check()
    page.get_by_role("button", name="Post your question").click()
    expect(page.get_by_role("heading", name="Why is my cost increasing after 100 iterations?")).to_be_visible()
    expect(page.locator(".post-body .highlight")).to_be_visible()
    expect(page.locator(".post-body math")).to_have_count(1)
    thread_url = page.url

    # Grace sees an anonymous question and answers it.
    other = browser.new_context(viewport={"width": 390, "height": 844})
    grace = other.new_page()
    log_in(grace, live_server, helper)
    grace.goto(thread_url)
    expect(grace.locator("[data-post] [data-author]").first).to_have_text("Anonymous learner")
    expect(grace.get_by_text("Ada Lovelace")).to_have_count(0)
    grace.get_by_role("textbox", name="Your answer").fill(
        "Your learning rate is too large: try `0.005` and plot the cost."
    )
    grace.get_by_role("button", name="Post your answer").click()
    expect(grace.get_by_text("Your learning rate is too large")).to_be_visible()
    assert horizontal_overflow(grace) == []
    grace.screenshot(path=str(ARTIFACTS / "forum-thread-390.png"), full_page=True)
    other.close()

    # The notification reaches Ada; she opens it and accepts the answer.
    page.goto(live_server.url + "/courses/")
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    bell.click()
    page.get_by_role("link", name=re.compile("Grace Hopper replied in")).click()
    expect(page).to_have_url(re.compile(re.escape(thread_url)))
    page.get_by_role("button", name="Accept this answer").click()
    expect(page.locator("[data-accepted]")).to_have_text("✓ Accepted answer")

    # Staff see who asked.
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    sam = staff_context.new_page()
    log_in(sam, live_server, staff)
    sam.goto(thread_url)
    author = sam.locator("[data-post] [data-author]").first
    expect(author).to_contain_text("Ada Lovelace")
    expect(author).to_contain_text("anonymous to learners")
    sam.goto(live_server.url + f"/forums/{course.slug}/staff/")
    expect(sam.get_by_role("heading", name="Time to first reply, per week")).to_be_visible()
    sam.screenshot(path=str(ARTIFACTS / "forum-dashboard-1280.png"), full_page=True)
    staff_context.close()
