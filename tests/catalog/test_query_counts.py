"""The region chooser lists provinces, then a province's cities with their disease counts: the
query count must not grow with either. (The region and disease pages are pinned in test_pages.py.)"""
import pytest
from django.urls import reverse

from tests.factories import DiseaseFactory, RegionFactory
from tests.query_counts import assert_same_query_count, page_queries

pytestmark = pytest.mark.django_db


def _city(n: int, province: str):
    region = RegionFactory(code=f"98{n:04d}", province=province, city=f"测试{n}市")
    region.settings.declared_disease_count = 10
    region.settings.save(update_fields=["declared_disease_count"])
    DiseaseFactory(region=region)
    return region


def test_province_step_does_not_grow_with_provinces(client):
    _city(0, "测试省0")
    url = reverse("catalog:regions")
    few, html = page_queries(client, url)
    assert html.count("?province=") == 1
    for n in range(1, 5):
        _city(n, f"测试省{n}")
    many, html = page_queries(client, url)
    assert html.count("?province=") == 5
    assert_same_query_count(few, many, page=url, rows=(1, 5))


def test_city_step_does_not_grow_with_cities(client):
    _city(0, "测试省")
    url = reverse("catalog:regions")
    few, html = page_queries(client, url, {"province": "测试省"})
    assert html.count("已载入 1 / 声明 10 种") == 1
    for n in range(1, 5):
        _city(n, "测试省")
    many, html = page_queries(client, url, {"province": "测试省"})
    assert html.count("已载入 1 / 声明 10 种") == 5
    assert_same_query_count(few, many, page=f"{url}?province=", rows=(1, 5))
