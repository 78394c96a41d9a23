import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from notifications import views as notification_views
from portal import views

ADMIN_URL = os.environ.get("ADMIN_URL", "admin/")
# allauth renders this when a rate limit refuses a request (a clear Chinese page, status 429).
handler429 = "portal.views.rate_limited"

urlpatterns = [
    # Citizens' own pages first: Django tries the patterns in order, and these are the pages
    # reloaded most (each prefix is distinct, so the order changes nothing else).
    path("applications/", include("applications.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("prefs/elder-mode/", views.elder_mode, name="elder_mode"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("catalog/", include("catalog.urls")),
    path("me/", include("portal.account_urls")),
    path("track/", include("applications.track_urls")),
    path("messages/", include("notifications.urls")),
    # Developer SMS inbox; the view answers 404 unless DEBUG and the dev gateway are on.
    path("dev/outbox/", notification_views.dev_outbox, name="dev_outbox"),
    path("reviews/", include("reviews.urls")),
    path("certifications/", include("certifications.urls")),
    path(ADMIN_URL, admin.site.urls),
]
