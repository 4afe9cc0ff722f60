"""The "questions about this lecture" panel under every item page (registered in ForumsConfig.ready
through courses.api.register_item_panel)."""

from __future__ import annotations

from django.template.loader import render_to_string

from courses import api as courses

from . import selectors
from .rules import check_can_read
from .services import forum_ensure


def item_questions_panel(request, item) -> str | None:
    facts = courses.item_facts(item)
    forum = forum_ensure(course_id=facts.course.course_id)
    if not check_can_read(request.user, forum):
        return None
    panel = selectors.item_panel(
        viewer=request.user,
        forum=forum,
        course_slug=facts.course.slug,
        item_id=facts.item_id,
        item_kind=facts.kind,
    )
    noun = {
        "lecture": "this lecture",
        "reading": "this reading",
        "quiz": "this quiz",
        "assignment": "this assignment",
        "peer_review": "this assignment",
    }.get(facts.kind, "this item")
    return render_to_string("forums/_item_panel.html", {"panel": panel, "noun": noun}, request=request)
