"""The REST API under /api/v1/ (namespace "api"), its schema and its docs page."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import errors
from .views import catalog, events, forums, learning, submissions

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", learning.MeView.as_view(), name="me"),
    path("courses/", catalog.CourseList.as_view(), name="courses"),
    path("courses/<slug:slug>/", catalog.CourseDetail.as_view(), name="course"),
    path("courses/<slug:slug>/threads/", forums.ThreadList.as_view(), name="threads"),
    path("threads/<int:thread_id>/", forums.ThreadDetail.as_view(), name="thread"),
    path("threads/<int:thread_id>/posts/", forums.PostList.as_view(), name="posts"),
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
