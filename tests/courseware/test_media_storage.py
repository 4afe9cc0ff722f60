"""Media in an S3-compatible object store (moto in server mode on 127.0.0.1): videos and course archives are
written there, and a learner the access policy let in is redirected to a short-lived signed URL."""

import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from courses import services as course_services
from courses.models import Lecture
from courseware import services
from courseware.models import CourseArchive
from tests.factories import LectureFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
CONTENT = bytes(range(256)) * 40  # 10240 bytes of known content


def fetch(url: str, **headers) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def lecture_in_bucket(s3_media):
    lecture = LectureFactory(item__is_preview=False)
    lecture.video.name = default_storage.save("lectures/clip.mp4", ContentFile(CONTENT))
    lecture.save()
    return lecture


def test_a_subscriber_is_sent_to_a_signed_url_that_serves_ranges(client, s3_media, lecture_in_bucket):
    endpoint, bucket, s3 = s3_media
    assert s3.get_object(Bucket=bucket, Key="lectures/clip.mp4")["Body"].read() == CONTENT
    client.force_login(SubscriptionFactory().user)
    response = client.get(reverse("courses:lecture_video", args=[lecture_in_bucket.item.pk]))

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert location.startswith(f"{endpoint}/{bucket}/lectures/clip.mp4?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    status, body = fetch(location, Range="bytes=256-511")
    assert (status, body) == (206, bytes(range(256)))
    unsigned = location.split("?")[0]
    assert fetch(unsigned)[0] == 403  # the bucket is private: only the signed URL opens it


def test_the_access_policy_decides_before_any_url_is_signed(client, lecture_in_bucket):
    url = reverse("courses:lecture_video", args=[lecture_in_bucket.item.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 403 and "Location" not in anonymous
    client.force_login(SubscriptionFactory(status="canceled").user)
    lapsed = client.get(url)
    assert lapsed.status_code == 403 and b"X-Amz" not in lapsed.content


def test_a_video_missing_from_the_bucket_is_a_404(client, lecture_in_bucket):
    default_storage.delete("lectures/clip.mp4")
    client.force_login(SubscriptionFactory().user)
    assert client.get(reverse("courses:lecture_video", args=[lecture_in_bucket.item.pk])).status_code == 404


def test_rendered_videos_are_written_to_the_bucket(s3_media):
    _, bucket, s3 = s3_media
    lecture = LectureFactory(captions=[{"start": 0.0, "end": 1.0, "text": "Hello"}])
    assert course_services.media_render_missing() >= 1
    lecture = Lecture.objects.get(pk=lecture.pk)
    body = s3.get_object(Bucket=bucket, Key=lecture.video.name)["Body"].read()
    assert lecture.video.name.startswith("lectures/") and body[4:8] == b"ftyp"  # an MP4
    assert course_services.media_render_missing() == 0  # found in the bucket: not rendered again


def test_course_archives_are_built_into_the_bucket_and_downloaded_by_signed_url(
    client,
    s3_media,
    completed_course,
):
    _, bucket, s3 = s3_media
    course, learner, _ = completed_course
    archive = services.archive_request(user=learner, course=course)
    services.archive_build(archive_id=archive.pk)
    archive.refresh_from_db()
    assert archive.status == "ready"
    stored = s3.get_object(Bucket=bucket, Key=archive.file)["Body"].read()
    assert stored[:2] == b"PK" and len(stored) == archive.size_bytes

    client.force_login(learner)
    response = client.get(reverse("courses:archive_download", args=[archive.pk]))
    assert response.status_code == 302
    status, body = fetch(response["Location"])
    assert (status, body) == (200, stored)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(response["Location"]).query)
    assert query["response-content-disposition"] == [f'attachment; filename="{course.slug}.zip"']

    second = services.archive_request(user=learner, course=course)
    services.archive_build(archive_id=second.pk)
    assert not CourseArchive.objects.filter(pk=archive.pk).exists()
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=archive.file)  # the old file went too
