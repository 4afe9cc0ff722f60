from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Deep Learning — administration"
admin.site.site_title = "Deep Learning admin"

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.ico"), permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("billing/", include("billing.urls")),
    path("quizzes/", include("quizzes.urls")),
    path("certificates/", include("certificates.urls")),
    path("grading/", include("grading.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("courseware.urls")),
]
