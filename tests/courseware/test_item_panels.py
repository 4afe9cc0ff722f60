"""courses.api.register_item_panel: any app adds a panel under every item page, whichever app renders
the item; a failing panel is skipped, never a broken lecture."""

import pytest

from courses import api as courses
from courses import registry
from tests.factories import ReadingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def panels():
    saved = list(registry._item_panels)
    yield
    registry._item_panels[:] = saved


def test_registered_panels_render_under_the_item(client, panels):
    reading = ReadingFactory()

    def hello(request, item):
        return f"<p data-test-panel>Panel for {item.title}</p>"

    def nothing(request, item):
        return None

    courses.register_item_panel(hello)
    courses.register_item_panel(hello)  # once is enough
    courses.register_item_panel(nothing)
    client.force_login(UserFactory(is_staff=True))
    html = client.get(reading.item.get_absolute_url()).content.decode()
    assert html.count("data-test-panel") == 1 and f"Panel for {reading.item.title}" in html


def test_a_failing_panel_is_skipped(client, panels, caplog):
    reading = ReadingFactory()

    def broken(request, item):
        raise RuntimeError("boom")

    courses.register_item_panel(broken)
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reading.item.get_absolute_url())
    assert response.status_code == 200 and "item panel" in caplog.text
