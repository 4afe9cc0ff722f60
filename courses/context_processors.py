from django.conf import settings


def site(request):
    return {"SITE_NAME": "Deep Learning", "SITE_URL": settings.SITE_URL}
