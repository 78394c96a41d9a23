from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.region_choose, name="regions"),
    path("<str:region_code>/", views.region_detail, name="region"),
    path("<str:region_code>/<str:disease_code>/", views.disease_detail, name="disease"),
]
