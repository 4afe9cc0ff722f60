"""Attempt rules: draws and shuffles, limits per window, timers, scoring on the server, rejections."""

import datetime
import random

import pytest

from access import api as access
from courses.models import CourseCompletion, ItemProgress
from quizzes import services
from quizzes.models import Attempt, AttemptQuestion, AttemptStatus
from tests.quizzes.conftest import MULTIPLE, NUMERIC, SINGLE, TEXT, answers_for, subscriber

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _q(n: int) -> dict:
    return {**SINGLE, "prompt": f"Question number {n}"}


def test_all_right_passes_marks_the_item_complete_and_keeps_score_on_the_server(make_quiz, after_commit):
    quiz = make_quiz()
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)

    with after_commit():
        done = services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers_for(attempt), now=T0)

    assert (done.status, done.score, done.max_score, done.percent, done.passed) == ("submitted", 4, 4, 100, True)
    assert ItemProgress.objects.get(user=learner, item=quiz.item).completed_at == T0
    assert set(AttemptQuestion.objects.filter(attempt=done).values_list("is_correct", flat=True)) == {True}


def test_below_the_pass_mark_fails_and_the_item_stays_open(make_quiz):
    quiz = make_quiz(pass_percent=80)
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    answers = answers_for(attempt)
    wrong = answers_for(attempt, right=False)
    first_key = next(iter(answers))
    answers[first_key] = wrong[first_key]  # 3 of 4 right: 75 %

    done = services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers, now=T0)

    assert (done.percent, done.passed) == (75, False)
    assert not ItemProgress.objects.filter(user=learner, item=quiz.item, completed_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("question", "value", "correct"),
    [
        (NUMERIC, "0.5", True),
        (NUMERIC, "0,505", True),  # decimal comma, inside the tolerance
        (NUMERIC, "0.52", False),  # outside the tolerance
        (TEXT, "  Siamese  ", True),  # case and spaces do not matter
        (TEXT, "siamase network", True),  # the pattern
        (TEXT, "triplet", False),
        (TEXT, "", False),
    ],
)
def test_numeric_tolerance_and_short_text_answers(make_quiz, question, value, correct):
    quiz = make_quiz([question])
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    row = attempt.questions.get()
    done = services.attempt_submit(
        user=learner, attempt_id=attempt.pk, answers={f"q-{row.pk}": [value]}, confirm_unanswered=True, now=T0
    )
    assert done.passed is correct


def test_multiple_select_is_all_or_nothing(make_quiz):
    quiz = make_quiz([MULTIPLE])
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    row = attempt.questions.select_related("question").get()
    one_right = [str(o.pk) for o in row.question.options.all() if o.is_correct][:1]

    done = services.attempt_submit(user=learner, attempt_id=attempt.pk, answers={f"q-{row.pk}": one_right}, now=T0)

    assert done.score == 0


def test_pools_draw_their_share_and_each_attempt_shuffles(make_quiz):
    pools = [
        {"name": "a", "draw": 2, "questions": [_q(n) for n in range(5)]},
        {"name": "b", "draw": 1, "questions": [_q(n) for n in range(5, 8)]},
    ]
    quiz = make_quiz(pools=pools, max_attempts=50)
    learner = subscriber()
    rng = random.Random(7)
    seen_sets, option_orders = set(), set()
    for n in range(12):
        attempt = services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(minutes=n), rng=rng)
        rows = list(attempt.questions.select_related("question__pool"))
        assert sorted(r.question.pool.name for r in rows) == ["a", "a", "b"]
        seen_sets.add(frozenset(r.question_id for r in rows))
        option_orders.add(tuple(rows[0].option_order))
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers={}, confirm_unanswered=True, now=T0)
    assert len(seen_sets) > 3  # different draws
    assert len(option_orders) > 1  # different option orders


def test_reloading_resumes_the_attempt_in_progress(make_quiz):
    quiz = make_quiz()
    learner = subscriber()
    first = services.attempt_start(user=learner, quiz=quiz, now=T0)
    again = services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(minutes=5))
    assert first.pk == again.pk and Attempt.objects.count() == 1


