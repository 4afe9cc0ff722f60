"""Notebook submissions through grading's door: create (idempotent, rate-limited), status, feedback."""

from __future__ import annotations

import json

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from access import api as access
from courses import api as courses
from grading import api as grading

from .. import serializers as s
from ..errors import Unprocessable, require
from ..pagination import CursorPage, PageQuery
from .base import IdempotentCreate
from .learning import SignedInView

# Read no more than this from an upload before grading's own limit (the assignment's) says no.
UPLOAD_READ_CAP = 32 * 1024 * 1024

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    location=OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID): a retry with the same key gets the first answer instead of running again. "
        "Kept 24 hours. The same key with another request is a 422."
    ),
)


class SubmissionQuery(PageQuery):
    item = serializers.IntegerField(required=False, min_value=1, help_text="Only this assignment item's submissions.")
    learner = serializers.IntegerField(
        required=False, min_value=1, help_text="Another learner's submissions (staff only, as on the site)."
    )


def _viewable(request, submission_id: int):
    """The submission's facts when the access module lets the caller see it; a 404 otherwise (as the page)."""
    facts = grading.submission_facts(submission_id=submission_id)
    if facts is None or not access.can_view_submission(request.user, owner_id=facts.learner_id):
        raise exceptions.NotFound("No such submission.")
    return facts


class SubmissionList(IdempotentCreate, SignedInView):
    throttle_scope = "submissions"
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        operation_id="submissions_list",
        summary="The caller's submissions, newest first",
        parameters=[SubmissionQuery],
        responses=s.paginated(s.Submission, "PaginatedSubmissions"),
        tags=["submissions"],
    )
    def get(self, request):
        query = SubmissionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        learner_id = query.validated_data.get("learner", request.user.pk)
        if learner_id != request.user.pk:
            require(access.can_view_submission(request.user, owner_id=learner_id))
        page = CursorPage(request)
        rows = grading.submissions_page(
            learner_id=learner_id, item_id=query.validated_data.get("item"), after=page.after, limit=page.limit
        )
        return page.respond(
            rows,
            key=lambda f: (f.submitted_at, f.submission_id),
            serialize=lambda rows: s.Submission(rows, many=True, context={"request": request}).data,
        )

    @extend_schema(
        summary="Submit a notebook for grading",
        description=(
            "Multipart with the `.ipynb` file, or JSON with the notebook as an object. The same rules as the "
            "upload page: the access module (subscription, release date), attempts, cooldown, size and format. "
            "Grading is queued: follow `url` or poll the submission for its status, then read its feedback."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.SubmissionUpload, "application/json": s.SubmissionJson},
        responses={
            201: s.Submission,
            422: OpenApiResponse(
                s.Error, description="Refused by the assignment's rules (attempts, cooldown, format)."
            ),
        },
        tags=["submissions"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request):
        if request.content_type.startswith("multipart/"):
            form = s.SubmissionUpload(data=request.data)
            form.is_valid(raise_exception=True)
            upload = form.validated_data["notebook"]
            data = upload.read(UPLOAD_READ_CAP + 1)
            filename = upload.name or "notebook.ipynb"
        else:
            form = s.SubmissionJson(data=request.data)
            form.is_valid(raise_exception=True)
            data = json.dumps(form.validated_data["notebook"]).encode()
            filename = "api.ipynb"
        if len(data) > UPLOAD_READ_CAP:
            raise Unprocessable("The notebook is far larger than any assignment accepts.", code="submission_rejected")
        item_id = form.validated_data["item"]
        try:
            item = courses.item_facts(item_id)
        except Http404:
            raise exceptions.ValidationError({"item": ["No such item."]}) from None
        if item.kind != courses.ItemKind.ASSIGNMENT:
            raise exceptions.ValidationError({"item": ["This item is not a programming assignment."]})
        require(access.can_submit(request.user, item))
        try:
            facts = grading.submit_notebook(learner=request.user, item_id=item_id, data=data, filename=filename)
        except grading.SubmissionRejected as exc:
            raise Unprocessable(str(exc), code="submission_rejected") from None
        location = request.build_absolute_uri(reverse("api:submission", args=[facts.submission_id]))
        body = s.Submission(facts, context={"request": request}).data
        return Response(body, status=201, headers={"Location": location})


class SubmissionDetail(SignedInView):
    @extend_schema(summary="A submission's status and score", responses=s.Submission, tags=["submissions"])
    def get(self, request, submission_id: int):
        return Response(s.Submission(_viewable(request, submission_id), context={"request": request}).data)


class SubmissionFeedback(SignedInView):
    @extend_schema(
        summary="A submission's feedback",
        description=(
            "What the submission page shows: each test with its points and message (hidden tests by name and "
            "failure message only), the output of the learner's own cells, notes. Empty until `finished`."
        ),
        responses=s.Feedback,
        tags=["submissions"],
    )
    def get(self, request, submission_id: int):
        _viewable(request, submission_id)
        return Response(s.Feedback(grading.submission_feedback(submission_id=submission_id)).data)
