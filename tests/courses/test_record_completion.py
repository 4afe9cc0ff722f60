"""The operator command that records a course completion."""

import pytest
from django.core.management import CommandError, call_command

from courses.models import CourseCompletion
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_records_once_and_refuses_unknown_input(capsys):
    learner = UserFactory(email="lee@example.com")
    course = CourseFactory(slug="nn-dl", title="Neural Networks")
    with pytest.raises(CommandError, match="No account"):
        call_command("record_completion", "nobody@example.com", "nn-dl")
    with pytest.raises(CommandError, match=r"No course 'nope'\. Courses: nn-dl"):
        call_command("record_completion", "lee@example.com", "nope")
    call_command("record_completion", "LEE@example.com", "nn-dl", "--dry-run")
    assert not CourseCompletion.objects.exists()
    call_command("record_completion", "lee@example.com", "nn-dl")
    call_command("record_completion", "lee@example.com", "nn-dl")
    assert CourseCompletion.objects.get().user == learner and "completed Neural Networks" in capsys.readouterr().out
    assert CourseCompletion.objects.filter(course=course).count() == 1
