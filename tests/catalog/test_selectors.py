from decimal import Decimal

import pytest

from catalog import selectors
from catalog.models import Disease, ReimbursementPolicy, Region
from tests.factories import CategoryFactory, DiseaseFactory, InstitutionFactory, RegionFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schemes():
    active = SchemeFactory(code="employee_active", name="职工医保（在职）", fund="职工医保", order=1)
    retired = SchemeFactory(code="employee_retired", name="职工医保（退休）", fund="职工医保", order=2)
    resident = SchemeFactory(code="resident", name="城乡居民医保", fund="城乡居民医保", order=3)
    return active, retired, resident


def test_region_get_and_unknown_code():
    region = RegionFactory()
    assert selectors.region_get(code="430500") == region
    with pytest.raises(Region.DoesNotExist):
        selectors.region_get(code="999999")


def test_region_list_counts_loaded_diseases():
    region = RegionFactory()
    DiseaseFactory.create_batch(3, region=region)
    other = RegionFactory(code="411000", province="河南省", city="许昌市")
    [row_a, row_b] = sorted(selectors.region_list(), key=lambda r: r.code)
    assert (row_a, row_a.loaded_count) == (other, 0)
    assert (row_b, row_b.loaded_count) == (region, 3)


def test_province_list_and_region_list_by_province():
    RegionFactory(code="430500", province="湖南省", city="邵阳市", order=2)
    RegionFactory(code="429006", province="湖北省", city="天门市", order=1)
    RegionFactory(code="430100", province="湖南省", city="长沙市", order=3)
    assert selectors.province_list() == ["湖北省", "湖南省"]
    assert [r.city for r in selectors.region_list(province="湖南省")] == ["邵阳市", "长沙市"]


def test_disease_list_filters_by_scheme_and_name(schemes):
    active, _, resident = schemes
    region = RegionFactory()
    DiseaseFactory(region=region, name="高血压", schemes=[active, resident])
    DiseaseFactory(region=region, name="儿童脑性瘫痪", schemes=[resident])
    DiseaseFactory(region=RegionFactory(code="411000", city="许昌市"), name="糖尿病")

    names = lambda qs: sorted(d.name for d in qs)  # noqa: E731
    assert names(selectors.disease_list_for_region(region=region)) == ["儿童脑性瘫痪", "高血压"]
    assert names(selectors.disease_list_for_region(region=region, scheme=active)) == ["高血压"]
    assert names(selectors.disease_list_for_region(region=region, scheme="resident")) == ["儿童脑性瘫痪", "高血压"]
    assert names(selectors.disease_list_for_region(region=region, q="瘫痪")) == ["儿童脑性瘫痪"]
    assert names(selectors.disease_list_for_region(region=region, q="  ")) == ["儿童脑性瘫痪", "高血压"]


def test_disease_get_is_scoped_to_the_region():
    region = RegionFactory()
    disease = DiseaseFactory(region=region, code="GXY")
    other = RegionFactory(code="411000", city="许昌市")
    assert selectors.disease_get(region=region, code="GXY") == disease
    with pytest.raises(Disease.DoesNotExist):
        selectors.disease_get(region=other, code="GXY")


def test_policy_for_prefers_disease_then_category_then_region(schemes):
    active, retired, resident = schemes
    region = RegionFactory()
    disease = DiseaseFactory(region=region, schemes=[active, retired, resident])
    sibling = DiseaseFactory(region=region, category=disease.category)
    other_category = DiseaseFactory(region=region, category=CategoryFactory(region=region, code="special"))

    ReimbursementPolicy.objects.create(region=region, scheme=active, ratio=Decimal("0.7"))
    ReimbursementPolicy.objects.create(region=region, category=disease.category, scheme=active, ratio=Decimal("0.8"))
    ReimbursementPolicy.objects.create(region=region, disease=disease, scheme=active, ratio=Decimal("0.9"))

    assert selectors.policy_for(disease=disease, scheme=active).ratio == Decimal("0.9")
    assert selectors.policy_for(disease=sibling, scheme="employee_active").ratio == Decimal("0.8")
    assert selectors.policy_for(disease=other_category, scheme=active).ratio == Decimal("0.7")
    assert selectors.policy_for(disease=disease, scheme=resident) is None

    table = selectors.policy_table_for(disease=disease)
    assert [(s.code, p.ratio if p else None) for s, p in table] == [
        ("employee_active", Decimal("0.9")),
        ("employee_retired", None),
        ("resident", None),
    ]


