"""The catalog's change forms list categories (a dropdown, or the region's inline rows) whose
labels name their region: their query counts must not grow with categories."""
import pytest
from django.urls import reverse

from tests.factories import CategoryFactory, DiseaseFactory, PolicyFactory, RegionFactory
from tests.query_counts import assert_same_query_count, page_queries
from tests.test_admin_query_counts import _client_for
from tests.reviews.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_mfa(db):
    return _client_for(staff_user(superuser=True, roles=()))


def _categories(region, n, start):
    for i in range(start, start + n):
        CategoryFactory(region=region, code=f"cat-{i}", name=f"类别{i}")


@pytest.mark.parametrize("form", ["disease", "policy", "region"])
def test_change_forms_do_not_grow_with_categories(admin_client_mfa, form):
    region = RegionFactory()
    disease = DiseaseFactory(region=region)
    policy = PolicyFactory(region=region, disease=disease)
    url = {
        "disease": reverse("admin:catalog_disease_change", args=[disease.pk]),
        "policy": reverse("admin:catalog_reimbursementpolicy_change", args=[policy.pk]),
        "region": reverse("admin:catalog_region_change", args=[region.pk]),
    }[form]
    _categories(region, 1, 0)
    admin_client_mfa.get(url)  # the first request fills per-process caches (content types, ...)
    few, html = page_queries(admin_client_mfa, url)
    assert "类别0" in html
    _categories(RegionFactory(code="411000", city="许昌市"), 2, 1)
    _categories(region, 3, 3)
    many, html = page_queries(admin_client_mfa, url)
    assert "类别5" in html
    assert_same_query_count(few, many, page=url, rows=(1, 6))
