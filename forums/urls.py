from django.urls import path

from . import views

app_name = "forums"
urlpatterns = [
    path("", views.index, name="index"),
    path("t/<int:thread_id>/", views.thread, name="thread"),
    path("t/<int:thread_id>/reply/", views.reply, name="reply"),
    path("t/<int:thread_id>/follow/", views.follow, name="follow_thread"),
    path("t/<int:thread_id>/moderate/", views.moderate_thread, name="moderate_thread"),
    path("p/<int:post_id>/comment/", views.comment, name="comment"),
    path("p/<int:post_id>/vote/", views.vote, name="vote"),
    path("p/<int:post_id>/accept/", views.accept, name="accept"),
    path("p/<int:post_id>/endorse/", views.endorse, name="endorse"),
    path("p/<int:post_id>/edit/", views.edit, name="edit"),
    path("p/<int:post_id>/delete/", views.delete, name="delete"),
    path("p/<int:post_id>/history/", views.history, name="history"),
    path("p/<int:post_id>/flag/", views.flag, name="flag"),
    path("p/<int:post_id>/moderate/", views.moderate_post, name="moderate_post"),
    path("<slug:course_slug>/", views.forum, name="forum"),
    path("<slug:course_slug>/ask/", views.ask, name="ask"),
    path("<slug:course_slug>/similar/", views.similar, name="similar"),
    path("<slug:course_slug>/follow/", views.follow, name="follow_forum"),
    path("<slug:course_slug>/staff/", views.dashboard, name="dashboard"),
    path("<slug:course_slug>/review/", views.review, name="review"),
    path("<slug:course_slug>/topics/new/", views.topic_new, name="topic_new"),
    path("<slug:course_slug>/topics/<slug:topic_slug>/", views.forum, name="topic"),
    path("<slug:course_slug>/topics/<slug:topic_slug>/follow/", views.follow, name="follow_topic"),
    path("<slug:course_slug>/sanctions/<int:sanction_id>/lift/", views.sanction_lift, name="sanction_lift"),
]
