"""courses.api.enrollments_of: the courses a learner is enrolled in, with their schedule start."""

import datetime

import pytest

from courses import api
from courses.models import Enrollment
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_enrollments_come_in_course_order_with_the_schedule_start():
    user = UserFactory()
    second, first = CourseFactory(order=2), CourseFactory(order=1)
    api.enrollment_ensure(user=user, course=second)
    api.enrollment_ensure(user=user, course=first)
    start = datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC)
    Enrollment.objects.filter(course=second).update(schedule_start=start)
    rows = api.enrollments_of(user_id=user.pk)
    assert [r.course_slug for r in rows] == [first.slug, second.slug]
    assert rows[1].schedule_start == start
    assert rows[0].schedule_start == rows[0].enrolled_at
    assert api.enrollments_of(user_id=UserFactory().pk) == []
