from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from oauth2_provider import urls as oauth2_urls


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico whatever the page says. Resolved per request: with the manifest
    storage of production, static() needs collectstatic's manifest, which importing URLs must not."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.ico")


admin.site.site_header = "Deep Learning — administration"
admin.site.site_title = "Deep Learning admin"

urlpatterns = [
    path("favicon.ico", FaviconRedirect.as_view()),
    path("admin/", admin.site.urls),
    path("api/v1/", include("restapi.urls")),
    # OAuth2 for integrations: authorize, token, revoke, introspect. Applications are registered in the admin.
    path("o/", include((oauth2_urls.base_urlpatterns, "oauth2_provider"))),
    path("accounts/profile/tokens/", include("restapi.web_urls")),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("billing/", include("billing.urls")),
    path("quizzes/", include("quizzes.urls")),
    path("certificates/", include("certificates.urls")),
    path("grading/", include("grading.urls")),
    path("forums/", include("forums.urls")),
    path("peer-review/", include("peer_review.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("courseware.urls")),
]
