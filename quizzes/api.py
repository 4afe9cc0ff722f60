"""The quizzes app's public door: other apps import only this module.

Quizzes plug into the course pages and the completion rule through courses.api (registered in
QuizzesConfig.ready); what others may ask is a learner's result on a quiz item.
"""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Max, Q

from .models import Attempt, AttemptStatus, Quiz


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


def quiz_results(*, user_id: int, item_ids) -> dict[int, QuizResult]:
    """`quiz_result` for many quiz items at once (one query): the REST API's grades."""
    item_ids = list(item_ids)
    rows = (
        Attempt.objects.filter(user_id=user_id, quiz_id__in=item_ids)
        .values("quiz_id")
        .annotate(
            attempts=Count("pk"),
            best=Max("percent", filter=Q(status=AttemptStatus.SUBMITTED)),
            passes=Count("pk", filter=Q(passed=True)),
        )
    )
    found = {row["quiz_id"]: row for row in rows}
    return {
        item_id: QuizResult(
            item_id=item_id,
            attempts=found.get(item_id, {}).get("attempts", 0),
            best_percent=found.get(item_id, {}).get("best"),
            passed=bool(found.get(item_id, {}).get("passes")),
        )
        for item_id in item_ids
    }


def pass_marks(*, item_ids) -> dict[int, int]:
    """Each quiz item's pass mark, in percent (one query)."""
    return dict(Quiz.objects.filter(pk__in=list(item_ids)).values_list("pk", "pass_percent"))


__all__ = ["QuizResult", "pass_marks", "quiz_result", "quiz_results"]
