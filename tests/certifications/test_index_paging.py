"""我的门特资格 comes ten people at a time: a hospital's 代办 account can hold dozens of people."""
import pytest
from django.urls import reverse

from certifications.views import PERSONS_PER_PAGE
from tests.certifications.factories import CertificationFactory, household_member

pytestmark = pytest.mark.django_db


def test_a_large_household_is_paged_by_person_and_every_card_is_reachable(client, region, owner):
    user, me = owner
    people = [me] + [household_member(account=user) for _ in range(PERSONS_PER_PAGE + 1)]
    for person in people:
        CertificationFactory(application__patient=person, application__region=region)
    client.force_login(user)
    url = reverse("certifications:index")

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()

    assert first.count('class="person"') == PERSONS_PER_PAGE and second.count('class="person"') == 2
    assert "第 1 / 2 页" in first and "?page=2" in first and "第 2 / 2 页" in second
    shown = {p.pk for p in people if f'id="person-{p.pk}"' in first + second}
    assert shown == {p.pk for p in people}
    assert first.count('class="card cert-card"') + second.count('class="card cert-card"') == len(people)


def test_a_small_household_has_no_pager(client, region, owner):
    user, me = owner
    CertificationFactory(application__patient=me, application__region=region)
    client.force_login(user)
    html = client.get(reverse("certifications:index")).content.decode()
    assert 'class="pager' not in html and 'class="card cert-card"' in html


def test_the_cards_do_not_read_id_numbers_or_diagnoses(client, region, owner):
    """Two encrypted fields per card, never shown: the list query leaves them out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, me = owner
    CertificationFactory(application__patient=me, application__region=region)
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("certifications:index")).content.decode()
    cards = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "applications_certification"')]
    assert cards and 'class="card cert-card"' in html
    assert all('"id_number"' not in sql and '"diagnosis"' not in sql for sql in cards)
