"""The admin pages for quizzes, attempts, certificates and completion regressions open for staff."""

import datetime

import pytest
from django.urls import reverse

from courses import services as course_services
from quizzes import services
from tests.factories import CertificateFactory, UserFactory
from tests.quizzes.conftest import answers_for, subscriber

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_staff_can_browse_and_resolve_in_the_admin(client, make_quiz, after_commit):
    quiz = make_quiz()
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    with after_commit():
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers_for(attempt), now=T0)
    flag = course_services.course_completion_flag_regression(user=learner, item=quiz.item, detail="Regraded: 40 %")
    certificate = CertificateFactory()
    question = quiz.pools.get().questions.first()
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    for name, obj in [
        ("quizzes_quiz", quiz),
        ("quizzes_question", question),
        ("quizzes_questionpool", quiz.pools.get()),
        ("quizzes_attempt", attempt),
        ("certificates_certificate", certificate),
        ("courses_completionregression", flag),
    ]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200, name

    response = client.post(
        reverse("admin:courses_completionregression_change", args=[flag.pk]), {"resolution": "Kept: grader bug."}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.resolved_by == admin and flag.resolved_at is not None