def test_institution_list_filters():
    region = RegionFactory()
    InstitutionFactory(region=region, name="甲医院", level=3, district="双清区", designated=True, may_review=True)
    InstitutionFactory(region=region, name="乙医院", level=2, district="邵阳县", designated=False)
    names = lambda qs: [i.name for i in qs]  # noqa: E731
    assert names(selectors.institution_list(region=region)) == ["甲医院", "乙医院"]
    assert names(selectors.institution_list(region=region, designated=True)) == ["甲医院"]
    assert names(selectors.institution_list(region=region, level=2)) == ["乙医院"]
    assert names(selectors.institution_list(region=region, district="邵阳县")) == ["乙医院"]
    assert names(selectors.institution_list(region=region, may_review=True)) == ["甲医院"]


def test_institution_get_is_scoped_to_the_region():
    from catalog.models import MedicalInstitution

    region = RegionFactory()
    hospital = InstitutionFactory(region=region)
    assert selectors.institution_get(region=region, pk=hospital.pk) == hospital
    other = RegionFactory(code="411000", city="许昌市")
    with pytest.raises(MedicalInstitution.DoesNotExist):
        selectors.institution_get(region=other, pk=hospital.pk)


def test_policy_map_for_agrees_with_policy_for_in_one_query(schemes, django_assert_num_queries):
    """The household page resolves every card's policy at once; each answer must be the one
    ``policy_for`` gives (own disease, then category, then region-wide, lowest pk on a tie)."""
    active, retired, resident = schemes
    region = RegionFactory()
    elsewhere = RegionFactory(code="411000", city="许昌市")
    disease = DiseaseFactory(region=region, schemes=[active, retired, resident])
    sibling = DiseaseFactory(region=region, category=disease.category)
    other_category = DiseaseFactory(region=region, category=CategoryFactory(region=region, code="special"))
    far = DiseaseFactory(region=elsewhere)
    ReimbursementPolicy.objects.create(region=region, scheme=active, ratio=Decimal("0.7"))
    ReimbursementPolicy.objects.create(region=region, scheme=active, ratio=Decimal("0.6"))  # a later tie loses
    ReimbursementPolicy.objects.create(region=region, category=disease.category, scheme=active, ratio=Decimal("0.8"))
    ReimbursementPolicy.objects.create(region=region, disease=disease, scheme=active, ratio=Decimal("0.9"))
    ReimbursementPolicy.objects.create(region=region, disease=sibling, scheme=retired, ratio=Decimal("0.5"))
    ReimbursementPolicy.objects.create(region=elsewhere, scheme=resident, ratio=Decimal("0.4"))
    pairs = [(d, s) for d in (disease, sibling, other_category, far) for s in (active, retired, resident)]

    with django_assert_num_queries(1):
        found = selectors.policy_map_for(pairs=pairs)

    for d, s in pairs:
        expected = selectors.policy_for(disease=d, scheme=s)
        assert found[(d.pk, s.code)] == expected, (d.code, s.code)
    assert found[(disease.pk, active.code)].ratio == Decimal("0.9")
    assert found[(other_category.pk, active.code)].ratio == Decimal("0.7")
    assert found[(far.pk, resident.code)].ratio == Decimal("0.4")
    assert found[(disease.pk, resident.code)] is None
    assert selectors.policy_map_for(pairs=[]) == {}
