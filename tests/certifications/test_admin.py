import datetime as dt

import pytest
from django.urls import reverse

from certifications import services
from certifications.models import RemoteCareKind, RemoteCareStatus
from reviews.models import ReviewingOrganisation, StaffMembership
from tests.certifications.factories import png_upload
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration(certification, owner):
    user, _ = owner
    return services.remote_care_register(
        certification=certification, user=user, kind=RemoteCareKind.LONG_TERM, reason="living",
        province="广东省", city="深圳市", start_date=dt.date.today() + dt.timedelta(days=1), end_date=None,
        proof=png_upload(),
    )


def staff_for(region, name):
    user = UserFactory(staff=True, username=name)
    organisation = ReviewingOrganisation.objects.create(name=f"{name}-机构")
    organisation.regions.add(region)
    StaffMembership.objects.create(user=user, organisation=organisation)
    return user


def test_staff_see_and_decide_only_their_regions_registrations(client, registration, region, settings):
    # The second factor is the reviews area's concern (tested there); this test is about scope.
    settings.STAFF_MFA_REQUIRED = False
    own = staff_for(region, "shaoyang-staff")
    other = staff_for(RegionFactory(code="520200", province="贵州省", city="六盘水市"), "lps-staff")
    changelist = reverse("admin:certifications_remotecareregistration_changelist")
    proof = reverse("admin:certifications_remotecare_proof", args=[registration.pk])

    client.force_login(other)
    assert "深圳市" not in client.get(changelist).content.decode()
    assert client.get(proof).status_code == 404
    client.post(changelist, {"action": "approve", "_selected_action": [registration.pk]})
    registration.refresh_from_db()
    assert registration.status == RemoteCareStatus.PENDING

    client.force_login(own)
    assert "深圳市" in client.get(changelist).content.decode()
    assert client.get(proof).status_code == 200
    client.post(changelist, {"action": "approve", "_selected_action": [registration.pk]})
    registration.refresh_from_db()
    assert (registration.status, registration.decided_by) == (RemoteCareStatus.ACTIVE, own)


def test_the_nightly_sweep_is_scheduled_and_registered():
    from django.conf import settings

    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["certifications-daily-sweep"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
