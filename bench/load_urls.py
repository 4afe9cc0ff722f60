"""The site's URLs plus /bench/minimal/: the least a Django view can do, behind the whole middleware stack."""

from django.http import HttpResponse
from django.urls import include, path


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), path("", include("config.urls"))]
