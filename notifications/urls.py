from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/", views.message_detail, name="detail"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
]
