"""Response-time figures: median and p90 to a first reply by someone else and to an accepted or
endorsed answer, the share unanswered after 24 hours, duplicates, per week; and the chart."""

import datetime

import pytest
from django.utils import timezone

from forums import charts, metrics, services

from .conftest import member

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def test_percentile_interpolates_between_ranks():
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([4.0], 90) == 4.0
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5
    assert metrics.percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_response_times_of_a_week(forum, learner, mentor):
    monday = (timezone.now() - datetime.timedelta(days=timezone.now().weekday() + 7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )  # last week's Monday, 09:00
    now = monday + datetime.timedelta(days=9)
    waits = [1, 2, 4, 30]  # hours to a first reply; the 30 h one is "unanswered after 24 h"
    for index, wait in enumerate(waits):
        asked = monday + index * HOUR
        thread = services.thread_create(
            author=learner, forum=forum, title=f"Question number {index} of the week", body="Help", now=asked
        )
        reply = services.reply_create(author=member(), thread=thread, body="Answer", now=asked + wait * HOUR)
        if index < 2:
            services.answer_endorse(actor=mentor, post=reply, now=asked + (wait + 1) * HOUR)
    never = services.thread_create(
        author=learner, forum=forum, title="Nobody answered this one", body="What happens?", now=monday
    )
    services.thread_mark_duplicate(
        actor=mentor, thread=never, original=forum.threads.get(title="Question number 0 of the week")
    )
    services.reply_create(
        author=learner, thread=forum.threads.get(title="Question number 3 of the week"), body="bump", now=monday
    )

    figures = metrics.response_times(forum=forum, now=now)
    week = next(w for w in figures.weeks if w.start == monday.date())
    assert week.questions == 5
    assert week.median_first_hours == pytest.approx(3.0)  # of 1, 2, 4, 30
    assert week.p90_first_hours == pytest.approx(22.2)  # 4 + 0.7 * 26
    assert week.median_answer_hours == pytest.approx(2.5)  # endorsed after 2 h and 3 h
    assert week.unanswered_24h == pytest.approx(2 / 5)  # the 30 h one and the one never answered
    assert week.duplicates == pytest.approx(1 / 5)
    assert figures.overall.questions == 5
    assert [w.questions for w in figures.weeks].count(0) == 11


def test_figures_by_course_week(forum, learner, course):
    lecture = course.items.get(slug="vectorization")
    services.thread_create(
        author=learner, forum=forum, title="About the week two lecture", body="What happens?", item_id=lecture.pk
    )
    services.thread_create(author=learner, forum=forum, title="General question about it", body="What happens?")
    rows = metrics.response_times_by_course_week(forum=forum)
    assert [(row.label, row.questions) for row in rows] == [("Week 2", 1), ("General", 1)]


def test_the_chart_is_an_accessible_svg_with_escaped_labels():
    week = metrics.Figures(
        label="<b>1 Jan</b>",
        start=None,
        questions=3,
        median_first_hours=5.0,
        p90_first_hours=20.0,
        median_answer_hours=None,
        p90_answer_hours=None,
        unanswered_24h=0.0,
        duplicates=0.0,
    )
    svg = str(charts.response_chart([week, week]))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    assert "<b>" not in svg and "&lt;b&gt;1 Jan&lt;/b&gt;" in svg
    assert svg.count('class="bar"') == 2 and svg.count('class="p90"') == 2
