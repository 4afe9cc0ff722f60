"""Peer review through its door: the course's assignments, submitting work, asking for work to review,
reading it with its rubric, and reviewing it. Anonymous both ways: no response names an author or a
reviewer. Refusals are the pages' sentences (422), or the access module's (403)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from peer_review import api as peer

from .. import serializers as s
from ..errors import Unprocessable
from .base import IdempotentCreate
from .learning import SignedInView
from .submissions import IDEMPOTENCY_KEY

REFUSED = OpenApiResponse(s.Error, description="Refused by the assignment's rules (the page's sentence).")


def _refused(exc: peer.PeerReviewError) -> Unprocessable:
    return Unprocessable(str(exc), code="peer_review_refused")


class PeerAssignmentList(SignedInView):
    @extend_schema(
        summary="A course's peer-review assignments, in course order",
        parameters=[OpenApiParameter("course", str, required=True, description="The course's slug.")],
        responses=s.PeerAssignments,
        tags=["peer review"],
    )
    def get(self, request):
        course = request.query_params.get("course", "")
        if not course:
            raise exceptions.ValidationError({"course": ["Name the course (its slug)."]})
        return Response({"course": course, "assignments": peer.assignment_ids(course_slug=course)})


class PeerWorkCreateView(IdempotentCreate, SignedInView):
    throttle_scope = "posts"

    @extend_schema(
        summary="Submit (or, before any review started, replace) a Markdown answer",
        parameters=[IDEMPOTENCY_KEY],
        request=s.PeerWorkCreate,
        responses={201: s.PeerCreated, 422: REFUSED},
        tags=["peer review"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request):
        form = s.PeerWorkCreate(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            pk = peer.submit_work(
                author=request.user, assignment_id=self.kwargs["assignment_id"], text=form.validated_data["text"]
            )
        except peer.PeerReviewError as exc:
            raise _refused(exc) from None
        return Response({"id": pk}, status=201)


class PeerTaskList(SignedInView):
    @extend_schema(
        operation_id="peer_tasks_list",
        summary="Your reviews: leased (to do, with their expiry) and given",
        responses=s.PeerTask(many=True),
        tags=["peer review"],
    )
    def get(self, request):
        return Response(s.PeerTask(peer.tasks_of(reviewer=request.user), many=True).data)


class PeerTaskRequest(IdempotentCreate, SignedInView):
    @extend_schema(
        summary="Ask for work to review",
        description=(
            "Leases the eligible submission with the fewest reviews (ties: waiting longest), never your own or "
            "one you reviewed; a training or calibration example when nothing else is waiting. The lease "
            "expires after PEER_REVIEW_LEASE_HOURS. `submission` is null when nothing may be given now."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={201: s.PeerTaskLeased, 200: s.PeerTaskLeased, 422: REFUSED},
        tags=["peer review"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request):
        try:
            pk = peer.request_review(reviewer=request.user, assignment_id=self.kwargs["assignment_id"])
        except peer.PeerReviewError as exc:
            raise _refused(exc) from None
        if pk is None:
            return Response({"submission": None, "message": "There is no work to review right now."}, status=200)
        return Response({"submission": pk, "message": ""}, status=201)


class PeerWorkDetail(SignedInView):
    @extend_schema(
        summary="Work leased to you (or reviewed by you), with its rubric", responses=s.PeerWork, tags=["peer review"]
    )
    def get(self, request, submission_id: int):
        facts = peer.work_for_reviewer(reviewer=request.user, submission_id=submission_id)
        return Response(s.PeerWork(facts).data)


class PeerReviewCreateView(IdempotentCreate, SignedInView):
    throttle_scope = "posts"

    @extend_schema(
        summary="Review work leased to you (or a training example) with the rubric",
        parameters=[IDEMPOTENCY_KEY],
        request=s.PeerReviewCreate,
        responses={201: s.PeerCreated, 422: REFUSED},
        tags=["peer review"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request):
        form = s.PeerReviewCreate(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            pk = peer.submit_review(
                reviewer=request.user,
                submission_id=self.kwargs["submission_id"],
                scores=form.validated_data["scores"],
                comments=form.validated_data.get("comments") or None,
            )
        except peer.PeerReviewError as exc:
            raise _refused(exc) from None
        return Response({"id": pk}, status=201)
