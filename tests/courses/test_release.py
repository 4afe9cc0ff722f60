"""Release per week and per item: the rules (courses.schedule), the content pack (validated with file
and line, exported back identically) and what the access policy answers on every surface."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from access import api as access
from courses import schedule
from courses.models import Item, Week
from courses.packs import PackError, load_pack, pack_apply
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ItemFactory,
    LectureFactory,
    SubscriptionFactory,
)

DAY = datetime.timedelta(days=1)
JAN_11 = datetime.date(2027, 1, 11)


# ---- the rules --------------------------------------------------------------------------------------


def test_a_week_opens_with_its_course_unless_it_says_later():
    assert schedule.opening(course_release=JAN_11, start=JAN_11) == schedule.Opening(on=JAN_11)
    later = schedule.opening(course_release=JAN_11, week=schedule.Release(date=datetime.date(2027, 2, 1)), start=JAN_11)
    assert later == schedule.Opening(on=datetime.date(2027, 2, 1), scope="week")


def test_a_week_never_opens_before_its_course():
    opening = schedule.opening(
        course_release=JAN_11, week=schedule.Release(date=datetime.date(2026, 12, 1)), start=JAN_11
    )
    assert opening.on == JAN_11 and opening.scope == "course"


def test_relative_release_counts_from_the_later_of_start_and_course_opening():
    # enrolled in December for a course that opens on 11 January: the schedule starts on 11 January
    start = schedule.schedule_start(
        enrolled_on=datetime.date(2026, 12, 10), course_release=JAN_11, today=datetime.date(2026, 12, 20)
    )
    assert start == JAN_11
    opening = schedule.opening(course_release=JAN_11, week=schedule.Release(after_days=3), start=start)
    assert opening == schedule.Opening(on=JAN_11 + 3 * DAY, scope="week", after_days=3)
    # enrolled after the course opened: counted from the enrolment
    late = schedule.schedule_start(enrolled_on=datetime.date(2027, 3, 1), course_release=JAN_11, today=JAN_11)
    assert late == datetime.date(2027, 3, 1)


def test_an_item_opens_with_the_latest_of_course_week_and_item():
    opening = schedule.opening(
        course_release=JAN_11,
        week=schedule.Release(after_days=7),
        item=schedule.Release(date=datetime.date(2027, 1, 15)),
        start=JAN_11,
    )
    assert opening.on == JAN_11 + 7 * DAY and opening.scope == "week"


def test_an_unscheduled_course_never_opens():
    assert not schedule.opening(course_release=None, start=JAN_11).is_open(datetime.date(2099, 1, 1))


# ---- the content pack -------------------------------------------------------------------------------


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(path, needle) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_pack_refuses_a_week_before_its_course_and_date_with_days(demo_pack_copy):
    course_yaml = demo_pack_copy / "courses" / "sequence-models" / "course.yaml"
    _edit(
        course_yaml,
        '  - title: "Natural Language Processing & Word Embeddings"\n',
        '  - title: "Natural Language Processing & Word Embeddings"\n    release_date: 2026-01-05\n',
    )
    _edit(
        course_yaml,
        '  - title: "Sequence Models & Attention Mechanism"\n',
        '  - title: "Sequence Models & Attention Mechanism"\n    release_date: 2026-06-01\n'
        "    release_after_days: 14\n",
    )
    _edit(
        course_yaml,
        "        slug: word-embeddings\n",
        "        slug: word-embeddings\n        due_after_days: 3\n",
    )
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    errors = "\n".join(caught.value.errors)
    where = "courses/sequence-models/course.yaml"
    assert (
        f"{where}:{_line_of(course_yaml, 'release_date: 2026-01-05')}: week 2 opens on 2026-01-05, "
        "before its course (2026-04-27)" in errors
    )
    assert (
        f"{where}:{_line_of(course_yaml, 'release_after_days: 14')}: week 3: give 'release_date' (a date) or "
        "'release_after_days'" in errors
    )
    assert f"{where}:{_line_of(course_yaml, 'due_after_days: 3')}: 'due_after_days' is for graded items only" in errors


@pytest.mark.django_db
def test_week_and_item_releases_import_and_export_identically(demo_pack_copy, tmp_path):
    course_yaml = demo_pack_copy / "courses" / "sequence-models" / "course.yaml"
    _edit(
        course_yaml,
        '  - title: "Natural Language Processing & Word Embeddings"\n',
        '  - title: "Natural Language Processing & Word Embeddings"\n    release_after_days: 14\n',
    )
    _edit(
        course_yaml,
        '  - title: "Sequence Models & Attention Mechanism"\n',
        '  - title: "Sequence Models & Attention Mechanism"\n    release_date: 2026-06-01\n',
    )
    _edit(
        course_yaml,
        "      - kind: quiz\n",
        "      - kind: quiz\n        release_after_days: 2\n        due_after_days: 3\n",
    )
    pack = load_pack(demo_pack_copy)
    pack_apply(pack=pack)
    weeks = {w.number: w for w in Week.objects.filter(course__slug="sequence-models")}
    assert weeks[2].release_after_days == 14 and weeks[2].release_date is None
    assert weeks[3].release_date == datetime.date(2026, 6, 1)
    quiz = Item.objects.filter(course__slug="sequence-models", kind="quiz").order_by("week__number").first()
    assert (quiz.release_after_days, quiz.due_after_days) == (2, 3)

    out = tmp_path / "exported"
    call_command("export_pack", str(out))
    assert (out / "courses" / "sequence-models" / "course.yaml").read_text() == _exported_again(out, tmp_path)
    exported = load_pack(out)
    course = next(c for c in exported.courses if c.slug == "sequence-models")
    assert course.weeks[1].release_after_days == 14 and course.weeks[2].release_date == datetime.date(2026, 6, 1)
    assert "release_after_days: 14" in (out / "courses" / "sequence-models" / "course.yaml").read_text()


def _exported_again(out, tmp_path) -> str:
    pack_apply(pack=load_pack(out))
    again = tmp_path / "again"
    call_command("export_pack", str(again))
    return (again / "courses" / "sequence-models" / "course.yaml").read_text()


# ---- every surface refuses a part that has not opened, and says when it opens ------------------------


@pytest.fixture
def week_two_later(db):
    """An open course whose week 2 opens on a date to come, for a subscribed learner."""
    course = CourseFactory(release_date=timezone.localdate() - 10 * DAY)
    opens = timezone.localdate() + 5 * DAY
    lecture = LectureFactory(item__week__course=course, item__week__number=2, item__week__release_date=opens)
    learner = SubscriptionFactory().user
    return course, lecture.item, learner, opens


def test_every_surface_of_an_unopened_week_is_refused_with_its_date(client, week_two_later):
    _course, item, learner, opens = week_two_later
    client.force_login(learner)
    date_text = f"{opens.day} {opens:%B %Y}"
    page = client.get(item.get_absolute_url())
    assert page.status_code == 403 and date_text in page.content.decode()
    for name in ("courses:lecture_video", "courses:lecture_captions"):
        response = client.get(reverse(name, args=[item.pk]))
        assert response.status_code == 403 and date_text in response.content.decode()
    progress = client.post(
        reverse("courses:item_progress", args=[item.pk]), {"position": 1, "ranges": []}, content_type="application/json"
    )
    assert progress.status_code == 403 and date_text in progress.json()["error"]


def test_the_api_refuses_an_unopened_item_with_its_date(client, week_two_later):
    _course, item, learner, opens = week_two_later
    client.force_login(learner)
    response = client.get(f"/api/v1/items/{item.pk}/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["reason"] == "not_released" and f"{opens.day} {opens:%B %Y}" in error["message"]


@pytest.mark.django_db
def test_a_drip_item_opens_n_days_after_this_learners_start():
    course = CourseFactory(release_date=timezone.localdate() - 30 * DAY)
    item = ItemFactory(week__course=course, kind="quiz", release_after_days=3)
    learner = SubscriptionFactory().user
    enrollment = EnrollmentFactory(user=learner, course=course)
    decision = access.can_take_quiz(learner, item)
    assert decision.reason is access.Reason.RELEASED_AFTER_START
    assert decision.opens_on == timezone.localdate() + 3 * DAY
    assert "3 days after you started" in decision.message
    # four days later for this learner (their start moved back), it is open
    type(enrollment).objects.filter(pk=enrollment.pk).update(created_at=timezone.now() - 4 * DAY)
    access.forget(learner)
    assert access.can_take_quiz(learner, item)


def test_outline_shows_a_locked_week_with_its_date_and_each_lock_its_reason(client, week_two_later):
    course, _item, learner, opens = week_two_later
    client.force_login(learner)
    html = client.get(course.get_absolute_url()).content.decode()
    assert f"Opens on {opens.day} {opens:%B %Y}" in html and "data-week-lock" in html
    assert f'title="Week 2 of {course.title} opens on {opens.day} {opens:%B %Y}."' in html
    assert "Not available with your access" not in html


def test_notify_me_on_a_week_lock_enrols_and_announces_no_course_opening(client, week_two_later):
    from courses.models import CourseNotifyRequest, Enrollment

    course, item, learner, _opens = week_two_later
    client.force_login(learner)
    response = client.post(reverse("courses:course_notify", args=[course.slug]), {"next": item.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    assert Enrollment.objects.filter(user=learner, course=course).exists()
    assert CourseNotifyRequest.objects.get(user=learner, course=course).notified_at is not None


@pytest.mark.django_db
def test_a_week_opening_is_told_once_in_site_and_by_email(mailoutbox):
    from courses import services
    from courses.models import Enrollment
    from notifications import services as notification_services
    from notifications.models import Notification

    course = CourseFactory(release_date=timezone.localdate() - 30 * DAY)
    ItemFactory(week__course=course, week__number=1)
    week_two = ItemFactory(week__course=course, week__number=2, week__release_after_days=3).week
    learner = SubscriptionFactory().user
    enrollment = EnrollmentFactory(user=learner, course=course)
    assert services.week_open_notify() == 0  # opens in three days for this learner
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=timezone.now() - 4 * DAY)
    assert services.week_open_notify() == 1
    assert services.week_open_notify() == 0
    notification_services.outbox_deliver_due(now=timezone.now() + DAY)  # what the worker does after the commit
    notes = Notification.objects.filter(recipient=learner, kind="courses.week_open")
    assert [n.title for n in notes] == [f"Week 2 of {course.title} is open"]
    subjects = [m.subject for m in mailoutbox if learner.email in m.to]
    assert subjects == [f"[Deep Learning] Week 2 of {course.title} is open"]
    assert week_two.title in mailoutbox[-1].body
