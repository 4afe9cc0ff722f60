from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("<str:public_id>/", views.verify, name="verify"),
    path("<str:public_id>/pdf/", views.pdf, name="pdf"),
    path("<str:public_id>/share.png", views.share_image, name="share_image"),
    path("<str:public_id>/revoke/", views.revoke, name="revoke"),
    path("<str:public_id>/reissue/", views.reissue, name="reissue"),
]