def test_attempt_limit_per_window_then_it_opens_again(make_quiz):
    quiz = make_quiz(max_attempts=3, attempt_window_hours=8)
    learner = subscriber()
    for n in range(3):
        attempt = services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(hours=n))
        services.attempt_submit(
            user=learner,
            attempt_id=attempt.pk,
            answers={},
            confirm_unanswered=True,
            now=T0 + datetime.timedelta(hours=n),
        )

    with pytest.raises(services.AttemptLimitReached) as refused:
        services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(hours=5))
    assert refused.value.next_at == T0 + datetime.timedelta(hours=8)
    assert "3 attempts" in str(refused.value)

    fourth = services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(hours=8, seconds=1))
    assert fourth.number == 4


def test_best_score_is_kept_and_a_later_fail_does_not_undo_a_pass(make_quiz):
    from quizzes import selectors

    quiz = make_quiz(max_attempts=5)
    learner = subscriber()
    first = services.attempt_start(user=learner, quiz=quiz, now=T0)
    services.attempt_submit(user=learner, attempt_id=first.pk, answers=answers_for(first), now=T0)
    second = services.attempt_start(user=learner, quiz=quiz, now=T0)
    services.attempt_submit(user=learner, attempt_id=second.pk, answers={}, confirm_unanswered=True, now=T0)

    page = selectors.quiz_page(user=learner, item=quiz.item, now=T0)
    assert (page.best, page.passed, page.remaining) == (100, True, 3)
    assert selectors.passed_item_ids(learner, [quiz.item]) == {quiz.item.pk}


def test_double_submission_is_rejected_and_changes_nothing(make_quiz):
    quiz = make_quiz()
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    services.attempt_submit(user=learner, attempt_id=attempt.pk, answers={}, confirm_unanswered=True, now=T0)

    with pytest.raises(services.AttemptClosed, match="already submitted"):
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers_for(attempt), now=T0)
    attempt.refresh_from_db()
    assert attempt.score == 0


def test_tampered_option_id_is_rejected_and_the_attempt_stays_open(make_quiz):
    quiz = make_quiz([SINGLE, MULTIPLE])
    other = make_quiz([SINGLE])
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    foreign_option = other.pools.get().questions.get().options.filter(is_correct=True).get()
    answers = answers_for(attempt)
    answers[next(iter(answers))] = [str(foreign_option.pk)]

    with pytest.raises(services.AnswerRejected, match="not part of this question"):
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers, now=T0)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS
    assert set(attempt.questions.values_list("response", flat=True)) == {None}


def test_two_options_on_a_single_choice_question_are_rejected(make_quiz):
    quiz = make_quiz([SINGLE])
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    row = attempt.questions.get()
    with pytest.raises(services.AnswerRejected, match="one option"):
        services.attempt_submit(
            user=learner, attempt_id=attempt.pk, answers={f"q-{row.pk}": [str(i) for i in row.option_order]}, now=T0
        )


def test_answer_to_a_question_not_in_the_attempt_is_rejected(make_quiz):
    quiz = make_quiz(pools=[{"draw": 1, "questions": [_q(1), _q(2), _q(3)]}])
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    other_attempt = services.attempt_start(user=subscriber(), quiz=quiz, now=T0)
    answers = answers_for(attempt)
    answers[f"q-{other_attempt.questions.get().pk}"] = ["1"]

    with pytest.raises(services.AnswerRejected, match="not part of this attempt"):
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers, now=T0)


def test_unparseable_number_is_rejected_with_the_question_number(make_quiz):
    quiz = make_quiz([NUMERIC])
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    row = attempt.questions.get()
    with pytest.raises(services.AnswerRejected, match="Question 1: enter a number"):
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers={f"q-{row.pk}": ["half"]}, now=T0)


def test_answers_after_the_time_limit_are_refused_and_the_attempt_closes(make_quiz, settings):
    settings.QUIZ_SUBMIT_GRACE_SECONDS = 15
    quiz = make_quiz(time_limit_minutes=10)
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    assert attempt.deadline == T0 + datetime.timedelta(minutes=10)

    late = T0 + datetime.timedelta(minutes=10, seconds=16)
    with pytest.raises(services.AttemptExpired, match="Time ran out"):
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers_for(attempt), now=late)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.passed) == (AttemptStatus.EXPIRED, 0, False)


