"""Course schedule in the browser: a week that opens days after the learner starts, lectures that
complete when played to their end, and the behind-schedule banner with its reset in the learner's zone."""

import datetime
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery"


def _log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/courses/"))


def test_week_two_opens_three_days_after_the_start_and_says_so_once(page, live_server, demo_content):
    from django.utils import timezone

    from courses import services
    from courses.models import Course, Enrollment, Item, Week
    from tests.factories import SubscriptionFactory

    course = Course.objects.get(order=1)
    Week.objects.filter(course=course, number=2).update(release_after_days=3)
    first = Item.objects.filter(course=course, week__number=1).order_by("order").first()
    locked = Item.objects.filter(course=course, week__number=2).order_by("order").first()
    learner = SubscriptionFactory(user__email="drip@example.com", user__time_zone="Europe/Paris").user
    _log_in(page, live_server, learner)

    page.goto(live_server.url + first.get_absolute_url())  # starting the course starts the schedule
    opens = timezone.localdate() + datetime.timedelta(days=3)
    page.goto(live_server.url + course.get_absolute_url())
    week_lock = page.locator("section.week").nth(1).locator("[data-week-lock]")
    expect(week_lock).to_have_text(f"Opens 3 days after you start: {opens.day} {opens:%B %Y}")
    page.screenshot(path="test-artifacts/schedule-week-locked.png", full_page=True)
    assert page.goto(live_server.url + locked.get_absolute_url()).status == 403
    lock = page.locator("[data-locked]")
    expect(lock).to_have_attribute("data-lock-reason", "released_after_start")
    expect(lock.get_by_role("heading")).to_have_text("Opens 3 days after you start")
    expect(lock).to_contain_text(f"on {opens.day} {opens:%B %Y} for you")
    page.screenshot(path="test-artifacts/schedule-item-locked.png", full_page=True)

    # The clock moves four days on for this learner: their start is four days back.
    enrollment = Enrollment.objects.get(user=learner, course=course)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=enrollment.created_at - datetime.timedelta(days=4))
    assert services.week_open_notify() == 1
    assert services.week_open_notify() == 0  # the hourly task runs again: nothing twice

    page.goto(live_server.url + "/notifications/")
    expect(page.get_by_text(f"Week 2 of {course.title} is open")).to_have_count(1)
    page.goto(live_server.url + course.get_absolute_url())
    expect(page.locator("section.week").nth(1).locator("[data-week-lock]")).to_have_count(0)
    assert page.goto(live_server.url + locked.get_absolute_url()).status == 200


def test_every_demo_lecture_played_to_its_end_is_complete(page, live_server, demo_content):
    from courses import services
    from courses.models import ItemProgress, Lecture
    from tests.factories import SubscriptionFactory

    services.media_render_missing()
    services.lecture_durations_sync()  # what import_pack does after rendering: the media wins
    learner = SubscriptionFactory(user__email="watcher@example.com").user
    _log_in(page, live_server, learner)
    lectures = list(
        Lecture.objects.select_related("item__course").order_by("item__course__order", "item__week__number")
    )
    assert len(lectures) > 40
    for lecture in lectures:
        page.goto(live_server.url + lecture.item.get_absolute_url())
        video = page.locator("video")
        video.evaluate("v => new Promise(r => v.readyState >= 1 ? r() : v.addEventListener('loadedmetadata', r))")
        # At 2x, from a second and a half before the end (a seek), to the end.
        video.evaluate("v => { v.playbackRate = 2; v.muted = true; v.currentTime = Math.max(0, v.duration - 1.5); }")
        video.evaluate("v => v.play()")
        status = page.locator("[data-status]")
        for _ in range(40):  # an in-video question pauses the lecture: skip it, as a learner may
            if status.text_content() == "✓ Completed":
                break
            skip = page.get_by_role("button", name="Skip")
            if skip.is_visible():
                skip.click()
                video.evaluate("v => v.play()")
            page.wait_for_timeout(250)
        expect(status).to_have_text("✓ Completed", timeout=10_000)
    done = set(ItemProgress.objects.filter(user=learner, completed_at__isnull=False).values_list("item_id", flat=True))
    assert {lecture.item_id for lecture in lectures} <= done


def test_behind_schedule_banner_reset_and_new_dates_in_the_learners_zone(page, live_server, demo_content):
    import zoneinfo

    from django.utils import timezone

    from courses.models import Course, Enrollment
    from tests.factories import SubscriptionFactory

    course = Course.objects.get(order=1)
    learner = SubscriptionFactory(user__email="late@example.com", user__time_zone="America/New_York").user
    enrollment = Enrollment.objects.create(user=learner, course=course)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=timezone.now() - datetime.timedelta(days=16))
    _log_in(page, live_server, learner)

    for path in ("/", "/progress/", course.get_absolute_url()):
        page.goto(live_server.url + path)
        banner = page.locator(f'[data-behind-schedule="{course.slug}"]')
        expect(banner).to_have_count(1)
        expect(banner).to_contain_text("You're behind schedule in")
        expect(banner.locator("[data-reset-explains]")).to_contain_text("(America/New_York)")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="test-artifacts/schedule-behind-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="test-artifacts/schedule-behind-1280.png", full_page=True)

    page.locator(f'[data-behind-schedule="{course.slug}"]').get_by_role("button", name="Reset my deadlines").click()
    expect(page.get_by_text("Your deadlines were moved")).to_be_visible()
    expect(page.locator("[data-behind-schedule]")).to_have_count(0)
    due = (timezone.now() + datetime.timedelta(weeks=1)).astimezone(zoneinfo.ZoneInfo("America/New_York"))
    first_deadline = page.locator("[data-week-deadline]").first
    expect(first_deadline).to_contain_text(f"{due:%a} {due.day} {due:%b}")
    expect(first_deadline).to_contain_text("(America/New_York)")
    page.screenshot(path="test-artifacts/schedule-after-reset.png", full_page=True)

    page.goto(live_server.url + "/progress/")
    expect(page.locator("[data-schedule]")).to_contain_text("Times in America/New_York")
    page.get_by_role("button", name="Add my deadlines to my calendar").click()
    expect(page.locator("#calendar-url")).to_have_value(re.compile(r"/calendar/[\w-]+\.ics$"))
    page.screenshot(path="test-artifacts/schedule-progress-calendar.png", full_page=True)


def test_admin_week_page_items_table_fits_1280_px(page, live_server, demo_content):
    from courses.models import Week
    from tests.e2e.page_checks import horizontal_overflow
    from tests.factories import UserFactory

    admin = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    week = Week.objects.filter(course__order=1).order_by("number").first()
    page.goto(live_server.url + "/admin/login/")
    page.locator("#id_username").fill(admin.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(live_server.url + f"/admin/courses/week/{week.pk}/change/")
    expect(page.locator("#id_release_after_days")).to_be_visible()
    assert horizontal_overflow(page) == []
    page.screenshot(path="test-artifacts/schedule-admin-week-1280.png", full_page=True)
