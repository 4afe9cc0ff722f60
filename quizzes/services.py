"""Quiz attempts: start (draw and shuffle), submit (check, score on the server, record), and the rules
around them: attempt limits per window, one attempt in progress, time limits, the best score kept."""

from __future__ import annotations

import datetime
import random
import secrets

from django.db import transaction
from django.utils import timezone

from access import api as access
from courses import api as courses

from . import rules
from .models import Attempt, AttemptQuestion, AttemptStatus, Question, QuestionKind, Quiz
from .questions import InvalidAnswer, choice_correct, numeric_correct, parse_number, text_correct


class QuizError(Exception):
    """Something the learner did that we refuse, with a message written for them."""


class AttemptLimitReached(QuizError):
    def __init__(self, message: str, *, next_at: datetime.datetime):
        super().__init__(message)
        self.next_at = next_at


class AttemptClosed(QuizError):
    """The attempt was already submitted (double submission) or closed by its timer."""


class AttemptExpired(QuizError):
    """Answers arrived after the time limit (and its grace); the attempt was closed without them."""


class UnansweredQuestions(QuizError):
    """Some questions have no answer and the learner did not confirm submitting anyway; nothing saved."""

    def __init__(self, *, positions: list[int]):
        self.positions = positions
        count = len(positions)
        super().__init__(
            f"You have not answered {count} question{'' if count == 1 else 's'}. "
            "Answer them, or submit anyway: unanswered questions score zero."
        )


class AnswerRejected(QuizError):
    """A malformed or tampered answer: nothing is saved, the attempt stays open."""


LAST_MINUTE = datetime.timedelta(minutes=1)


def attempt_start(
    *, user, quiz: Quiz, now: datetime.datetime | None = None, rng: random.Random | None = None
) -> Attempt:
    """Start an attempt: draw the questions from each pool and fix their order and option order.

    The attempt in progress, if any, is returned instead (a reload or a second tab does not burn an
    attempt). Raises AttemptLimitReached when the window's attempts are used up, AccessDenied when
    the learner may not submit work for this course."""
    now = now or timezone.now()
    rng = rng or secrets.SystemRandom()
    access.can_take_quiz(user, quiz.item).require()
    with transaction.atomic():
        # Serialise starts per learner and quiz, so two tabs cannot both pass the limit check.
        Quiz.objects.select_for_update().filter(pk=quiz.pk).first()
        current = Attempt.objects.filter(user=user, quiz=quiz, status=AttemptStatus.IN_PROGRESS).first()
        if current is not None:
            if not rules.is_past_deadline(current, now):
                return current
            _expire(current, now)
        started = Attempt.objects.filter(user=user, quiz=quiz).values_list("started_at", flat=True)
        window = rules.check_attempt_window(quiz=quiz, started=list(started), now=now)
        if not window:
            raise AttemptLimitReached(window.message, next_at=window.next_at)
        drawn = _draw(quiz, rng)
        if not drawn:
            raise QuizError("This quiz has no questions yet.")
        number = Attempt.objects.filter(user=user, quiz=quiz).order_by("-number").values_list("number", flat=True)[:1]
        attempt = Attempt.objects.create(
            quiz=quiz,
            user=user,
            number=(number[0] if number else 0) + 1,
            started_at=now,
            deadline=now + datetime.timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None,
            max_score=sum(q.points for q in drawn),
        )
        AttemptQuestion.objects.bulk_create(
            AttemptQuestion(
                attempt=attempt,
                question=question,
                position=position,
                option_order=_option_order(question, quiz.shuffle_options, rng),
                max_points=question.points,
            )
            for position, question in enumerate(drawn, start=1)
        )
    return attempt


def _draw(quiz: Quiz, rng: random.Random) -> list[Question]:
    drawn: list[Question] = []
    for pool in quiz.pools.prefetch_related("questions__options"):
        active = [q for q in pool.questions.all() if not q.retired]
        count = len(active) if pool.draw is None else min(pool.draw, len(active))
        drawn += rng.sample(active, count) if count < len(active) else active
    if quiz.shuffle_questions:
        rng.shuffle(drawn)
    return drawn


def _option_order(question: Question, shuffle: bool, rng: random.Random) -> list[int]:
    ids = [option.pk for option in question.options.all()]
    if shuffle:
        rng.shuffle(ids)
    return ids


def _expire(attempt: Attempt, now: datetime.datetime) -> None:
    """Close an attempt whose time ran out. It counts as an attempt, with no answers and no score."""
    attempt.status = AttemptStatus.EXPIRED
    attempt.submitted_at = now
    attempt.score, attempt.percent, attempt.passed = 0, 0, False
    attempt.save(update_fields=["status", "submitted_at", "score", "percent", "passed"])


def attempt_expire_if_due(*, attempt: Attempt, now: datetime.datetime | None = None) -> bool:
    """Close an attempt whose time limit (and grace) has passed without a submission. True if it did."""
    now = now or timezone.now()
    if attempt.status != AttemptStatus.IN_PROGRESS or not rules.is_past_deadline(attempt, now):
        return False
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status != AttemptStatus.IN_PROGRESS:
            return False
        _expire(locked, now)
    attempt.status, attempt.submitted_at = locked.status, locked.submitted_at
    attempt.score, attempt.percent, attempt.passed = locked.score, locked.percent, locked.passed
    return True


