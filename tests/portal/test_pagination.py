"""``page_get``: the citizen lists' paging, which skips COUNT(*) when one page holds everything."""
import pytest

from catalog.models import Region
from portal.pagination import page_get
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db


def _regions(n: int):
    for i in range(n):
        RegionFactory(code=f"9{i:05d}", city=f"测试市{i}")
    return Region.objects.order_by("code")


def _count_queries(captured) -> int:
    return sum("COUNT(" in q["sql"].upper() for q in captured)


def test_a_list_that_fits_on_one_page_costs_one_query_and_no_count(django_assert_num_queries):
    regions = _regions(3)
    with django_assert_num_queries(1) as captured:
        page = page_get(regions, number=None, per_page=3)
        assert [r.code for r in page.object_list] == ["900000", "900001", "900002"]
        assert page.paginator.count == 3 and page.paginator.num_pages == 1
        assert not page.has_other_pages()
    assert _count_queries(captured) == 0


def test_a_longer_list_is_counted_and_pages_as_django_would(django_assert_num_queries):
    regions = _regions(5)
    with django_assert_num_queries(2) as captured:
        page = page_get(regions, number="1", per_page=2)
        assert [r.code for r in page.object_list] == ["900000", "900001"]
        assert page.has_next() and page.paginator.num_pages == 3
    assert _count_queries(captured) == 1
    last = page_get(regions, number="3", per_page=2)
    assert [r.code for r in last.object_list] == ["900004"] and last.number == 3 and not last.has_next()
    # Past the end gives the last page and rubbish the first, as Paginator.get_page does; 0 gives
    # the first page (get_page would give the last).
    assert page_get(regions, number="99", per_page=2).number == 3
    assert page_get(regions, number="abc", per_page=2).number == 1
    assert page_get(regions, number="0", per_page=2).number == 1


def test_an_empty_list_is_one_empty_page():
    page = page_get(Region.objects.none(), number=None, per_page=20)
    assert list(page.object_list) == [] and page.paginator.count == 0 and page.number == 1
