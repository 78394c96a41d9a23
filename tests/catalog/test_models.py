from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Disease, MedicalInstitution, ReimbursementPolicy, Region, ServiceSettings
from tests.factories import CategoryFactory, DiseaseFactory, InstitutionFactory, RegionFactory, SchemeFactory

pytestmark = pytest.mark.django_db


def _integrity_error(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_region_code_is_six_digits():
    with pytest.raises(ValidationError, match="6"):
        Region(code="43050", province="湖南省", city="邵阳市").full_clean()
    Region(code="430500", province="湖南省", city="邵阳市").full_clean()


def test_disease_code_and_name_unique_per_region_only():
    region = RegionFactory()
    DiseaseFactory(region=region, code="GXY", name="高血压")
    _integrity_error(lambda: DiseaseFactory(region=region, code="GXY", name="另一个"))
    _integrity_error(lambda: DiseaseFactory(region=region, code="OTHER", name="高血压"))
    DiseaseFactory(region=RegionFactory(code="411000", city="许昌市"), code="GXY", name="高血压")  # fine elsewhere


@pytest.mark.parametrize("months", [None, 0])
def test_months_rule_needs_positive_months(months):
    region = RegionFactory()
    _integrity_error(lambda: DiseaseFactory(region=region, validity_rule="months", validity_months=months))


def test_months_rule_with_months_and_other_rules_without():
    region = RegionFactory()
    DiseaseFactory(region=region, validity_rule="months", validity_months=24)
    DiseaseFactory(region=region, validity_rule="long_term", validity_months=None)
    DiseaseFactory(region=region, validity_rule="year_end", validity_months=None)
    assert Disease.objects.count() == 3


def test_policy_is_for_a_disease_or_a_category_not_both():
    disease = DiseaseFactory()
    scheme = SchemeFactory()
    _integrity_error(lambda: ReimbursementPolicy.objects.create(
        region=disease.region, disease=disease, category=disease.category, scheme=scheme, ratio=Decimal("0.8")))


@pytest.mark.parametrize("ratio", [Decimal("-0.1"), Decimal("1.5")])
def test_policy_ratio_between_zero_and_one(ratio):
    region = RegionFactory()
    _integrity_error(lambda: ReimbursementPolicy.objects.create(region=region, scheme=SchemeFactory(), ratio=ratio))


def test_category_code_unique_per_region():
    region = RegionFactory()
    CategoryFactory(region=region, code="chronic")
    _integrity_error(lambda: CategoryFactory._meta.model.objects.create(region=region, code="chronic", name="重复"))


def test_institution_name_unique_per_region_and_level_label():
    region = RegionFactory()
    hospital = InstitutionFactory(region=region, name="邵阳县人民医院", level=2, grade="甲")
    assert hospital.level_label == "二级甲"
    _integrity_error(lambda: MedicalInstitution.objects.create(region=region, name="邵阳县人民医院", level=3))


def test_review_deadline_may_be_fractional_but_positive():
    settings = ServiceSettings.objects.get(region=RegionFactory())
    settings.review_deadline_days = Decimal("0.5")
    settings.full_clean()
    settings.review_deadline_days = Decimal("0")
    with pytest.raises(ValidationError):
        settings.full_clean()


def test_illustrative_is_read_from_the_source():
    assert DiseaseFactory(source="illustrative（示例）: demo").is_illustrative
    assert not DiseaseFactory(source="seed 002 (U)").is_illustrative
