import pytest

from tests.certifications.factories import CertificationFactory, citizen
from tests.factories import DiseaseFactory, RegionFactory


@pytest.fixture
def region(db):
    region = RegionFactory()
    settings = region.settings
    settings.extension_window_days = 30
    settings.hospital_changes_per_year = 1
    settings.reconsideration_days = 60
    settings.remote_care_auto_approve = False
    settings.save()
    return region


@pytest.fixture
def owner(region):
    """A verified citizen of the region (user, person)."""
    return citizen()


@pytest.fixture
def certification(owner, region):
    """The owner's certification for a 12-month disease, ending 2026-12-31."""
    user, person = owner
    disease = DiseaseFactory(region=region, validity_rule="months", validity_months=12)
    return CertificationFactory(
        application__applicant=user, application__patient=person, application__region=region,
        application__disease=disease,
    )

