"""我的 and 家庭成员 list the account's household: the query count must not grow with it."""
import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.portal.factories import HouseholdMemberFactory, HouseholdProofFactory, IdentityFactory
from tests.query_counts import assert_same_query_count, page_queries

pytestmark = pytest.mark.django_db


def _member_with_proofs(account, pages: int):
    member = HouseholdMemberFactory(account=account)
    for _ in range(pages):
        HouseholdProofFactory(member=member)
    return member


@pytest.mark.parametrize(
    "page, marker", [("me:home", "（父母）"), ("me:household", 'class="button danger"')], ids=["me", "household"]
)
def test_household_pages_do_not_grow_with_members(client, page, marker):
    me = UserFactory()
    IdentityFactory(user=me, verified=True)
    _member_with_proofs(me, 1)
    client.force_login(me)
    few, html = page_queries(client, reverse(page))
    assert html.count(marker) == 1
    for pages in (2, 3, 1):
        _member_with_proofs(me, pages)
    many, html = page_queries(client, reverse(page))
    assert html.count(marker) == 4
    assert_same_query_count(few, many, page=reverse(page), rows=(1, 4))
