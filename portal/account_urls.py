"""The citizen's own pages (real-name identity, household, ...)."""
from django.urls import path  # noqa: F401

app_name = "me"

urlpatterns: list = []
