"""我的门特资格 comes ten people at a time, at most three cards each: a hospital's 代办 account can
hold dozens of people, and one person dozens of certifications; a person's own page has them all."""
import datetime as dt
import re

import pytest
from django.urls import reverse

from applications.models import CertificationStatus
from certifications import selectors
from certifications.dates import local_today
from certifications.views import CARDS_PER_PAGE, CARDS_PER_PERSON, PERSONS_PER_PAGE
from tests.certifications.factories import CertificationFactory, citizen, household_member

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


# --- a person holding many certifications ------------------------------------------------------
def _cards(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-cert="(\d+)"', html)]


def _mixed_certifications(person, region):
    """Live and not, with the newest not live: the overview must still lead with the live ones."""
    today = local_today()
    made = {
        "expired_newest": CertificationFactory(application__patient=person, application__region=region,
                                               status=CertificationStatus.EXPIRED, begndate=today - dt.timedelta(days=30),
                                               enddate=today - dt.timedelta(days=1)),
        "lapsed_unswept": CertificationFactory(application__patient=person, application__region=region,
                                               begndate=today - dt.timedelta(days=60), enddate=today - dt.timedelta(days=2)),
        "revoked": CertificationFactory(application__patient=person, application__region=region,
                                        status=CertificationStatus.REVOKED, begndate=today - dt.timedelta(days=90)),
    }
    for n, years in enumerate((1, 2, 3, 4)):
        made[f"live_{n}"] = CertificationFactory(application__patient=person, application__region=region, long_term=True,
                                                 begndate=today - dt.timedelta(days=365 * years))
    return made


def test_the_overview_shows_a_persons_live_certifications_first_and_links_to_all(client, region, owner):
    user, me = owner
    made = _mixed_certifications(me, region)
    client.force_login(user)

    overview = client.get(reverse("certifications:index")).content.decode()
    whole = client.get(reverse("certifications:person", args=[me.pk])).content.decode()

    live = [made[f"live_{n}"].pk for n in range(4)]  # newest first
    assert _cards(overview) == live[:CARDS_PER_PERSON]
    assert f"查看此人全部 {len(made)} 项门特资格" in overview
    # The person's own page lists all of them in the same order: live ones, then the rest, newest first.
    assert _cards(whole) == [*live, made["expired_newest"].pk, made["lapsed_unswept"].pk, made["revoked"].pk]
    assert "查看此人全部" not in whole


def test_a_person_with_few_certifications_has_no_link_to_more(client, region, owner):
    user, me = owner
    for _ in range(CARDS_PER_PERSON):
        CertificationFactory(application__patient=me, application__region=region)
    client.force_login(user)
    overview = client.get(reverse("certifications:index")).content.decode()
    assert len(_cards(overview)) == CARDS_PER_PERSON and "查看此人全部" not in overview


def test_a_persons_own_page_is_paged_and_every_card_is_reachable(client, region, owner):
    user, me = owner
    made = [CertificationFactory(application__patient=me, application__region=region) for _ in range(CARDS_PER_PAGE + 1)]
    client.force_login(user)
    url = reverse("certifications:person", args=[me.pk])
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert len(_cards(first)) == CARDS_PER_PAGE and len(_cards(second)) == 1
    assert "第 1 / 2 页" in first and "第 2 / 2 页" in second
    assert sorted(_cards(first) + _cards(second)) == sorted(c.pk for c in made)


def test_the_overview_selector_drops_people_the_account_may_not_see(region, owner):
    user, me = owner
    CertificationFactory(application__patient=me, application__region=region)
    stranger, _ = citizen()
    assert selectors.certification_list_first_per_person(user=stranger, person_ids=[me.pk], per_person=3, today=local_today()) == []
    mine = selectors.certification_list_first_per_person(user=user, person_ids=[me.pk], per_person=3, today=local_today())
    assert [c.person_id for c in mine] == [me.pk] and mine[0].held == 1
