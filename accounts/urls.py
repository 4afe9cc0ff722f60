from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("time-zone/", views.time_zone_from_browser, name="time_zone"),
]
