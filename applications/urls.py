from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("new/", views.application_new, name="new"),
    path("<int:pk>/", views.application_detail, name="detail"),
    path("<int:pk>/step/<int:step>/", views.application_step, name="step"),
    path("<int:pk>/submit/", views.application_submit, name="submit"),
    path("<int:pk>/discard/", views.application_discard, name="discard"),
    path("<int:pk>/materials/", views.material_upload, name="material_upload"),
    path("<int:pk>/materials/<int:material_pk>/delete/", views.material_delete, name="material_delete"),
    path("<int:pk>/materials/<int:material_pk>/file/", views.material_file, name="material_file"),
    path("<int:pk>/materials/<int:material_pk>/thumb/", views.material_file, {"variant": "thumb"}, name="material_thumb"),
    path("<int:pk>/receipt/", views.application_receipt, name="receipt"),
    path("<int:pk>/receipt.pdf", views.application_receipt_pdf, name="receipt_pdf"),
    path("<int:pk>/withdraw/", views.application_withdraw, name="withdraw"),
    path("<int:pk>/resubmit/", views.application_resubmit, name="resubmit"),
]
