"""The "questions about this lecture" panel under every item page (registered in ForumsConfig.ready
through courses.api.register_item_panel)."""

from __future__ import annotations

from django.template.loader import render_to_string

from courses import api as courses

from . import selectors


def item_questions_panel(request, item) -> str | None:
    facts = courses.item_facts(item)
    panel = selectors.item_panel(
        viewer=request.user,
        course_id=facts.course.course_id,
        course_slug=facts.course.slug,
        item_id=facts.item_id,
        item_kind=facts.kind,
    )
    if panel is None:
        return None
    noun = {
        "lecture": "this lecture",
        "reading": "this reading",
        "quiz": "this quiz",
        "assignment": "this assignment",
        "peer_review": "this assignment",
    }.get(facts.kind, "this item")
    # Rendered without the request: the page around it already ran the context processors (the header's
    # notification count among them), and the panel needs only who is looking.
    context = {"panel": panel, "noun": noun, "user": request.user, "next_path": getattr(request, "path", "/")}
    return render_to_string("forums/_item_panel.html", context)
