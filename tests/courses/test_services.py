"""Progress rules: merged watched ranges, 90 % completion, readings marked complete."""

import pytest

from courses import services
from courses.models import Enrollment
from tests.factories import ItemFactory, LectureFactory, ReadingFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_lecture_completes_at_ninety_percent_watched():
    lecture = LectureFactory()  # 10 s
    learner = UserFactory()
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=8.5, ranges=[[0, 8.5]])
    assert not progress.is_complete and progress.watched_fraction == pytest.approx(0.85)
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=9, ranges=[[0, 9]])
    assert progress.is_complete
    assert Enrollment.objects.filter(user=learner, course=lecture.item.course).exists()


def test_watching_in_two_visits_adds_up():
    lecture = LectureFactory()
    learner = UserFactory()
    services.progress_record(user=learner, item=lecture.item, position_seconds=5, ranges=[[0, 5]])
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=10, ranges=[[4.8, 10]])
    assert progress.watched_ranges == [[0.0, 10.0]]
    assert progress.is_complete


def test_seeking_to_the_end_does_not_count_as_watching():
    lecture = LectureFactory()
    learner = UserFactory()
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=10, ranges=[[9.5, 10]])
    assert progress.position_seconds == 10
    assert not progress.is_complete


def test_completion_is_never_undone_and_ranges_are_clamped_to_the_video():
    lecture = LectureFactory()
    learner = UserFactory()
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=0, ranges=[[0, 500]])
    assert progress.watched_ranges == [[0.0, 10.0]] and progress.is_complete
    completed_at = progress.completed_at
    progress = services.progress_record(user=learner, item=lecture.item, position_seconds=1, ranges=[])
    assert progress.completed_at == completed_at


@pytest.mark.parametrize(
    ("position", "ranges"),
    [
        (-1, []),
        ("3", []),
        (float("nan"), []),
        (1, "0-5"),
        (1, [[0, "5"]]),
        (1, [[0, 1, 2]]),
        (1, [[0, 1]] * 500),
        (True, []),
    ],
)
def test_malformed_progress_is_rejected_and_nothing_is_saved(position, ranges):
    lecture = LectureFactory()
    learner = UserFactory()
    with pytest.raises(services.ProgressError):
        services.progress_record(user=learner, item=lecture.item, position_seconds=position, ranges=ranges)
    assert not learner.item_progress.exists()


def test_only_lectures_report_playback():
    reading = ReadingFactory()
    with pytest.raises(services.ProgressError):
        services.progress_record(user=UserFactory(), item=reading.item, position_seconds=1, ranges=[])


def test_reading_marked_complete_once():
    reading = ReadingFactory()
    learner = UserFactory()
    first = services.item_mark_complete(user=learner, item=reading.item)
    second = services.item_mark_complete(user=learner, item=reading.item)
    assert first.completed_at == second.completed_at


def test_graded_items_cannot_be_marked_complete_by_hand():
    quiz = ItemFactory(kind="quiz")
    with pytest.raises(services.ProgressError):
        services.item_mark_complete(user=UserFactory(), item=quiz)


def test_merge_ranges():
    assert services.merge_ranges([[5, 6], [0, 2], [1.9, 3], [3.2, 4]]) == [[0, 4], [5, 6]]


def test_course_completion_is_recorded_once_and_signals_after_commit(django_capture_on_commit_callbacks):
    from courses.signals import course_completed, specialization_completed
    from tests.factories import CourseFactory

    course = CourseFactory()
    learner = UserFactory()
    seen = []

    def on_course(**kwargs):
        seen.append(("course", kwargs["course"].pk))

    def on_spec(**kwargs):
        seen.append(("specialization", kwargs["specialization"].pk))

    course_completed.connect(on_course)
    specialization_completed.connect(on_spec)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = services.course_completion_record(user=learner, course=course)
        with django_capture_on_commit_callbacks(execute=True):
            again = services.course_completion_record(user=learner, course=course)
    finally:
        course_completed.disconnect(on_course)
        specialization_completed.disconnect(on_spec)
    assert first.pk == again.pk and first.completed_at == again.completed_at
    assert seen == [("course", course.pk), ("specialization", course.specialization.pk)]


def test_notify_me_list_gets_one_email_when_the_course_opens(mailoutbox):
    import datetime

    from courses.models import CourseNotifyRequest
    from tests.factories import CourseFactory

    course = CourseFactory(release_date=datetime.date(2026, 12, 1))
    learners = [UserFactory(), UserFactory()]
    for learner in learners:
        services.course_notify_request(user=learner, course=course, today=datetime.date(2026, 11, 20))
    assert services.course_release_notify(today=datetime.date(2026, 11, 30)) == 0
    assert services.course_release_notify(today=datetime.date(2026, 12, 1)) == 2
    assert services.course_release_notify(today=datetime.date(2026, 12, 2)) == 0
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in learners)
    assert mailoutbox[0].subject == f"[Deep Learning] {course.title} is open"
    assert course.get_absolute_url() in mailoutbox[0].body
    assert not CourseNotifyRequest.objects.filter(notified_at__isnull=True).exists()
