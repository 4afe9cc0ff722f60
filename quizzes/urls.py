from django.urls import path

from . import views

app_name = "quizzes"
urlpatterns = [
    path("items/<int:item_id>/start/", views.attempt_start, name="start"),
    path("attempts/<int:attempt_id>/", views.attempt, name="attempt"),
    path("attempts/<int:attempt_id>/submit/", views.attempt_submit, name="submit"),
    path("in-video/<int:item_id>/<int:index>/", views.in_video_check, name="in_video_check"),
]
