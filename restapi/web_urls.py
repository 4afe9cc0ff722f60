"""The profile's token page (under /accounts/profile/tokens/): make, list and revoke personal tokens."""

from django.urls import path

from . import web

app_name = "restapi"
urlpatterns = [
    path("", web.tokens, name="tokens"),
    path("<int:token_id>/revoke/", web.token_revoke, name="token_revoke"),
]
