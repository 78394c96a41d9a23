"""The citizen's own pages (我的, real-name identity, household members)."""
from django.urls import path

from portal import account_views as views

app_name = "me"

urlpatterns = [
    path("", views.me_home, name="home"),
    path("identity/", views.identity_page, name="identity"),
    path("identity/face/", views.identity_face, name="identity_face"),
    path("identity/check/", views.identity_check, name="identity_check"),
    path("household/", views.household_list, name="household"),
    path("household/add/", views.household_add, name="household_add"),
    path("household/<int:member_id>/remove/", views.household_remove, name="household_remove"),
    path("household/proofs/<int:proof_id>/", views.household_proof_file, name="household_proof"),
]
