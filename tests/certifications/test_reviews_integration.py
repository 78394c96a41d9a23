"""The review decisions (reviews area) running through this area's rules: an approved extension
extends the certification instead of creating one, and the original reviewer cannot decide the
reconsideration. Uses only the reviews services' public signatures."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from applications.models import ApplicationStatus, Certification
from certifications import services
from reviews.models import ReviewingOrganisation, StaffMembership
from reviews.roles import StaffRole
from tests.certifications.factories import png_upload
from tests.factories import UserFactory

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(day: str, time: str = "10:00"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


@pytest.fixture
def reviewers(region):
    from reviews.services import staff_groups_ensure

    staff_groups_ensure()
    organisation = ReviewingOrganisation.objects.create(name="邵阳市医疗保障事务中心")
    organisation.regions.add(region)
    people = []
    for name in ("sy-rev-a", "sy-rev-b"):
        user = UserFactory(staff=True, username=name)
        StaffMembership.objects.create(user=user, organisation=organisation)
        user.groups.add(Group.objects.get(name=str(StaffRole.REVIEWER)))
        people.append(user)
    return people


def test_approved_extension_extends_and_creates_no_certification(certification, owner, reviewers):
    from reviews.services import application_approve

    user, _ = owner
    with at("2026-12-10"):
        extension = services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
        before = Certification.objects.count()
        application_approve(application_id=extension.pk, user=reviewers[0])
    certification.refresh_from_db()
    assert certification.enddate == dt.date(2027, 12, 31)
    assert Certification.objects.count() == before


def test_reconsideration_decided_only_by_another_reviewer(owner, region, reviewers):
    from reviews.services import application_reject
    from tests.certifications.factories import ApplicationFactory

    user, person = owner
    first, second = reviewers
    with at("2026-03-02"):
        case = ApplicationFactory(status=ApplicationStatus.SUBMITTED, applicant=user, patient=person, region=region,
                                  decided_at=None)
        application_reject(application_id=case.pk, user=first, reason="other", note="诊断证明缺少公章")
        reconsideration = services.reconsideration_request(application=case, user=user, reason="已补盖公章，请重新审核")
        with pytest.raises(PermissionDenied):
            application_reject(application_id=reconsideration.pk, user=first, reason="other", note="维持原决定")
        application_reject(application_id=reconsideration.pk, user=second, reason="other", note="维持原决定")
