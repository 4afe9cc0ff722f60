"""Learner pages, access to protected media, range requests and query counts."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses import media
from courses.models import ItemProgress
from tests.factories import (
    CourseFactory,
    InterviewFactory,
    LectureFactory,
    ReadingFactory,
    SubscriptionFactory,
    UserFactory,
    WeekFactory,
)

pytestmark = pytest.mark.django_db


def subscriber():
    """A learner with an active subscription: course material beyond previews needs one (billing.access)."""
    return SubscriptionFactory().user


@pytest.fixture
def lecture_with_video(settings):
    lecture = LectureFactory(item__is_preview=False)
    path = settings.MEDIA_ROOT / "lectures" / "clip.mp4"
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(range(256)) * 40)  # 10240 bytes of known content
    lecture.video.name = "lectures/clip.mp4"
    lecture.save()
    return lecture


def test_anonymous_visitor_sees_the_catalog_and_a_locked_lecture(client, lecture_with_video):
    item = lecture_with_video.item
    assert client.get(reverse("courses:home")).status_code == 200
    response = client.get(item.course.get_absolute_url())
    assert response.status_code == 200
    assert item.title in response.content.decode()
    locked = client.get(item.get_absolute_url())
    assert locked.status_code == 403
    assert b"Log in" in locked.content
    assert client.get(reverse("courses:lecture_video", args=[item.pk])).status_code == 403
    assert client.get(reverse("courses:lecture_captions", args=[item.pk])).status_code == 403


def test_free_preview_is_open_to_everyone(client, lecture_with_video):
    item = lecture_with_video.item
    item.is_preview = True
    item.save()
    assert client.get(item.get_absolute_url()).status_code == 200
    assert client.get(reverse("courses:lecture_video", args=[item.pk])).status_code == 200


def test_signed_in_learner_watches_with_range_requests(client, lecture_with_video):
    client.force_login(subscriber())
    url = reverse("courses:lecture_video", args=[lecture_with_video.item.pk])
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == bytes(range(256)) * 40

    part = client.get(url, HTTP_RANGE="bytes=256-511")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 256-511/10240"
    assert b"".join(part.streaming_content) == bytes(range(256))

    suffix = client.get(url, HTTP_RANGE="bytes=-10")
    assert suffix["Content-Range"] == "bytes 10230-10239/10240"
    open_ended = client.get(url, HTTP_RANGE="bytes=10000-")
    assert open_ended["Content-Length"] == "240"
    assert client.get(url, HTTP_RANGE="bytes=999999-").status_code == 416


def test_production_hands_the_file_to_nginx(client, settings, lecture_with_video):
    settings.MEDIA_X_ACCEL_REDIRECT = True
    client.force_login(subscriber())
    response = client.get(reverse("courses:lecture_video", args=[lecture_with_video.item.pk]))
    assert response["X-Accel-Redirect"] == "/protected-media/lectures/clip.mp4"
    assert response.content == b""


def test_captions_are_webvtt(client, lecture_with_video):
    client.force_login(subscriber())
    response = client.get(reverse("courses:lecture_captions", args=[lecture_with_video.item.pk]))
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/vtt")
    assert text.startswith("WEBVTT")
    assert "00:00:02.000 --> 00:00:04.000\nSecond line." in text


def test_vtt_escapes_arrows():
    vtt = media.captions_to_vtt([{"start": 0, "end": 61.5, "text": "a --> b"}])
    assert "00:00:00.000 --> 00:01:01.500\na -> b" in vtt


def test_unreleased_course_is_coming_soon_with_notify_me(client):
    course = CourseFactory(release_date=datetime.date.today() + datetime.timedelta(days=30))
    reading = ReadingFactory(item__week__course=course, item__course=course)
    learner = UserFactory()
    client.force_login(learner)
    page = client.get(course.get_absolute_url()).content.decode()
    assert "Coming soon" in page and "Notify me" in page
    assert client.get(reading.item.get_absolute_url()).status_code == 403
    client.post(reverse("courses:course_notify", args=[course.slug]))
    assert course.notify_requests.filter(user=learner).exists()
    assert "We&#x27;ll e-mail you" in client.get(course.get_absolute_url()).content.decode()


def test_progress_endpoint_saves_and_rejects_bad_input(client, lecture_with_video):
    learner = subscriber()
    url = reverse("courses:item_progress", args=[lecture_with_video.item.pk])
    anonymous = client.post(url, data=json.dumps({"position": 1, "ranges": []}), content_type="application/json")
    assert anonymous.status_code == 401
    client.force_login(learner)
    ok = client.post(url, data=json.dumps({"position": 9.5, "ranges": [[0, 9.5]]}), content_type="application/json")
    assert ok.json() == {"complete": True, "watched": 0.95, "position": 9.5}
    for body in ["not json", "[1, 2]", json.dumps({"position": "x"}), json.dumps({"position": 1, "ranges": "all"})]:
        bad = client.post(url, data=body, content_type="application/json")
        assert bad.status_code == 400, body
        assert "error" in bad.json()
    assert ItemProgress.objects.get(user=learner).position_seconds == 9.5


def test_reading_renders_markdown_math_and_can_be_marked_complete(client):
    reading = ReadingFactory(body="## Sigmoid\n\n$$\\sigma(z) = \\frac{1}{1+e^{-z}}$$\n\n<script>alert(1)</script>\n")
    learner = subscriber()
    client.force_login(learner)
    page = client.get(reading.item.get_absolute_url()).content.decode()
    assert "<h2>Sigmoid</h2>" in page
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in page
    assert "<script>alert(1)</script>" not in page
    response = client.post(reverse("courses:item_progress", args=[reading.item.pk]), HTTP_HX_REQUEST="true")
    assert "Marked as complete" in response.content.decode()
    assert ItemProgress.objects.get(user=learner, item=reading.item).is_complete


def test_interviews_need_an_account(client):
    interview = InterviewFactory()
    assert client.get(reverse("courses:interviews")).status_code == 200
    assert client.get(interview.get_absolute_url()).status_code == 403
    client.force_login(UserFactory())
    page = client.get(interview.get_absolute_url())
    assert page.status_code == 200 and interview.guest in page.content.decode()


def test_progress_page_shows_bars_per_course_and_week(client, lecture_with_video):
    learner = UserFactory()
    ItemProgress.objects.create(
        user=learner, item=lecture_with_video.item, completed_at=datetime.datetime.now(datetime.UTC)
    )
    client.force_login(learner)
    page = client.get(reverse("courses:progress")).content.decode()
    assert "100%" in page and 'role="progressbar"' in page


# ---- query counts: pages cost the same however many weeks and items a course has ----------


def _build_course(weeks: int, items_per_week: int):
    course = CourseFactory()
    for _ in range(weeks):
        week = WeekFactory(course=course)
        for _ in range(items_per_week):
            LectureFactory(item__week=week, item__course=course)
    return course


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["home", "catalog", "course", "lecture", "progress"])
def test_query_count_does_not_grow_with_course_size(client, page):
    learner = subscriber()
    client.force_login(learner)
    small = _build_course(weeks=1, items_per_week=2)
    big = _build_course(weeks=6, items_per_week=8)
    for course in (small, big):
        for item in course.items.all()[:3]:
            ItemProgress.objects.create(user=learner, item=item, position_seconds=1)

    def url(course):
        return {
            "home": reverse("courses:home"),
            "catalog": reverse("courses:catalog"),
            "course": course.get_absolute_url(),
            "lecture": course.items.order_by("week__number", "order").last().get_absolute_url(),
            "progress": reverse("courses:progress"),
        }[page]

    small_count = _count(client, url(small))
    assert _count(client, url(big)) == small_count
    # 12 + the header's notification bell; item pages + 3 for the forum's questions panel under every item
    # (the member's mutes and bans, the questions, the posting decision's course facts)
    # progress + 2: the schedule (the learner's enrolments; 3 queries when they have some) and their
    # calendar address
    budget = {"lecture": 16, "progress": 15}.get(page, 13)
    assert small_count <= budget, f"{page} page uses {small_count} queries"
