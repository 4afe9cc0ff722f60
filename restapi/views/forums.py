"""Course forums through the forums app's door: threads (list, ask, read) and posts (list, reply, comment).

The door applies the pages' rules (the access module, bans and mutes, the forum's rate limits, holding a
new member's post for review, anonymity to peers); these views only translate its refusals."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from access import api as access
from forums import api as forums

from .. import serializers as s
from ..errors import AccessRefused, Unprocessable
from ..pagination import CursorPage, PageQuery
from .base import IdempotentCreate
from .learning import SignedInView
from .submissions import IDEMPOTENCY_KEY

ACCESS_REASONS = {str(reason) for reason in access.Reason}


class TooSoon(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"


def _refusal(exc: forums.ForumError) -> exceptions.APIException:
    if exc.code == "no_course":
        return exceptions.NotFound(str(exc))
    if exc.code in ACCESS_REASONS:  # the access module said no: its reason, as for every other resource
        return AccessRefused(access.Decision(allowed=False, reason=access.Reason(exc.code), message=str(exc)))
    if exc.code in ("banned", "muted"):  # this forum's moderators said no
        return exceptions.PermissionDenied(str(exc), code=exc.code)
    if exc.code == "rate_limited":
        refusal = TooSoon(str(exc))
        refusal.wait = exc.retry_after or 60  # the error handler turns it into Retry-After
        return refusal
    return Unprocessable(str(exc), code=exc.code or "unprocessable")


class ThreadQuery(PageQuery):
    week = serializers.IntegerField(required=False, min_value=1, help_text="Only this week's threads.")
    item = serializers.IntegerField(required=False, min_value=1, help_text="Only threads about this item.")
    unanswered = serializers.BooleanField(required=False, default=False, help_text="Questions without an answer.")


def _thread_body(request, thread_id: int) -> dict:
    facts = forums.thread_facts(viewer=request.user, thread_id=thread_id)
    return s.ForumThread(facts, context={"request": request}).data


class ThreadList(IdempotentCreate, SignedInView):
    throttle_scope = "posts"

    @extend_schema(
        operation_id="forum_threads_list",
        summary="A course forum's threads, latest activity first",
        parameters=[ThreadQuery],
        responses=s.paginated(s.ForumThread, "PaginatedForumThreads"),
        tags=["forums"],
    )
    def get(self, request, slug: str):
        query = ThreadQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = CursorPage(request)
        try:
            rows = forums.threads_page(
                viewer=request.user,
                course_slug=slug,
                after=page.after,
                limit=page.limit,
                week=query.validated_data.get("week"),
                item_id=query.validated_data.get("item"),
                unanswered=query.validated_data["unanswered"],
            )
        except forums.ForumError as exc:
            raise _refusal(exc) from None
        return page.respond(
            rows,
            key=lambda f: (f.last_activity_at, f.thread_id),
            serialize=lambda rows: s.ForumThread(rows, many=True, context={"request": request}).data,
        )

    @extend_schema(
        summary="Ask a question or start a discussion",
        description=(
            "The rules of the site's forum: the access module, bans and mutes, rate limits; a new member's "
            "thread is held for review (`state: pending`) until a moderator approves it."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=s.ThreadCreate,
        responses={
            201: s.ForumThread,
            422: OpenApiResponse(s.Error, description="Refused: empty title, unknown week, closed, …"),
        },
        tags=["forums"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request):
        form = s.ThreadCreate(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            thread_id = forums.start_thread(
                author=request.user,
                course_slug=self.kwargs["slug"],
                title=data["title"],
                body=data["body"],
                week=data.get("week"),
                kind=data["kind"],
                item_id=data.get("item"),
                anonymous=data["anonymous"],
            )
        except Http404:
            raise exceptions.ValidationError({"item": ["No such item."]}) from None
        except forums.ForumError as exc:
            raise _refusal(exc) from None
        location = request.build_absolute_uri(reverse("api:thread", args=[thread_id]))
        return Response(_thread_body(request, thread_id), status=201, headers={"Location": location})


class ThreadDetail(SignedInView):
    @extend_schema(summary="A thread", responses=s.ForumThread, tags=["forums"])
    def get(self, request, thread_id: int):
        return Response(_thread_body(request, thread_id))


class PostList(IdempotentCreate, SignedInView):
    throttle_scope = "posts"

    @extend_schema(
        operation_id="forum_posts_list",
        summary="A thread's posts, oldest first: the opening post, replies and their comments",
        parameters=[PageQuery],
        responses=s.paginated(s.ForumPost, "PaginatedForumPosts"),
        tags=["forums"],
    )
    def get(self, request, thread_id: int):
        page = CursorPage(request)
        rows = forums.posts_page(viewer=request.user, thread_id=thread_id, after=page.after, limit=page.limit)
        return page.respond(
            rows,
            key=lambda f: (f.created_at, f.post_id),
            serialize=lambda rows: s.ForumPost(rows, many=True, context={"request": request}).data,
        )

    @extend_schema(
        summary="Reply to a thread, or comment under a reply",
        parameters=[IDEMPOTENCY_KEY],
        request=s.PostCreate,
        responses={
            201: s.ForumPost,
            422: OpenApiResponse(s.Error, description="Refused: closed or duplicate thread, empty body, …"),
        },
        tags=["forums"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request):
        form = s.PostCreate(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            facts = forums.post_reply(
                author=request.user,
                thread_id=self.kwargs["thread_id"],
                body=data["body"],
                parent_id=data.get("parent"),
                anonymous=data["anonymous"],
            )
        except forums.ForumError as exc:
            raise _refusal(exc) from None
        body = s.ForumPost(facts, context={"request": request}).data
        return Response(body, status=201, headers={"Location": request.build_absolute_uri(facts.url)})
