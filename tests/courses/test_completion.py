"""Completion rules: graded kinds only, recorded once, regrades flagged (never silently revoked);
suggested deadlines and their reset; progress for the whole specialization."""

import datetime

import pytest
from django.urls import reverse

from courses import registry, selectors, services
from courses.models import CompletionRegression, CourseCompletion, ItemProgress
from tests.factories import CourseFactory, ItemFactory, UserFactory, WeekFactory

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def checkers():
    """Stand-in passed checkers for two graded kinds, driven by a set of passed item ids."""
    passed: set[int] = set()
    saved = dict(registry._passed_checkers)
    registry._passed_checkers.clear()
    for kind in ("quiz", "assignment"):
        registry.register_passed_checker(kind, lambda user, items: {i.pk for i in items} & passed)
    yield passed
    registry._passed_checkers.clear()
    registry._passed_checkers.update(saved)


def _course_with(*kinds):
    week = WeekFactory()
    return week.course, [ItemFactory(week=week, kind=kind) for kind in kinds]


def test_course_is_complete_when_every_graded_item_is_passed(checkers, django_capture_on_commit_callbacks):
    course, (quiz, assignment, reading) = _course_with("quiz", "assignment", "reading")
    learner = UserFactory()
    checkers.add(quiz.pk)
    assert services.course_completion_evaluate(user=learner, course=course, now=T0) is None

    checkers.add(assignment.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        completion = services.course_completion_evaluate(user=learner, course=course, now=T0)
    assert completion.completed_at == T0 and len(callbacks) >= 1  # the course_completed signal
    assert not ItemProgress.objects.filter(item=reading).exists()  # ungraded items do not count


def test_kinds_without_a_checker_do_not_count(checkers):
    course, (quiz, _peer) = _course_with("quiz", "peer_review")
    checkers.add(quiz.pk)
    assert services.course_completion_evaluate(user=UserFactory(), course=course, now=T0) is not None


def test_a_course_without_graded_items_is_never_completed_by_the_rule(checkers):
    course, _ = _course_with("lecture", "reading")
    assert services.course_completion_evaluate(user=UserFactory(), course=course, now=T0) is None
    assert not CourseCompletion.objects.exists()


def test_completion_is_recorded_once_with_its_first_date(checkers):
    course, (quiz,) = _course_with("quiz")
    learner = UserFactory()
    checkers.add(quiz.pk)
    first = services.course_completion_evaluate(user=learner, course=course, now=T0)
    checkers.clear()  # a later regrade: the rule no longer holds
    later = services.course_completion_evaluate(user=learner, course=course, now=T0 + datetime.timedelta(days=3))
    assert later.pk == first.pk and later.completed_at == T0


def test_a_regrade_below_the_pass_mark_is_flagged_not_revoked(checkers):
    course, (quiz,) = _course_with("quiz")
    learner = UserFactory()
    checkers.add(quiz.pk)
    services.course_completion_evaluate(user=learner, course=course, now=T0)

    flag = services.course_completion_flag_regression(user=learner, item=quiz, detail="Regraded: 62 % (was 85 %).")
    again = services.course_completion_flag_regression(user=learner, item=quiz, detail="Regraded: 55 % (was 62 %).")

    assert flag.pk == again.pk and "55 %" in again.detail and "62 %" in again.detail
    assert CourseCompletion.objects.filter(user=learner, course=course).exists()
    staff = UserFactory(is_staff=True)
    services.completion_regression_resolve(regression=again, staff=staff, resolution="Kept: grader bug.")
    assert CompletionRegression.objects.get().resolved_by == staff
    new = services.course_completion_flag_regression(user=learner, item=quiz, detail="Another regrade.")
    assert new.pk != flag.pk  # a resolved flag is closed; a new drop opens a new one


def test_no_flag_when_the_course_was_not_completed():
    _course, (quiz,) = _course_with("quiz")
    assert services.course_completion_flag_regression(user=UserFactory(), item=quiz, detail="x") is None
    assert not CompletionRegression.objects.exists()


def test_passing_marks_a_graded_item_complete_once():
    _course, (quiz,) = _course_with("quiz")
    learner = UserFactory()
    services.item_progress_mark_passed(user=learner, item=quiz, now=T0)
    services.item_progress_mark_passed(user=learner, item=quiz, now=T0 + datetime.timedelta(days=1))
    assert ItemProgress.objects.get(user=learner, item=quiz).completed_at == T0


def test_suggested_deadlines_count_from_enrolment_and_reset_moves_them():
    course = CourseFactory()
    weeks = [WeekFactory(course=course, number=n) for n in (1, 2, 3)]
    items = [ItemFactory(week=week, kind="reading") for week in weeks]
    learner = UserFactory()
    enrollment = services.enrollment_ensure(user=learner, course=course)
    enrollment.created_at = T0
    enrollment.save()
    services.item_mark_complete(user=learner, item=items[0], now=T0)

    rows = selectors.course_outline(
        user=learner, course=course, can_view=lambda item: True, now=T0 + datetime.timedelta(days=20)
    ).weeks
    assert [r.deadline for r in rows] == [T0 + datetime.timedelta(weeks=n) for n in (1, 2, 3)]
    assert [r.overdue for r in rows] == [False, True, False]  # week 1 is done, week 2 is late

    later = T0 + datetime.timedelta(days=20)
    services.enrollment_reset_deadlines(user=learner, course=course, now=later)
    rows = selectors.course_outline(user=learner, course=course, can_view=lambda item: True, now=later).weeks
    assert rows[1].deadline == later + datetime.timedelta(weeks=1)  # the first unfinished week
    assert rows[2].deadline == later + datetime.timedelta(weeks=2)
    assert not any(r.overdue for r in rows)


def test_course_page_offers_a_reset_and_says_when_the_course_was_completed(client):
    course = CourseFactory()
    ItemFactory(week=WeekFactory(course=course, number=1), kind="reading")
    learner = UserFactory()
    services.enrollment_ensure(user=learner, course=course)
    client.force_login(learner)
    assert "Reset my deadlines" in client.get(course.get_absolute_url()).content.decode()
    response = client.post(reverse("courses:course_reset_deadlines", args=[course.slug]), follow=True)
    assert "Your deadlines were moved" in response.content.decode()

    services.course_completion_record(user=learner, course=course, now=T0)
    page = client.get(course.get_absolute_url()).content.decode()
    assert "You completed this course on 2 March 2026" in page


def test_progress_page_shows_the_whole_specialization(client):
    first, second = CourseFactory(), CourseFactory()
    for course in (first, second):
        ItemFactory(week=WeekFactory(course=course, number=1), kind="reading")
    learner = UserFactory()
    services.item_mark_complete(user=learner, item=first.items.get(), now=T0)
    services.course_completion_record(user=learner, course=first, now=T0)
    client.force_login(learner)
    page = client.get(reverse("courses:progress")).content.decode()
    assert "1 of 2 items · 1 of 2 courses completed" in page
    assert "✓ Course completed" in page


def test_a_course_that_asks_for_every_item_completes_with_its_last_reading(checkers):
    course, (quiz, reading) = _course_with("quiz", "reading")
    course.completion_rule = "all"
    course.save()
    learner = UserFactory()
    checkers.add(quiz.pk)
    services.item_progress_mark_passed(user=learner, item=quiz, now=T0)
    assert services.course_completion_evaluate(user=learner, course=course, now=T0) is None  # the reading is open
    services.item_mark_complete(user=learner, item=reading, now=T0 + datetime.timedelta(hours=1))
    completion = CourseCompletion.objects.get(user=learner, course=course)
    assert completion.completed_at == T0 + datetime.timedelta(hours=1)


def test_course_page_says_graded_items_passed_apart_from_material_viewed(client, checkers):
    course, (quiz, *_readings) = _course_with("quiz", "reading", "reading", "reading")
    from tests.factories import SubscriptionFactory

    learner = SubscriptionFactory().user
    checkers.add(quiz.pk)
    services.item_progress_mark_passed(user=learner, item=quiz, now=T0)
    services.course_completion_evaluate(user=learner, course=course, now=T0)
    client.force_login(learner)
    page = client.get(course.get_absolute_url()).content.decode()
    assert "every graded item passed" in page
    assert "Graded items passed 1/1" in page and "Material viewed 25 %" in page
    progress = client.get(reverse("courses:progress")).content.decode()
    assert "✓ Course completed: graded items passed 1/1" in progress and "material viewed 25 %" in progress


@pytest.mark.slow
def test_the_completion_rule_travels_in_the_pack_and_a_bad_one_is_refused_with_its_line(demo_pack_copy, tmp_path):
    from courses.models import Course
    from courses.packs import PackError, load_pack, pack_apply, pack_export

    course_yaml = demo_pack_copy / "courses" / "structuring-machine-learning-projects" / "course.yaml"
    text = course_yaml.read_text()
    course_yaml.write_text(text.replace("title:", "completion: everything\ntitle:", 1))
    with pytest.raises(PackError) as error:
        load_pack(demo_pack_copy)
    expected = "course.yaml:2: 'completion' must be one of graded, all"
    assert any(expected in e for e in error.value.errors), error.value.errors

    course_yaml.write_text(text.replace("title:", "completion: all\ntitle:", 1))
    pack_apply(pack=load_pack(demo_pack_copy))
    course = Course.objects.get(slug="structuring-machine-learning-projects")
    assert course.completion_rule == "all"
    pack_export(specialization=course.specialization, out=tmp_path / "out")
    exported = (tmp_path / "out" / "courses" / course.slug / "course.yaml").read_text()
    assert "completion: all" in exported
    assert load_pack(tmp_path / "out").courses[2].completion == "all"
