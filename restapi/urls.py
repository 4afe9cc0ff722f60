"""The REST API under /api/v1/ (namespace "api"), its schema and its docs page."""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import errors
from .views import catalog, events, forums, learning, peer, submissions

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI sets inline styles on the elements it builds: its page alone allows them (scripts stay strict).
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path("me/", learning.MeView.as_view(), name="me"),
    path("courses/", catalog.CourseList.as_view(), name="courses"),
    path("courses/<slug:slug>/", catalog.CourseDetail.as_view(), name="course"),
    path("courses/<slug:slug>/threads/", forums.ThreadList.as_view(), name="threads"),
    path("threads/<int:thread_id>/", forums.ThreadDetail.as_view(), name="thread"),
    path("threads/<int:thread_id>/posts/", forums.PostList.as_view(), name="posts"),
    path("peer-review/assignments/", peer.PeerAssignmentList.as_view(), name="peer_assignments"),
    path(
        "peer-review/assignments/<int:assignment_id>/submissions/",
        peer.PeerWorkCreateView.as_view(),
        name="peer_submit",
    ),
    path("peer-review/assignments/<int:assignment_id>/tasks/", peer.PeerTaskRequest.as_view(), name="peer_request"),
    path("peer-review/tasks/", peer.PeerTaskList.as_view(), name="peer_tasks"),
    path("peer-review/work/<int:submission_id>/", peer.PeerWorkDetail.as_view(), name="peer_work"),
    path("peer-review/work/<int:submission_id>/reviews/", peer.PeerReviewCreateView.as_view(), name="peer_review"),
    path("items/<int:item_id>/", catalog.ItemDetail.as_view(), name="item"),
    path("items/<int:item_id>/progress/", learning.ItemProgress.as_view(), name="item_progress"),
    path("enrollments/", learning.EnrollmentList.as_view(), name="enrollments"),
    path("enrollments/<slug:slug>/", learning.EnrollmentDetail.as_view(), name="enrollment"),
    path("enrollments/<slug:slug>/reset-deadlines/", learning.ResetDeadlines.as_view(), name="reset_deadlines"),
    path("submissions/", submissions.SubmissionList.as_view(), name="submissions"),
    path("submissions/<int:submission_id>/", submissions.SubmissionDetail.as_view(), name="submission"),
    path("submissions/<int:submission_id>/feedback/", submissions.SubmissionFeedback.as_view(), name="feedback"),
    path("grades/", learning.GradeList.as_view(), name="grades"),
    path("certificates/", learning.CertificateList.as_view(), name="certificates"),
    path("certificates/<str:public_id>/", learning.CertificateVerify.as_view(), name="certificate"),
    path("events/", events.EventList.as_view(), name="events"),
    path("events/read/", events.EventsRead.as_view(), name="events_read"),
    re_path(r"^.*$", errors.not_found),
]
