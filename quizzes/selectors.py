"""Reads for quiz pages and for the completion rule. Each page costs a fixed number of queries."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from access import api as access

from . import rules
from .models import Attempt, AttemptQuestion, AttemptStatus, Option, Quiz


def passed_item_ids(user, items: Iterable) -> set[int]:
    """The passed checker registered for quiz items: quizzes with at least one passed attempt."""
    ids = [item.pk for item in items]
    if not ids or not user.is_authenticated:
        return set()
    return set(Attempt.objects.filter(user=user, quiz_id__in=ids, passed=True).values_list("quiz_id", flat=True))


@dataclasses.dataclass
class QuizPage:
    quiz: Quiz
    question_count: int
    attempts: list[Attempt]
    current: Attempt | None
    best: float | None
    passed: bool
    access: access.Decision  # may the learner take it now, and why not
    remaining: int
    next_at: datetime.datetime | None


def quiz_page(*, user, item, now: datetime.datetime | None = None) -> QuizPage:
    now = now or timezone.now()
    quiz = Quiz.objects.filter(item=item).first()
    if quiz is None:
        raise Http404("This quiz has no questions yet.")
    quiz.item = item
    pools = quiz.pools.annotate(active=Count("questions", filter=Q(questions__retired=False)))
    count = sum(pool.active if pool.draw is None else min(pool.draw, pool.active) for pool in pools)
    attempts = list(Attempt.objects.filter(user=user, quiz=quiz).order_by("-number")) if user.is_authenticated else []
    current = next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None)
    if current and rules.is_past_deadline(current, now):
        current = None  # closed by its timer; the next start records that
    window = rules.check_attempt_window(quiz=quiz, started=[a.started_at for a in attempts], now=now)
    scored = [a.percent for a in attempts if a.status == AttemptStatus.SUBMITTED and a.percent is not None]
    return QuizPage(
        quiz=quiz,
        question_count=count,
        attempts=attempts,
        current=current,
        best=max(scored) if scored else None,
        passed=any(a.passed for a in attempts),
        access=access.can_take_quiz(user, item),
        remaining=window.remaining,
        next_at=window.next_at if not current else None,
    )


@dataclasses.dataclass
class AttemptRow:
    row: AttemptQuestion
    options: list[Option]  # in the order this attempt shows them

    @property
    def question(self):
        return self.row.question

    @property
    def chosen(self) -> set[int]:
        return set(self.row.response) if isinstance(self.row.response, list) else set()


@dataclasses.dataclass
class AttemptView:
    attempt: Attempt
    rows: list[AttemptRow]
    seconds_left: int | None


def attempt_get(*, user, attempt_id: int, now: datetime.datetime | None = None) -> AttemptView:
    """An attempt with its questions and options (in this attempt's order), in four queries."""
    now = now or timezone.now()
    attempt = (
        Attempt.objects.select_related("quiz__item__course", "quiz__item__week")
        .prefetch_related(
            Prefetch(
                "questions",
                queryset=AttemptQuestion.objects.select_related("question").prefetch_related("question__options"),
            )
        )
        .filter(pk=attempt_id, user=user)
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt.")
    rows = []
    for row in attempt.questions.all():
        by_id = {option.pk: option for option in row.question.options.all()}
        rows.append(AttemptRow(row=row, options=[by_id[pk] for pk in row.option_order if pk in by_id]))
    seconds_left = None
    if attempt.deadline and attempt.status == AttemptStatus.IN_PROGRESS:
        seconds_left = max(0, int((attempt.deadline - now).total_seconds()))
    return AttemptView(attempt=attempt, rows=rows, seconds_left=seconds_left)


def attempt_is_open(*, attempt: Attempt, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return False
    return not rules.is_past_deadline(attempt, now)


def quiz_for_item(*, item_id: int) -> Quiz:
    quiz = Quiz.objects.select_related("item__course").filter(item_id=item_id).first()
    if quiz is None:
        raise Http404("This quiz has no questions yet.")
    return quiz
