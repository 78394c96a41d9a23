import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from certifications import selectors, services
from certifications.models import HospitalChange
from tests.certifications.factories import CertificationFactory, citizen
from tests.factories import InstitutionFactory, RegionFactory

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, time: str = "10:00"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


@pytest.fixture
def hospitals(region):
    return [InstitutionFactory(region=region, name=f"定点医院{i}", district="钟山区", level=3) for i in range(3)]


@pytest.mark.django_db
def test_first_choice_is_not_a_change_second_change_refused_with_the_date(certification, owner, hospitals):
    user, _ = owner
    a, b, c = hospitals
    with at("2026-03-01"):
        services.hospital_change(certification=certification, institution=a, user=user)  # first choice
        services.hospital_change(certification=certification, institution=b, user=user)  # the one change
        with pytest.raises(ValidationError) as error:
            services.hospital_change(certification=certification, institution=c, user=user)
    assert error.value.code == "yearly_limit"
    assert "2027-01-01" in error.value.messages[0]
    certification.refresh_from_db()
    assert certification.designated_institution == b
    # History keeps every choice, newest first.
    assert [(h.from_institution, h.to_institution) for h in selectors.hospital_change_history(certification=certification)] == [(a, b), (None, a)]


@pytest.mark.django_db
def test_allowed_again_on_1_january_shanghai_time(certification, owner, hospitals):
    user, _ = owner
    certification.enddate = dt.date(2027, 12, 31)  # still valid in the new year
    certification.save(update_fields=["enddate"])
    a, b, c = hospitals
    with at("2026-06-01"):
        services.hospital_change(certification=certification, institution=a, user=user)
        services.hospital_change(certification=certification, institution=b, user=user)
    # 23:59 on 31 December in Shanghai is still 2026 (15:59 UTC).
    with at("2026-12-31", "23:59"), pytest.raises(ValidationError):
        services.hospital_change(certification=certification, institution=c, user=user)
    # 00:01 on 1 January in Shanghai is 2027 although it is still 31 December in UTC.
    with at("2027-01-01", "00:01"):
        change = services.hospital_change(certification=certification, institution=c, user=user)
    assert change.year == 2027


@pytest.mark.django_db
def test_region_setting_allows_more_changes(certification, owner, hospitals, region):
    region.settings.hospital_changes_per_year = 2
    region.settings.save()
    user, _ = owner
    a, b, c = hospitals
    with at("2026-05-01"):
        for target in (a, b, c):
            services.hospital_change(certification=certification, institution=target, user=user)
        quota = selectors.hospital_change_quota(certification=certification)
    assert (quota.used, quota.can_change, quota.next_possible) == (2, False, dt.date(2027, 1, 1))


@pytest.mark.django_db
def test_only_designated_institutions_of_the_region(certification, owner):
    user, _ = owner
    not_designated = InstitutionFactory(region=certification.region, designated=False)
    elsewhere = InstitutionFactory(region=RegionFactory(code="520200", province="贵州省", city="六盘水市"))
    for institution in (not_designated, elsewhere):
        with pytest.raises(ValidationError) as error:
            services.hospital_change(certification=certification, institution=institution, user=user)
        assert error.value.code == "not_designated"


@pytest.mark.django_db
def test_someone_elses_certification_refused(certification, hospitals):
    stranger, _ = citizen()
    with pytest.raises(ValidationError):
        services.hospital_change(certification=certification, institution=hospitals[0], user=stranger)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_changes_cannot_both_pass(region):
    user, person = citizen()
    cert = CertificationFactory(application__patient=person, application__region=region)
    a, b, c = (InstitutionFactory(region=region, name=f"并发医院{i}") for i in range(3))
    services.hospital_change(certification=cert, institution=a, user=user)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(target):
        try:
            barrier.wait()
            services.hospital_change(certification=cert, institution=target, user=user)
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(t,)) for t in (b, c)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "yearly_limit"]
    assert HospitalChange.objects.filter(certification=cert, from_institution__isnull=False).count() == 1
