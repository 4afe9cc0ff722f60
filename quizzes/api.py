"""The quizzes app's public door: other apps import only this module.

Quizzes plug into the course pages and the completion rule through courses.api (registered in
QuizzesConfig.ready); what others may ask is a learner's result on a quiz item.
"""

from __future__ import annotations

import dataclasses

from django.db.models import Max

from .models import Attempt, AttemptStatus


@dataclasses.dataclass(frozen=True)
class QuizResult:
    item_id: int
    attempts: int
    best_percent: float | None
    passed: bool


def quiz_result(*, user_id: int, item_id: int) -> QuizResult:
    """A learner's standing on a quiz: attempts made, best score (the one that counts), passed or not."""
    attempts = Attempt.objects.filter(user_id=user_id, quiz_id=item_id)
    best = attempts.filter(status=AttemptStatus.SUBMITTED).aggregate(best=Max("percent"))["best"]
    return QuizResult(
        item_id=item_id,
        attempts=attempts.count(),
        best_percent=best,
        passed=attempts.filter(passed=True).exists(),
    )


__all__ = ["QuizResult", "quiz_result"]