def attempt_submit(
    *,
    user,
    attempt_id: int,
    answers: dict[str, list[str]],
    confirm_unanswered: bool = False,
    now: datetime.datetime | None = None,
):
    """Check and score an attempt's answers on the server, once.

    `answers` maps `q-<attempt question id>` to the submitted values (option ids, or one number or text).
    Rejected, with nothing saved: an attempt already submitted (AttemptClosed), answers after the time
    limit (AttemptExpired; the attempt is closed), answers to questions not in the attempt, option ids
    the question did not offer, or a number that does not parse (AnswerRejected; the attempt stays open),
    and questions left blank unless `confirm_unanswered` (UnansweredQuestions; the attempt stays open, so a
    blank form sent by mistake does not use up an attempt). In a timed attempt's last minute, blanks are
    accepted without confirmation: the timer submits what there is, and there is no time to ask.
    A passed attempt queues what it means for the learner (the item complete, perhaps the course)."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update()
            .select_related("quiz__item__course")
            .filter(pk=attempt_id, user=user)
            .first()
        )
        if attempt is None:
            raise AttemptClosed("This attempt does not exist or is not yours.")
        if attempt.status != AttemptStatus.IN_PROGRESS:
            when = timezone.localtime(attempt.submitted_at)
            verb = "submitted" if attempt.status == AttemptStatus.SUBMITTED else "closed when its time ran out"
            raise AttemptClosed(f"This attempt was already {verb} ({when:%H:%M:%S}); your answers were not changed.")
        expired = rules.is_past_deadline(attempt, now)
        if expired:
            _expire(attempt, now)
    if expired:  # the closing above is committed; the late answers are not taken
        raise AttemptExpired(
            "Time ran out for this attempt, so these answers could not be accepted. "
            "The attempt is closed with no score and counts towards your limit."
        )

    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().select_related("quiz__item__course").get(pk=attempt_id)
        if attempt.status != AttemptStatus.IN_PROGRESS:  # a concurrent submission won the race
            raise AttemptClosed("This attempt was already submitted; your answers were not changed.")
        access.can_take_quiz(user, attempt.quiz.item).require()
        rows = list(attempt.questions.select_related("question").prefetch_related("question__options"))
        by_key = {f"q-{row.pk}": row for row in rows}
        unknown = [key for key in answers if key not in by_key]
        if unknown:
            raise AnswerRejected("Your answers include a question that is not part of this attempt. Nothing was saved.")
        score = 0.0
        for row in rows:
            values = [str(v) for v in answers.get(f"q-{row.pk}", [])]
            try:
                row.response, row.is_correct = _check(row, values)
            except InvalidAnswer as exc:
                raise AnswerRejected(f"Question {row.position}: {exc}. Nothing was saved.") from None
            row.points_awarded = row.max_points if row.is_correct else 0.0
            score += row.points_awarded
        # In the last minute there is no time for a "Submit anyway" round trip (without JavaScript it could
        # land after the grace and lose the attempt): blanks are then taken as they are.
        no_time_to_ask = attempt.deadline is not None and now >= attempt.deadline - LAST_MINUTE
        if not confirm_unanswered and not no_time_to_ask:
            blank = [row.position for row in rows if not _is_answered(answers.get(f"q-{row.pk}", []))]
            if blank:
                raise UnansweredQuestions(positions=blank)
        AttemptQuestion.objects.bulk_update(rows, ["response", "is_correct", "points_awarded"])
        attempt.score = score
        attempt.percent = round(100 * score / attempt.max_score, 2) if attempt.max_score else 0.0
        attempt.passed = rules.passes(attempt.percent, pass_percent=attempt.quiz.pass_percent)
        attempt.status = AttemptStatus.SUBMITTED
        attempt.submitted_at = now
        attempt.save(update_fields=["score", "percent", "passed", "status", "submitted_at"])
        if attempt.passed:  # progress, completion and certificates follow in a queued task after the commit
            courses.graded_result_changed(user_id=user.pk, item_id=attempt.quiz.item_id, at=now)
    return attempt


def _is_answered(values: list[str]) -> bool:
    return any(str(value).strip() for value in values)


def _check(row: AttemptQuestion, values: list[str]) -> tuple[object, bool]:
    """(stored response, correct?) for one question; raises InvalidAnswer for a malformed answer."""
    question = row.question
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        offered = {str(pk) for pk in row.option_order}
        chosen = set(values)
        if not chosen <= offered:
            raise InvalidAnswer("that option is not part of this question (was the page changed?)")
        if question.kind == QuestionKind.SINGLE and len(chosen) > 1:
            raise InvalidAnswer("choose one option only")
        correct = {str(o.pk) for o in question.options.all() if o.is_correct}
        return sorted(int(v) for v in chosen), choice_correct(chosen, correct=correct)
    if len(values) > 1:
        raise InvalidAnswer("send one answer only")
    raw = values[0].strip() if values else ""
    if not raw:
        return "", False
    if question.kind == QuestionKind.NUMERIC:
        value = parse_number(raw)
        return raw, numeric_correct(value, answer=question.numeric_answer, tolerance=question.tolerance)
    return raw, text_correct(
        raw, answers=question.text_answers, pattern=question.text_pattern, case_sensitive=question.case_sensitive
    )
