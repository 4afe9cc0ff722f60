"""Quizzes built the way authors write them: a pack mapping, validated and applied."""

from pathlib import Path

import pytest

from quizzes import pack
from quizzes.models import Quiz
from tests.factories import ItemFactory

SINGLE = {
    "kind": "single",
    "prompt": "Which activation is $\\max(0, z)$?",
    "options": [{"text": "ReLU", "correct": True}, {"text": "tanh"}, {"text": "sigmoid"}],
    "explanation": "ReLU is the rectified linear unit.",
}
MULTIPLE = {
    "kind": "multiple",
    "prompt": "Which reduce variance?",
    "options": [{"text": "More data", "correct": True}, {"text": "Dropout", "correct": True}, {"text": "Bigger net"}],
    "explanation": "More data and regularisation reduce variance.",
}
NUMERIC = {
    "kind": "numeric",
    "prompt": "What is $\\sigma(0)$?",
    "answer": 0.5,
    "tolerance": 0.01,
    "explanation": "One over one plus one.",
}
TEXT = {
    "kind": "text",
    "prompt": "Name the two-copies face network.",
    "answers": ["siamese"],
    "pattern": "siam[ae]se( network)?",
    "explanation": "Siamese networks share weights.",
}


@pytest.fixture
def make_quiz(db):
    def make(questions=None, **settings) -> Quiz:
        item = ItemFactory(kind="quiz")
        extra = dict(settings)
        if "pools" not in extra:
            extra["questions"] = questions if questions is not None else [SINGLE, MULTIPLE, NUMERIC, TEXT]
        assert pack.validate(extra, Path(".")) == []
        pack.apply(item, extra, Path("."))
        return Quiz.objects.select_related("item__course").get(item=item)

    return make


def answers_for(attempt, *, right: bool = True) -> dict[str, list[str]]:
    """The form a learner would post: every question answered right (or wrong)."""
    answers = {}
    for row in attempt.questions.select_related("question").prefetch_related("question__options"):
        question = row.question
        if question.kind in ("single", "multiple"):
            options = [o for o in question.options.all() if o.is_correct == right]
            values = [str(o.pk) for o in options[: 1 if question.kind == "single" else None]]
        elif question.kind == "numeric":
            values = [str(question.numeric_answer if right else question.numeric_answer + 1)]
        else:
            values = [question.text_answers[0].upper() if right else "nope"]
        answers[f"q-{row.pk}"] = values
    return answers


def subscriber():
    """A learner with an active subscription: the access policy lets them submit graded work."""
    from tests.factories import SubscriptionFactory

    return SubscriptionFactory().user
