"""The caller's events: the notifications the site shows under the bell, as a cursor-paginated feed."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from notifications import api as notifications

from .. import serializers as s
from ..pagination import CursorPage, PageQuery
from .learning import SignedInView


def _event(view) -> dict:
    # actor_id is left out on purpose: an anonymous forum post must not name its author to anyone.
    return {
        "id": view.id,
        "kind": view.kind,
        "kind_label": view.kind_label,
        "title": view.title,
        "body": view.body,
        "url": view.url,
        "created_at": view.created_at,
        "read_at": view.read_at,
    }


class EventList(SignedInView):
    @extend_schema(
        operation_id="events_list",
        summary="The caller's events, newest first",
        description="Replies, grades, releases: what the site's notification bell lists.",
        parameters=[PageQuery],
        responses=s.paginated(s.Event, "PaginatedEvents"),
        tags=["events"],
    )
    def get(self, request):
        page = CursorPage(request)
        rows = notifications.page_for(request.user, after=page.after, limit=page.limit)
        return page.respond(
            rows,
            key=lambda v: (v.created_at, v.id),
            serialize=lambda rows: s.Event([_event(v) for v in rows], many=True).data,
        )


class EventsRead(SignedInView):
    @extend_schema(
        summary="Mark events read",
        request=s.EventsRead,
        responses=s.EventsReadResult,
        tags=["events"],
    )
    def post(self, request):
        form = s.EventsRead(data=request.data)
        form.is_valid(raise_exception=True)
        marked = notifications.mark_read(request.user, form.validated_data.get("ids"))
        return Response(s.EventsReadResult({"marked": marked}).data)
