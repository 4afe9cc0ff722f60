import pytest

from notifications import registry
from tests.notifications.kinds import register_demo_kinds


@pytest.fixture(autouse=True)
def demo_kinds():
    """The demo kinds for each test, and the registry as it was afterwards."""
    saved = dict(registry._kinds)
    registry._kinds.clear()  # only the demo kinds: other apps (the forums) register theirs at start
    register_demo_kinds()
    yield
    registry._kinds.clear()
    registry._kinds.update(saved)


@pytest.fixture
def learner(db):
    from tests.factories import UserFactory

    return UserFactory(email="ada@example.com", name="Ada Lovelace")
