"""The catalog: courses, and each course as a tree of weeks and items with the caller's access and progress."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from access import api as access
from courses import api as courses

from .. import serializers as s
from ..errors import require
from .base import ApiView


def _can_view(user):
    return lambda item: access.can_view_item(user, item)


def _abs(request, path: str) -> str:
    return request.build_absolute_uri(path)


def spec_ref(spec) -> dict:
    return {"slug": spec.slug, "title": spec.title}


def progress_summary(outline_like, completed_at) -> dict:
    return {
        "done": outline_like.done,
        "total": outline_like.total,
        "percent": outline_like.percent,
        "graded_passed": outline_like.graded_passed,
        "graded_total": outline_like.graded_total,
        "completed_at": completed_at,
    }


def item_node(request, row) -> dict:
    item = row.item
    return {
        "id": item.pk,
        "slug": item.slug,
        "title": item.title,
        "kind": item.kind,
        "minutes": item.minutes,
        "is_preview": item.is_preview,
        "is_graded": item.is_graded,
        "status": row.status,
        "access": row.access,
        "url": _abs(request, item.get_absolute_url()),
    }


def week_node(request, week_row) -> dict:
    week = week_row.week
    return {
        "number": week.number,
        "title": week.title,
        "summary": week.summary,
        "deadline": week_row.deadline,
        "overdue": week_row.overdue,
        "done": week_row.done,
        "total": week_row.total,
        "items": [item_node(request, row) for row in week_row.items],
    }


# ---- requested_fields -----------------------------------------------------------------------------------


def parse_requested_fields(raw: str | None) -> dict | None:
    """'slug,weeks.number,weeks.items.slug' → {'slug': {}, 'weeks': {'number': {}, 'items': {'slug': {}}}}.
    An empty mapping means the whole field."""
    if raw is None or not raw.strip():
        return None
    tree: dict = {}
    for path in raw.split(","):
        parts = [p.strip() for p in path.strip().split(".")]
        if not all(parts):
            raise exceptions.ValidationError({"requested_fields": [f"'{path.strip()}' is not a field name."]})
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
    return tree


def pick_fields(data, tree: dict | None, serializer, where: str = ""):
    """Keep only the requested fields of serialized data, checking each name against the serializer."""
    if not tree:
        return data
    if isinstance(data, list):
        return [pick_fields(row, tree, serializer, where) for row in data]
    fields = serializer.fields if hasattr(serializer, "fields") else serializer.child.fields
    unknown = sorted(set(tree) - set(fields))
    if unknown:
        valid = ", ".join(where + name for name in fields)
        raise exceptions.ValidationError(
            {"requested_fields": [f"No field {', '.join(where + u for u in unknown)}. Fields here: {valid}."]}
        )
    picked = {}
    for name, sub in tree.items():
        field = fields[name]
        nested = getattr(field, "child", field)
        if sub and not hasattr(nested, "fields"):
            raise exceptions.ValidationError({"requested_fields": [f"{where}{name} has no fields to pick from."]})
        picked[name] = pick_fields(data[name], sub, field, f"{where}{name}.") if sub else data[name]
    return picked


REQUESTED_FIELDS = OpenApiParameter(
    "requested_fields",
    str,
    description=(
        "Comma-separated fields to return, dotted for nested ones: "
        "`slug,title,weeks.number,weeks.items.slug,weeks.items.access`. Default: every field."
    ),
)


# ---- views ------------------------------------------------------------------------------------------------


class CourseList(ApiView):
    public = True

    @extend_schema(
        operation_id="courses_list",
        summary="List the courses",
        description="The specialization's courses in order, with how far the caller got. Open to everyone.",
        responses=s.CourseSummary(many=True),
        tags=["catalog"],
    )
    def get(self, request):
        spec = courses.specialization_get()
        rows = [
            {
                "id": card.course.pk,
                "slug": card.course.slug,
                "title": card.course.title,
                "short_description": card.course.short_description,
                "level": card.course.level,
                "estimated_hours": card.course.estimated_hours,
                "release_date": card.course.release_date,
                "released": card.released,
                "specialization": spec_ref(spec),
                "items_total": card.total,
                "items_done": card.done,
                "url": _abs(request, card.course.get_absolute_url()),
            }
            for card in courses.catalog(user=request.user, specialization=spec)
        ]
        return Response(s.CourseSummary(rows, many=True).data)


class CourseDetail(ApiView):
    public = True

    @extend_schema(
        summary="A course as a tree of weeks and items",
        description=(
            "Every item carries the access module's decision for the caller (`access`: allowed, or the reason "
            "and the sentence the course page shows) and the caller's progress. Open to everyone."
        ),
        parameters=[REQUESTED_FIELDS],
        responses=s.CourseTree,
        tags=["catalog"],
    )
    def get(self, request, slug: str):
        course = courses.course_get(slug=slug)
        outline = courses.course_outline(user=request.user, course=course, can_view=_can_view(request.user))
        completion = outline.completion
        data = {
            "id": course.pk,
            "slug": course.slug,
            "title": course.title,
            "short_description": course.short_description,
            "description": course.description,
            "level": course.level,
            "estimated_hours": course.estimated_hours,
            "release_date": course.release_date,
            "released": outline.released,
            "completion_rule": course.completion_rule,
            "specialization": spec_ref(course.specialization),
            "progress": progress_summary(outline, completion.completed_at if completion else None),
            "url": _abs(request, course.get_absolute_url()),
            "weeks": [week_node(request, week) for week in outline.weeks],
        }
        tree = parse_requested_fields(request.query_params.get("requested_fields"))
        serializer = s.CourseTree(data)
        return Response(pick_fields(serializer.data, tree, serializer))


class ItemDetail(ApiView):
    public = True

    @extend_schema(
        summary="One item with its content",
        description=(
            "A reading's Markdown, a lecture's captions and protected video URL. Asks the access module as the "
            "item page does: a locked item is a 403 (401 for a visitor) with the reason and the page's sentence."
        ),
        responses=s.ItemDetail,
        tags=["catalog"],
    )
    def get(self, request, item_id: int):
        facts = courses.item_facts(item_id)
        course = courses.course_get(slug=facts.course.slug)
        page = courses.item_page(
            user=request.user, course=course, item_slug=facts.slug, can_view=_can_view(request.user)
        )
        require(page.access)
        item = page.item
        lecture = getattr(item, "lecture", None) if item.kind == courses.ItemKind.LECTURE else None
        reading = getattr(item, "reading", None) if item.kind == courses.ItemKind.READING else None
        progress = page.progress
        status = "complete" if progress and progress.completed_at else "started" if progress else "not-started"
        data = {
            "id": item.pk,
            "slug": item.slug,
            "title": item.title,
            "kind": item.kind,
            "course": course.slug,
            "week": item.week.number,
            "minutes": item.minutes,
            "is_preview": item.is_preview,
            "is_graded": item.is_graded,
            "status": status,
            "url": _abs(request, item.get_absolute_url()),
            "previous_id": page.previous.pk if page.previous else None,
            "next_id": page.next.pk if page.next else None,
            "reading": reading.body if reading else None,
            "lecture": {
                "duration_seconds": lecture.duration_seconds,
                "is_math": lecture.is_math,
                "video_url": _abs(request, reverse("courses:lecture_video", args=[item.pk])) if lecture.video else None,
                "captions_url": _abs(request, reverse("courses:lecture_captions", args=[item.pk])),
                "captions": lecture.captions or [],
            }
            if lecture
            else None,
        }
        if request.user.is_authenticated:
            courses.enrollment_ensure(user=request.user, course=course)  # as opening the item page does
        return Response(s.ItemDetail(data).data)
