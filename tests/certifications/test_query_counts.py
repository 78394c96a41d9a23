"""The certification pages list a household's certifications, rejected cases open to
reconsideration, remote-care registrations, hospital changes and designated hospitals: none of
their query counts may grow with those rows (distinct diseases and schemes included)."""
import pytest
from django.urls import reverse

from certifications.models import RemoteCareStatus
from tests.certifications.factories import (
    ApplicationFactory,
    CertificationFactory,
    HospitalChangeFactory,
    RemoteCareRegistrationFactory,
    household_member,
)
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, PolicyFactory, SchemeFactory
from tests.query_counts import assert_same_query_count, page_queries

pytestmark = pytest.mark.django_db


def _certification_of(person, region, n: int):
    """A certification for a disease (and scheme) of its own, with a policy for it."""
    scheme = SchemeFactory(code=f"qc-scheme-{n}", name=f"险种{n}")
    disease = DiseaseFactory(region=region, schemes=[scheme])
    PolicyFactory(region=region, scheme=scheme, disease=disease)
    return CertificationFactory(
        application__patient=person, application__region=region, application__disease=disease,
        application__scheme=scheme,
    )


def _rejected_case(user, person, region):
    return ApplicationFactory(applicant=user, patient=person, region=region, rejected=True)


def test_my_certifications_do_not_grow_with_certifications_members_or_rejected_cases(client, region, owner):
    user, me = owner
    _certification_of(me, region, 0)
    _rejected_case(user, me, region)
    client.force_login(user)
    url = reverse("certifications:index")
    few, html = page_queries(client, url)
    assert html.count('class="card cert-card"') == 1 and html.count("/certifications/reconsider/") == 1
    _certification_of(me, region, 1)
    for n in (2, 3):
        _certification_of(household_member(account=user), region, n)
    for _ in range(2):
        _rejected_case(user, PersonFactory(region=region), region)
    many, html = page_queries(client, url)
    assert html.count('class="card cert-card"') == 4 and html.count("/certifications/reconsider/") == 3
    assert_same_query_count(few, many, page=url, rows=(2, 7))


def test_one_persons_certifications_do_not_grow(client, region, owner):
    user, me = owner
    _certification_of(me, region, 0)
    client.force_login(user)
    url = reverse("certifications:person", args=[me.pk])
    few, html = page_queries(client, url)
    assert html.count('class="card cert-card"') == 1
    for n in (1, 2, 3):
        _certification_of(me, region, n)
    many, html = page_queries(client, url)
    assert html.count('class="card cert-card"') == 4
    assert_same_query_count(few, many, page=url, rows=(1, 4))


def _history(certification, n: int):
    for _ in range(n):
        HospitalChangeFactory(certification=certification, from_institution=InstitutionFactory(region=certification.region))
        RemoteCareRegistrationFactory(certification=certification, status=RemoteCareStatus.CANCELLED)


def test_certification_detail_does_not_grow_with_registrations_and_changes(client, certification, owner):
    user, _ = owner
    _history(certification, 1)
    client.force_login(user)
    url = reverse("certifications:detail", args=[certification.pk])
    few, html = page_queries(client, url)
    assert html.count('class="remote"') == 1 and html.count(" → ") == 1
    _history(certification, 3)
    many, html = page_queries(client, url)
    assert html.count('class="remote"') == 4 and html.count(" → ") == 4
    assert_same_query_count(few, many, page=url, rows=(2, 8))


def test_hospital_page_does_not_grow_with_hospitals_or_changes(client, certification, owner, region):
    user, _ = owner
    InstitutionFactory(region=region, designated=True)
    HospitalChangeFactory(certification=certification)
    client.force_login(user)
    url = reverse("certifications:hospital", args=[certification.pk])
    few, html = page_queries(client, url)
    designated = html.count('name="institution"')
    for n in range(3):
        InstitutionFactory(region=region, designated=True, district=f"测试{n}区")
        HospitalChangeFactory(certification=certification)
    many, html = page_queries(client, url)
    # Every change above added a designated hospital too (the factory's default is designated).
    assert html.count('name="institution"') == designated + 6
    assert_same_query_count(few, many, page=url, rows=(designated, designated + 6))
