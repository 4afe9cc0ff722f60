from django.urls import path

from . import views

app_name = "grading"
urlpatterns = [
    path("assignments/<int:item_id>/notebook.ipynb", views.assignment_download, name="download"),
    path("assignments/<int:item_id>/submit/", views.assignment_submit, name="submit"),
    path("assignments/<int:item_id>/editor/", views.assignment_editor, name="editor"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/hints/", views.submission_hint, name="submission_hint"),
    path("submissions/<int:pk>/notebook.ipynb", views.submission_notebook, name="submission_notebook"),
    path("submissions/<int:pk>/regrade/", views.submission_regrade, name="submission_regrade"),
    path("regrades/<int:pk>/", views.regrade_detail, name="regrade"),
    path("graders/<int:pk>/publish/", views.publish_progress, name="publish"),
]
