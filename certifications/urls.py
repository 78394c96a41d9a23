from django.urls import path

from certifications import views

app_name = "certifications"

urlpatterns = [
    path("", views.index, name="index"),
    path("person/<int:person_id>/", views.person_detail, name="person"),
    path("household/", views.household_lookup, name="household_lookup"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/renew/", views.renew, name="renew"),
    path("<int:pk>/hospital/", views.hospital, name="hospital"),
    path("<int:pk>/remote-care/", views.remote_care, name="remote_care"),
    path("remote-care/<int:pk>/cancel/", views.remote_care_cancel, name="remote_care_cancel"),
    path("remote-care/<int:pk>/proof/", views.remote_care_proof, name="remote_care_proof"),
    path("reconsider/<int:pk>/", views.reconsider, name="reconsider"),
]
