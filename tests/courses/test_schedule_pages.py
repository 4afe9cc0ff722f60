"""Deadlines in the learner's time zone, the calendar feed, lecture durations from the media and
completion when a lecture is played to its end."""

import datetime
import zoneinfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from courses import media, services
from courses.models import Enrollment, ItemProgress, Lecture
from tests.factories import CourseFactory, ItemFactory, LectureFactory, SubscriptionFactory, WeekFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _late_learner(time_zone=""):
    """A learner three weeks into a course with two unfinished weeks: week 1 and 2 are overdue."""
    course = CourseFactory(release_date=timezone.localdate() - 60 * DAY)
    for number in (1, 2, 3):
        ItemFactory(
            week=WeekFactory(course=course, number=number), kind="quiz", due_after_days=2 if number == 3 else None
        )
    learner = SubscriptionFactory(user__time_zone=time_zone).user
    enrollment = Enrollment.objects.create(user=learner, course=course)
    start = datetime.datetime(2026, 11, 9, 8, 0, tzinfo=datetime.UTC)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=start)
    return course, learner, start


def test_a_later_course_opening_starts_the_schedule(client):
    course = CourseFactory(release_date=timezone.localdate() + 10 * DAY)
    ItemFactory(week=WeekFactory(course=course, number=1))
    learner = SubscriptionFactory().user
    Enrollment.objects.create(user=learner, course=course)
    from courses import selectors

    weeks = selectors.course_outline(user=learner, course=course, can_view=lambda item: True).weeks
    opening = datetime.datetime.combine(course.release_date, datetime.time.min, tzinfo=timezone.get_current_timezone())
    assert weeks[0].deadline == opening + 7 * DAY  # not a week after enrolling, weeks before it opens


