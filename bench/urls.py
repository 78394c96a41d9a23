"""The project's URLs plus the two baseline views (only in bench settings)."""
from django.urls import path

from bench import views
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("bench/bare/", views.bare, name="bench_bare"),
    path("bench/bare-upload/", views.bare_upload, name="bench_bare_upload"),
    path("bench/signed-in-minimum/", views.signed_in_minimum, name="bench_signed_in_minimum"),
    path("bench/signed-in-floor/", views.signed_in_floor, name="bench_signed_in_floor"),
    *portal_urlpatterns,
]
