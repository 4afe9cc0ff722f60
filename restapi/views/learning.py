"""The caller's learning: who they are, their enrollments and progress, grades and certificates."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from access import api as access
from accounts import api as accounts
from certificates import api as certificates
from courses import api as courses
from grading import api as grading
from quizzes import api as quizzes

from .. import serializers as s
from ..errors import Unprocessable, require
from ..models import PersonalAccessToken
from ..permissions import SignedIn, TokenScope, token_allows
from .base import ApiView
from .catalog import _can_view, progress_summary


class SignedInView(ApiView):
    permission_classes = [TokenScope, SignedIn]


def _credential(request) -> str:
    if isinstance(request.auth, PersonalAccessToken):
        return "personal_token"
    if request.auth is not None:
        return "oauth2"
    return "session"


class MeView(SignedInView):
    @extend_schema(summary="Who the credential acts for", responses=s.Me, tags=["me"])
    def get(self, request):
        user = request.user
        roles = accounts.roles_of(user)
        state = access.access_state(user)
        data = {
            "id": user.pk,
            "email": user.email,
            "name": getattr(user, "name", ""),
            "display_name": accounts.display_name(user),
            "roles": {"mentor": roles.mentor, "peer_reviewer": roles.peer_reviewer, "staff": roles.staff},
            "access_state": str(state),
            "access_state_label": state.label,
            "credential": _credential(request),
            "scope": [scope for scope in ("read", "write") if token_allows(request.auth, scope)],
        }
        return Response(s.Me(data).data)


# ---- enrollments and progress -------------------------------------------------------------------------


def _progress_by_course(request) -> dict[int, object]:
    spec = courses.specialization_get()
    rows = courses.learner_progress(user=request.user, specialization=spec, can_view=_can_view(request.user))
    return {row.course.pk: row for row in rows}


def _completions(user_id: int) -> dict[int, object]:
    return {c.course_id: c.completed_at for c in courses.completions_of(user_id=user_id)}


def _enrollment(enrollment, progress, completed_at) -> dict:
    return {
        "course": {"id": enrollment.course_id, "slug": enrollment.course_slug, "title": enrollment.course_title},
        "enrolled_at": enrollment.enrolled_at,
        "schedule_start": enrollment.schedule_start,
        "progress": progress_summary(progress, completed_at),
    }


class EnrollmentList(SignedInView):
    @extend_schema(
        operation_id="enrollments_list",
        summary="The caller's enrollments with progress",
        description="A learner is enrolled in a course once they opened one of its items or saved progress in it.",
        responses=s.Enrollment(many=True),
        tags=["enrollments"],
    )
    def get(self, request):
        progress = _progress_by_course(request)
        completed = _completions(request.user.pk)
        rows = [
            _enrollment(e, progress[e.course_id], completed.get(e.course_id))
            for e in courses.enrollments_of(user_id=request.user.pk)
            if e.course_id in progress
        ]
        return Response(s.Enrollment(rows, many=True).data)


def _enrollment_for(request, slug: str):
    enrollment = next((e for e in courses.enrollments_of(user_id=request.user.pk) if e.course_slug == slug), None)
    if enrollment is None:
        raise exceptions.NotFound("You are not enrolled in this course: open one of its items to enroll.")
    return enrollment


def _enrollment_detail(request, slug: str) -> dict:
    enrollment = _enrollment_for(request, slug)
    course = courses.course_get(slug=slug)
    outline = courses.course_outline(user=request.user, course=course, can_view=_can_view(request.user))
    data = _enrollment(enrollment, outline, outline.completion.completed_at if outline.completion else None)
    data["weeks"] = [
        {
            "number": week.week.number,
            "title": week.week.title,
            "deadline": week.deadline,
            "overdue": week.overdue,
            "done": week.done,
            "total": week.total,
            "items": [
                {"id": row.item.pk, "slug": row.item.slug, "kind": row.item.kind, "status": row.status}
                for row in week.items
            ],
        }
        for week in outline.weeks
    ]
    return data


class EnrollmentDetail(SignedInView):
    @extend_schema(
        summary="Progress in one course, week by week",
        responses=s.EnrollmentDetail,
        tags=["enrollments"],
    )
    def get(self, request, slug: str):
        return Response(s.EnrollmentDetail(_enrollment_detail(request, slug)).data)


class ResetDeadlines(SignedInView):
    @extend_schema(
        summary="Move the suggested deadlines",
        description=(
            "As the course page's button: the first unfinished week is due a week from now. Only when something "
            "is overdue (422 otherwise, and nothing changes)."
        ),
        request=None,
        responses={200: s.EnrollmentDetail, 422: OpenApiResponse(s.Error, description="Nothing is overdue.")},
        tags=["enrollments"],
    )
    def post(self, request, slug: str):
        _enrollment_for(request, slug)
        try:
            courses.enrollment_reset_deadlines(user=request.user, course=courses.course_get(slug=slug))
        except courses.NothingOverdue as exc:
            raise Unprocessable(str(exc), code="nothing_overdue") from None
        return Response(s.EnrollmentDetail(_enrollment_detail(request, slug)).data)


class ItemProgress(SignedInView):
    @extend_schema(
        summary="Record progress in an item",
        description=(
            "A lecture: the player's position and the ranges played (complete once 90 % has been played, in any "
            "number of sessions). A reading or other ungraded item: `complete: true`. Graded items complete by "
            "being passed. Asks the access module as the pages do."
        ),
        request=s.ProgressUpdate,
        responses=s.ItemProgressResult,
        tags=["enrollments"],
    )
    def post(self, request, item_id: int):
        update = s.ProgressUpdate(data=request.data)
        update.is_valid(raise_exception=True)
        item = courses.item_get(item_id=item_id)
        require(access.can_track_progress(request.user, item))
        try:
            if update.validated_data.get("complete"):
                progress = courses.item_mark_complete(user=request.user, item=item)
            else:
                progress = courses.progress_record(
                    user=request.user,
                    item=item,
                    position_seconds=update.validated_data["position"],
                    ranges=[list(pair) for pair in update.validated_data.get("ranges", [])],
                )
        except courses.ProgressError as exc:
            raise exceptions.ValidationError(str(exc)) from None
        data = {
            "item_id": item.pk,
            "complete": progress.is_complete,
            "completed_at": progress.completed_at,
            "watched": round(progress.watched_fraction, 3),
            "position": progress.position_seconds,
        }
        return Response(s.ItemProgressResult(data).data)


# ---- grades ------------------------------------------------------------------------------------------------


class GradeList(SignedInView):
    @extend_schema(
        operation_id="grades_list",
        summary="The caller's grades on graded items",
        description=(
            "Every graded item (quizzes, programming assignments, peer-graded work) with the attempt that counts."
        ),
        parameters=[OpenApiParameter("course", str, description="A course slug: only its items.")],
        responses=s.Grade(many=True),
        tags=["grades"],
    )
    def get(self, request):
        progress = _progress_by_course(request)
        slug = request.query_params.get("course") or None
        rows = [row for row in progress.values() if slug is None or row.course.slug == slug]
        if slug is not None and not rows:
            raise exceptions.NotFound("No such course.")
        items = [
            (row.course, week.week, item_row)
            for row in rows
            for week in row.weeks
            for item_row in week.items
            if item_row.item.is_graded
        ]
        by_kind: dict[str, list[int]] = {}
        for _, _, item_row in items:
            by_kind.setdefault(item_row.item.kind, []).append(item_row.item.pk)
        standing = {}
        if by_kind.get(courses.ItemKind.QUIZ):
            marks = quizzes.pass_marks(item_ids=by_kind["quiz"])
            for item_id, result in quizzes.quiz_results(user_id=request.user.pk, item_ids=by_kind["quiz"]).items():
                standing[item_id] = (result.attempts, result.best_percent, marks.get(item_id), result.passed)
        if by_kind.get(courses.ItemKind.ASSIGNMENT):
            grades = grading.assignment_grades(learner_id=request.user.pk, item_ids=by_kind["assignment"])
            for item_id, grade in grades.items():
                standing[item_id] = (grade.attempts, grade.best_percent, grade.pass_percent, grade.passed)
        data = []
        for course, week, item_row in items:
            item = item_row.item
            attempts, best, pass_percent, passed = standing.get(item.pk, (0, None, None, item_row.complete))
            data.append(
                {
                    "item_id": item.pk,
                    "item_slug": item.slug,
                    "title": item.title,
                    "kind": item.kind,
                    "course": course.slug,
                    "week": week.number,
                    "attempts": attempts,
                    "best_percent": best,
                    "pass_percent": pass_percent,
                    "passed": passed,
                }
            )
        return Response(s.Grade(data, many=True).data)


# ---- certificates ----------------------------------------------------------------------------------------


class CertificateList(SignedInView):
    @extend_schema(
        operation_id="certificates_list",
        summary="The caller's certificates",
        responses=s.Certificate(many=True),
        tags=["certificates"],
    )
    def get(self, request):
        return Response(s.Certificate(certificates.certificates_of(user_id=request.user.pk), many=True).data)


class CertificateVerify(ApiView):
    public = True

    @extend_schema(
        summary="Verify a certificate",
        description="What the public verification page says: open to everyone, a revoked certificate says so.",
        responses=s.Certificate,
        tags=["certificates"],
    )
    def get(self, request, public_id: str):
        facts = certificates.certificate_verify(public_id=public_id)
        if facts is None:
            raise exceptions.NotFound("No certificate has this id.")
        return Response(s.Certificate(facts).data)
