from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("security/totp/", views.totp_enroll, name="totp_enroll"),
    path("counter/new/", views.counter_new, name="counter_new"),
]
