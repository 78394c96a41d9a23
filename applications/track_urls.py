"""The public progress lookup, mounted at /track/ by portal/urls.py (no namespace: ``{% url 'track' %}``)."""
from django.urls import path

from applications import views

urlpatterns = [path("", views.track, name="track")]
