"""The demo seed for `make run`: idempotent, scoped staff, a workable queue."""
import pytest
from django.core.management import call_command

from applications.models import Application
from reviews.models import ReviewingOrganisation, StaffMembership
from reviews.selectors import application_list_for_staff

pytestmark = pytest.mark.django_db


def test_seed_demo_reviews_is_idempotent_and_scoped(settings, capsys):
    settings.STAFF_MFA_REQUIRED = False
    settings.IDENTITY_DEV_PROVIDER_ALLOWED = True  # seed_demo's citizen passes the development face check
    call_command("load_catalog")
    call_command("seed_demo", force=True)
    call_command("seed_demo_reviews", force=True)
    call_command("seed_demo_reviews", force=True)
    out = capsys.readouterr().out
    assert "sy_reviewer" in out and "review-demo-2026" in out
    assert ReviewingOrganisation.objects.count() == ReviewingOrganisation.objects.values("regions").distinct().count()
    sy = StaffMembership.objects.get(user__username="sy_reviewer").user
    lps = StaffMembership.objects.get(user__username="lps_reviewer").user
    queue = application_list_for_staff(user=sy)
    assert queue.count() == 3 == Application.objects.exclude(status="draft").count()
    assert not application_list_for_staff(user=lps).exists()


def test_seed_refuses_outside_embedded_default():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo_reviews")


def test_seed_enrols_totp_when_mfa_is_required(settings, capsys):
    from reviews.security import totp_authenticator_get

    settings.STAFF_MFA_REQUIRED = True
    call_command("load_catalog")
    call_command("seed_demo_reviews", force=True)
    assert "TOTP secret" in capsys.readouterr().out
    assert totp_authenticator_get(user=StaffMembership.objects.get(user__username="sy_reviewer").user)
