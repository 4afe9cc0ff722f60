from django.urls import path

from . import views

app_name = "courses"
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/", views.catalog, name="catalog"),
    path("specializations/<slug:slug>/", views.specialization, name="specialization"),
    path("courses/<slug:slug>/", views.course, name="course"),
    path("courses/<slug:slug>/notify/", views.course_notify, name="course_notify"),
    path("courses/<slug:slug>/deadlines/reset/", views.course_reset_deadlines, name="course_reset_deadlines"),
    path("courses/<slug:slug>/keep/", views.archive_request, name="archive_request"),
    path("downloads/<int:archive_id>/", views.archive_status, name="archive"),
    path("downloads/<int:archive_id>/course.zip", views.archive_download, name="archive_download"),
    path("courses/<slug:course_slug>/<slug:item_slug>/", views.item, name="item"),
    path("progress/", views.progress, name="progress"),
    path("progress/calendar/", views.calendar_link, name="calendar_link"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("progress/items/<int:item_id>/", views.item_progress, name="item_progress"),
    path("media/lectures/<int:item_id>/video/", views.lecture_video, name="lecture_video"),
    path("media/lectures/<int:item_id>/captions.vtt", views.lecture_captions, name="lecture_captions"),
    path("heroes/", views.interviews, name="interviews"),
    path("heroes/<slug:slug>/", views.interview, name="interview"),
    path("media/interviews/<slug:slug>/video/", views.interview_video, name="interview_video"),
    path("media/interviews/<slug:slug>/captions.vtt", views.interview_captions, name="interview_captions"),
]