def test_answers_within_the_grace_seconds_count(make_quiz, settings):
    settings.QUIZ_SUBMIT_GRACE_SECONDS = 15
    quiz = make_quiz(time_limit_minutes=10)
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    just_in = T0 + datetime.timedelta(minutes=10, seconds=10)
    done = services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers_for(attempt), now=just_in)
    assert done.passed


def test_an_expired_attempt_in_progress_is_closed_when_the_next_starts(make_quiz):
    quiz = make_quiz(time_limit_minutes=5)
    learner = subscriber()
    abandoned = services.attempt_start(user=learner, quiz=quiz, now=T0)
    fresh = services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(hours=1))
    abandoned.refresh_from_db()
    assert abandoned.status == AttemptStatus.EXPIRED and fresh.number == 2


def test_someone_elses_attempt_cannot_be_submitted(make_quiz):
    quiz = make_quiz()
    owner = subscriber()
    attempt = services.attempt_start(user=owner, quiz=quiz, now=T0)
    with pytest.raises(services.AttemptClosed, match="not yours"):
        services.attempt_submit(user=subscriber(), attempt_id=attempt.pk, answers={}, confirm_unanswered=True, now=T0)


def test_the_access_policy_decides_who_may_start(make_quiz, monkeypatch):
    quiz = make_quiz()
    refused = access.Decision(allowed=False, reason=access.Reason.NEEDS_SUBSCRIPTION, message="Not today.")
    monkeypatch.setattr(access, "can_take_quiz", lambda user, item: refused)
    with pytest.raises(access.AccessDenied, match="Not today"):
        services.attempt_start(user=subscriber(), quiz=quiz, now=T0)
    assert not Attempt.objects.exists()


def test_passing_the_last_graded_item_completes_the_course(make_quiz, after_commit):
    quiz = make_quiz()
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    with after_commit():
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers_for(attempt), now=T0)
    completion = CourseCompletion.objects.get(user=learner)
    assert (completion.course, completion.completed_at) == (quiz.item.course, T0)


def test_blank_answers_are_not_recorded_without_confirmation(make_quiz):
    quiz = make_quiz()
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    answers = answers_for(attempt)
    rows = list(attempt.questions.select_related("question").order_by("position"))
    choice = next(row for row in rows if row.question.kind in ("single", "multiple"))
    text = next(row for row in rows if row.question.kind == "text")
    answers[f"q-{choice.pk}"] = []  # no option ticked
    answers[f"q-{text.pk}"] = ["   "]  # an empty text box
    with pytest.raises(services.UnansweredQuestions) as caught:
        services.attempt_submit(user=learner, attempt_id=attempt.pk, answers=answers, now=T0)
    assert caught.value.positions == sorted([choice.position, text.position])
    assert str(caught.value).startswith("You have not answered 2 questions.")
    attempt.refresh_from_db()
    assert attempt.status == "in_progress" and attempt.submitted_at is None
    assert all(row.response is None and row.is_correct is None for row in attempt.questions.all())


def test_confirmed_blank_answers_are_scored_zero(make_quiz):
    quiz = make_quiz()
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    answers = answers_for(attempt)
    blank = attempt.questions.order_by("position").first()
    answers[f"q-{blank.pk}"] = []
    done = services.attempt_submit(
        user=learner, attempt_id=attempt.pk, answers=answers, confirm_unanswered=True, now=T0
    )
    assert done.status == "submitted" and done.score == done.max_score - blank.max_points


def test_when_the_time_is_up_blanks_are_submitted_without_confirmation(make_quiz):
    quiz = make_quiz(time_limit_minutes=5)
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    done = services.attempt_submit(
        user=learner, attempt_id=attempt.pk, answers={}, now=T0 + datetime.timedelta(minutes=5, seconds=2)
    )
    assert done.status == "submitted" and done.score == 0
    # Before the time is up the same blank form asks first.
    second = services.attempt_start(user=learner, quiz=quiz, now=T0 + datetime.timedelta(minutes=10))
    with pytest.raises(services.UnansweredQuestions):
        services.attempt_submit(user=learner, attempt_id=second.pk, answers={}, now=T0 + datetime.timedelta(minutes=11))
    # In its last minute there is no time to ask: a no-JavaScript learner's blanks are taken as they are.
    late = services.attempt_submit(
        user=learner, attempt_id=second.pk, answers={}, now=T0 + datetime.timedelta(minutes=14, seconds=30)
    )
    assert late.status == "submitted"
