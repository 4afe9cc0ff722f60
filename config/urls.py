from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Deep Learning — administration"
admin.site.site_title = "Deep Learning admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("billing/", include("billing.urls")),
    path("quizzes/", include("quizzes.urls")),
    path("certificates/", include("certificates.urls")),
    path("grading/", include("grading.urls")),
    path("forums/", include("forums.urls")),
    path("", include("courseware.urls")),
]
