from django.urls import path

from . import views

app_name = "peer_review"
urlpatterns = [
    path("assigned/", views.assigned, name="assigned"),
    path("<int:assignment_id>/submit/", views.submit, name="submit"),
    path("<int:assignment_id>/training/", views.training, name="training"),
    path("<int:assignment_id>/request/", views.request_work, name="request"),
    path("work/<int:submission_id>/", views.review, name="review"),
    path("work/<int:submission_id>/file/", views.submission_file, name="file"),
    path("work/<int:submission_id>/dispute/", views.dispute, name="dispute"),
    path("reviews/<int:review_id>/flag/", views.flag, name="flag"),
    path("staff/<int:assignment_id>/", views.dashboard, name="dashboard"),
    path("staff/<int:assignment_id>/export.csv", views.export_csv, name="export"),
    path("staff/work/<int:submission_id>/", views.staff_submission, name="staff_submission"),
    path("staff/work/<int:submission_id>/<str:action>/", views.staff_action, name="staff_action"),
]
