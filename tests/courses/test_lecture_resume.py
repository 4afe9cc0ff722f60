"""The lecture page announces a resume only where the player will resume (the rule lecture.js follows)."""

import pytest

from courses.models import ItemProgress
from tests.factories import LectureFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("position", "status", "data_position"),
    [
        (6.0, "Resuming from 0:06", "6.00"),
        (0.5, "30% watched", "0.00"),  # at the very start: nothing to resume, the share played stays shown
        (8.5, "Watched to the end", "0.00"),  # within 2 s of the end of a 10 s lecture: the player restarts
        (10.0, "Watched to the end", "0.00"),
    ],
)
def test_status_agrees_with_where_the_player_starts(client, position, status, data_position):
    lecture = LectureFactory(item__is_preview=True, duration_seconds=10.0)
    learner = UserFactory()
    ItemProgress.objects.create(user=learner, item=lecture.item, position_seconds=position, watched_fraction=0.3)
    client.force_login(learner)
    html = client.get(lecture.item.get_absolute_url()).content.decode()
    assert f'data-position="{data_position}"' in html
    assert f'data-status aria-live="polite">{status}</span>' in html
    if status != "Resuming from 0:06":
        assert "Resuming from" not in html


def test_a_completed_lecture_says_completed(client):
    lecture = LectureFactory(item__is_preview=True, duration_seconds=13.0)
    learner = UserFactory()
    ItemProgress.objects.create(
        user=learner, item=lecture.item, position_seconds=13.0, watched_fraction=1.0, completed_at="2026-11-01T10:00Z"
    )
    client.force_login(learner)
    html = client.get(lecture.item.get_absolute_url()).content.decode()
    assert "✓ Completed" in html and "Resuming from" not in html


def test_reading_page_has_one_h1_and_no_repeated_title(client):
    from tests.factories import ReadingFactory

    reading = ReadingFactory(
        item__is_preview=True, item__title="Supervised Learning", body="# Supervised Learning\n\nText.\n\n## Inputs\n"
    )
    html = client.get(reading.item.get_absolute_url()).content.decode()
    assert html.count("<h1") == 1 and html.count("Supervised Learning</h") == 1
    assert "<h2" in html and "Inputs" in html


def test_markdown_body_keeps_a_different_first_heading_below_the_page_h1():
    from courses.templatetags.course_tags import markdown_body

    html = markdown_body("# Another topic\n\n## Part\n\n```python\n# a comment\n```\n", "Page title")
    assert "<h1" not in html and "Another topic</h2>" in html and "# a comment" in html