def test_a_week_released_later_moves_its_deadline_and_a_graded_item_has_its_own():
    from courses import selectors

    course = CourseFactory(release_date=timezone.localdate() - 2 * DAY)
    ItemFactory(week=WeekFactory(course=course, number=1), kind="quiz")
    late_week = WeekFactory(course=course, number=2, release_date=timezone.localdate() + 20 * DAY)
    quiz = ItemFactory(week=late_week, kind="quiz", due_after_days=3)
    learner = SubscriptionFactory().user
    Enrollment.objects.create(user=learner, course=course)
    weeks = selectors.course_outline(user=learner, course=course, can_view=lambda item: True).weeks
    opens_at = datetime.datetime.combine(
        late_week.release_date, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    assert weeks[1].deadline == opens_at + 7 * DAY
    [row] = weeks[1].items
    assert row.item == quiz and row.deadline == opens_at + 3 * DAY


def test_deadlines_are_shown_in_the_learners_time_zone_with_its_name(client):
    course, learner, start = _late_learner(time_zone="Asia/Tokyo")
    client.force_login(learner)
    html = client.get(course.get_absolute_url()).content.decode()
    week_one = (start + 7 * DAY).astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"Suggested deadline: {week_one:%a} {week_one.day} {week_one:%b, %H:%M} (Asia/Tokyo)" in html
    progress = client.get(reverse("courses:progress")).content.decode()
    assert "Times in Asia/Tokyo" in progress and "You're behind schedule in" in progress


def test_behind_banner_on_home_and_progress_and_reset_only_when_overdue(client):
    course, learner, _ = _late_learner()
    client.force_login(learner)
    for url in (reverse("courses:home"), reverse("courses:progress"), course.get_absolute_url()):
        html = client.get(url).content.decode()
        assert html.count(f'data-behind-schedule="{course.slug}"') == 1, url
        assert "Resetting makes week 1 due on" in html
    response = client.post(
        reverse("courses:course_reset_deadlines", args=[course.slug]), {"next": reverse("courses:home")}
    )
    assert response["Location"] == reverse("courses:home")
    assert "data-behind-schedule" not in client.get(reverse("courses:home")).content.decode()


def test_the_browser_sets_the_time_zone_once_and_the_profile_wins(client):
    learner = SubscriptionFactory().user
    client.force_login(learner)
    assert 'data-time-zone-url="/accounts/time-zone/"' in client.get(reverse("courses:home")).content.decode()
    assert client.post(reverse("accounts:time_zone"), {"time_zone": "Mars/Olympus"}).status_code == 400
    assert client.post(reverse("accounts:time_zone"), {"time_zone": "Europe/Paris"}).status_code == 204
    learner.refresh_from_db()
    assert learner.time_zone == "Europe/Paris"
    client.post(reverse("accounts:time_zone"), {"time_zone": "America/New_York"})
    learner.refresh_from_db()
    assert learner.time_zone == "Europe/Paris"  # set once; the profile page changes it
    response = client.post(reverse("accounts:profile"), {"name": "Ada", "bio": "", "time_zone": "America/New_York"})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.time_zone == "America/New_York"
    assert "data-time-zone-url" not in client.get(reverse("courses:home")).content.decode()


def test_calendar_feed_has_deadlines_and_openings_at_a_secret_regenerable_address(client):
    course, learner, start = _late_learner(time_zone="Europe/Paris")
    WeekFactory(course=course, number=4, release_after_days=30)
    ItemFactory(week=course.weeks.get(number=4), kind="reading")
    client.force_login(learner)
    client.post(reverse("courses:calendar_link"))
    token = learner.calendar_feed.token
    client.logout()
    response = client.get(reverse("courses:calendar_feed", args=[token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    by_summary = {str(e["summary"]): e for e in events}
    assert by_summary[f"{course.title}: week 1 suggested deadline"].decoded("dtstart") == start + 7 * DAY
    opening = by_summary[f"{course.title}: week 4 opens"].decoded("dtstart")
    assert opening == timezone.localdate(start) + 30 * DAY
    graded = [s for s in by_summary if s.endswith(" due")]
    assert len(graded) == 3
    # a new address: the old one is gone
    client.force_login(learner)
    client.post(reverse("courses:calendar_link"), {"regenerate": "1"})
    assert client.get(reverse("courses:calendar_feed", args=[token])).status_code == 404


# ---- durations from the media, completion at the end ----------------------------------------------------


@pytest.fixture
def rendered_lecture(settings, tmp_path):
    """A lecture whose captions end at 13.8 s and whose video lasts 12 s, as "Why is Deep Learning Taking
    Off?" did."""
    settings.MEDIA_ROOT = tmp_path
    cues = [
        {"start": 0.0, "end": 6.0, "text": "Scale drives progress."},
        {"start": 6.0, "end": 12.0, "text": "Data, computation, algorithms."},
        {"start": 12.0, "end": 13.8, "text": "The end."},
    ]
    lecture = LectureFactory(captions=cues, duration_seconds=13.8, declared_duration_seconds=13.8)
    media.render_video(title="Taking off", subtitle="t", cues=cues[:2], out_path=tmp_path / "lectures" / "t.mp4")
    Lecture.objects.filter(pk=lecture.pk).update(video="lectures/t.mp4")
    return lecture


def test_duration_is_probed_from_the_media_and_the_mismatch_is_reported(rendered_lecture, capsys):
    probed = media.probe_duration(rendered_lecture.video.storage.path("lectures/t.mp4"))
    assert 0 < probed < 12.5  # the file is shorter than the captions say
    label = f"{rendered_lecture.item.course.slug}/{rendered_lecture.item.slug}"
    with pytest.raises(CommandError):
        call_command("check_lecture_durations")
    assert f"{label}: stored 13.80 s, file {probed:.2f} s, pack declares 13.80 s" in capsys.readouterr().out
    assert [m.label for m in services.lecture_durations_sync()] == [label]
    rendered_lecture.refresh_from_db()
    assert rendered_lecture.duration_seconds == pytest.approx(probed, abs=0.001)  # the media wins
    call_command("check_lecture_durations")  # nothing left to report as wrong
    assert "1 lecture video(s) probed; 0 stored duration(s) differ." in capsys.readouterr().out


def test_a_missing_ffmpeg_answer_is_a_clear_error(tmp_path):
    not_media = tmp_path / "notes.mp4"
    not_media.write_text("not a video")
    with pytest.raises(media.MediaError, match="could not read the duration"):
        media.probe_duration(not_media)


def test_playing_to_the_end_at_any_speed_completes_the_lecture():
    lecture = LectureFactory(duration_seconds=12.0)
    learner = SubscriptionFactory().user
    # at 2x with a seek: the browser reports media-time ranges; 0-5 and 9-12 played, then the end
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=5.0, ranges=[[0, 5]])
    assert not progress.is_complete
    progress = services.progress_record(
        user=learner, item=lecture.item, position_seconds=12.0, ranges=[[0, 5], [9, 12]], ended=True
    )
    assert progress.is_complete
    # "ended" far from the end (a forged message) does not complete another lecture
    other = LectureFactory(duration_seconds=12.0)
    assert not services.progress_record(
        user=learner, item=other.item, position_seconds=3.0, ranges=[[0, 3]], ended=True
    ).is_complete


def test_watched_share_survives_a_reload(client):
    lecture = LectureFactory(duration_seconds=10.0)
    learner = SubscriptionFactory().user
    ItemProgress.objects.create(user=learner, item=lecture.item, watched_fraction=0.42, position_seconds=0.5)
    client.force_login(learner)
    assert "42% watched" in client.get(lecture.item.get_absolute_url()).content.decode()


def test_an_optional_math_lecture_has_one_badge_on_the_outline_and_the_lecture(client):
    lecture = LectureFactory(is_math=True, item__title="Backpropagation Intuition (optional)", item__is_preview=True)
    client.force_login(SubscriptionFactory().user)
    for url in (lecture.item.course.get_absolute_url(), lecture.item.get_absolute_url()):
        html = client.get(url).content.decode().split("</title>", 1)[1]  # the tab's title keeps the full name
        assert html.count("data-math-badge") == 1, url
        assert "Backpropagation Intuition (optional)" not in html and "Backpropagation Intuition" in html


def test_a_graded_items_own_deadline_is_on_its_page_in_the_learners_zone(client):
    from courses.models import ItemKind
    from tests.factories import EnrollmentFactory, ItemFactory, QuestionFactory, SubscriptionFactory

    learner = SubscriptionFactory(user__time_zone="Asia/Tokyo").user
    quiz = QuestionFactory().pool.quiz.item
    EnrollmentFactory(user=learner, course=quiz.course)
    client.force_login(learner)
    page = client.get(quiz.get_absolute_url()).content.decode()
    assert "data-item-deadline" in page and "(Asia/Tokyo)" in page
    lecture = ItemFactory(kind=ItemKind.LECTURE, week=quiz.week, course=quiz.course)
    assert "data-item-deadline" not in client.get(lecture.get_absolute_url()).content.decode()  # not graded
