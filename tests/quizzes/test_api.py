"""quizzes.api.quiz_results: many quiz items in one query, the same answer as quiz_result for each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quizzes import api
from quizzes.models import Attempt
from tests.factories import QuizFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_quiz_results_match_quiz_result_for_each_item_in_one_query():
    user = UserFactory()
    passed, failed, untouched = QuizFactory(), QuizFactory(), QuizFactory()
    now = timezone.now()
    Attempt.objects.create(quiz=passed, user=user, number=1, status="submitted", started_at=now, percent=50)
    Attempt.objects.create(
        quiz=passed, user=user, number=2, status="submitted", started_at=now, percent=90, passed=True
    )
    Attempt.objects.create(quiz=failed, user=user, number=1, status="in_progress", started_at=now)
    ids = [passed.pk, failed.pk, untouched.pk]
    with CaptureQueriesContext(connection) as queries:
        results = api.quiz_results(user_id=user.pk, item_ids=ids)
    assert len(queries) == 1
    assert results == {item_id: api.quiz_result(user_id=user.pk, item_id=item_id) for item_id in ids}
    assert results[passed.pk].best_percent == 90 and results[passed.pk].passed
    assert results[failed.pk].attempts == 1 and results[failed.pk].best_percent is None
    assert api.pass_marks(item_ids=ids) == {quiz.pk: quiz.pass_percent for quiz in (passed, failed, untouched)}
