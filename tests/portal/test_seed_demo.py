import pytest
from django.core.management import CommandError, call_command

from portal.models import HouseholdMember, Identity
from portal.selectors import identity_is_verified
from tests.factories import RegionFactory, SchemeFactory


@pytest.mark.django_db
def test_seed_demo_refuses_outside_the_embedded_default(settings):
    settings.EMBEDDED = False
    with pytest.raises(CommandError):
        call_command("seed_demo")


@pytest.mark.django_db
def test_seed_demo_creates_a_verified_citizen_with_a_parent_idempotently(capsys):
    RegionFactory(code="430500")
    SchemeFactory()
    call_command("seed_demo", "--force")
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out
    assert "13800138000" in out and "/dev/outbox/" in out
    identity = Identity.objects.get(user__phone="13800138000")
    assert identity_is_verified(user=identity.user)
    assert identity.person.region.code == "430500"
    member = HouseholdMember.objects.get(account=identity.user)
    assert member.relationship == "parent" and member.proofs.count() == 1
    assert Identity.objects.count() == 1 and HouseholdMember.objects.count() == 1


@pytest.mark.django_db
def test_seed_demo_without_catalog_still_creates_the_login(capsys):
    call_command("seed_demo", "--force")
    assert "load_catalog" in capsys.readouterr().out
    assert not Identity.objects.exists()
