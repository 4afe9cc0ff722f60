"""Peer-review assignments built the way authors write them: a pack mapping, validated and applied."""

from pathlib import Path

import pytest

from peer_review import pack
from peer_review.models import Assignment
from tests.factories import ItemFactory

RUBRIC = [
    {
        "name": "problem",
        "prompt": "Is the problem framed with a metric?",
        "options": [
            {"label": "Missing", "points": 0},
            {"label": "Partly", "points": 1},
            {"label": "Clear", "points": 2},
        ],
    },
    {
        "name": "plan",
        "prompt": "Is the plan concrete?",
        "weight": 2,
        "options": [
            {"label": "No plan", "points": 0},
            {"label": "Vague", "points": 2},
            {"label": "Concrete", "points": 4},
        ],
    },
]
EXAMPLES = [
    {"text": "Example one: a clear metric and a concrete plan.", "scores": {"problem": 2, "plan": 4}},
    {"text": "Example two: no metric, a vague plan.", "scores": {"problem": 0, "plan": 2}},
]


@pytest.fixture
def make_assignment(db):
    def make(*, examples=None, **settings) -> Assignment:
        item = ItemFactory(kind="peer_review")
        extra = {"instructions": "Plan a project.", "rubric": RUBRIC, **settings}
        if examples:
            extra["examples"] = examples
        assert pack.validate(extra, Path(".")) == []
        pack.apply(item, extra, Path("."))
        return Assignment.objects.select_related("item__course").get(item=item)

    return make


def subscriber():
    """A learner with an active subscription: the access policy lets them submit and review."""
    from tests.factories import SubscriptionFactory

    return SubscriptionFactory().user


GOOD = {"problem": 2, "plan": 4}
POOR = {"problem": 0, "plan": 0}


@pytest.fixture(autouse=True)
def _fresh_reviewer_models():
    """The reviewer-model cache is per process; each test starts without one."""
    from peer_review import selectors

    selectors._MODEL_CACHE.clear()
    yield
    selectors._MODEL_CACHE.clear()
