from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("start/", views.start, name="start"),
    path("welcome/", views.welcome, name="welcome"),
    path("cancel/", views.cancel, name="cancel"),
    path("resume/", views.resume, name="resume"),
    path("card/", views.card, name="card"),
    path("financial-aid/", views.financial_aid, name="financial_aid"),
    path("local/checkout/<int:checkout_id>/", views.local_checkout, name="local_checkout"),
    path("local/card/", views.local_card, name="local_card"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
