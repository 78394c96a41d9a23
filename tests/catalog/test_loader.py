import json
import shutil
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog import selectors
from catalog.loader import DATA_DIR, CatalogDataError, catalog_load
from catalog.models import (
    Disease,
    DiseaseCategory,
    EntryCriterion,
    MedicalInstitution,
    ReimbursementPolicy,
    Region,
    RequiredMaterial,
    ReviewerKind,
    ServiceSettings,
)

pytestmark = pytest.mark.django_db

NATIONAL_FIVE = {"高血压", "糖尿病", "恶性肿瘤门诊放化疗", "尿毒症透析", "器官移植术后抗排异治疗"}


@pytest.fixture
def loaded():
    return catalog_load()


def test_first_run_creates_every_region(loaded):
    assert set(Region.objects.values_list("code", flat=True)) == {"429006", "430500", "520200", "411000"}
    for code in ("429006", "430500", "520200", "411000"):
        counts = loaded.counts[code]
        assert counts.created > 0 and counts.updated == 0 and counts.unchanged == 0
    assert loaded.changed


def test_second_run_changes_nothing_and_says_so(loaded):
    snapshot = list(Disease.objects.order_by("pk").values())
    out = StringIO()
    call_command("load_catalog", stdout=out)
    assert "Nothing changed" in out.getvalue()
    assert "430500 湖南省邵阳市: created 0, updated 0" in out.getvalue()
    assert list(Disease.objects.order_by("pk").values()) == snapshot


def test_command_reports_counts_per_region():
    out = StringIO()
    call_command("load_catalog", stdout=out)
    text = out.getvalue()
    for label in ("429006 湖北省天门市", "430500 湖南省邵阳市", "520200 贵州省六盘水市", "411000 河南省许昌市"):
        assert f"{label}: created " in text
    assert "Catalog loaded." in text


def test_an_edited_row_is_restored_and_counted_as_updated(loaded):
    Disease.objects.filter(region__code="430500", code="GXY").update(name="被改动的名字")
    report = catalog_load()
    assert report.counts["430500"].updated == 1
    assert Disease.objects.get(region__code="430500", code="GXY").name == "高血压"


def test_extra_criteria_are_removed_and_schemes_resynced(loaded):
    disease = Disease.objects.get(region__code="430500", code="XPWL")
    disease.schemes.add(*selectors.scheme_list())
    EntryCriterion.objects.create(disease=disease, order=99, text="多余")
    report = catalog_load()
    assert report.counts["430500"].deleted == 1
    assert [s.code for s in disease.schemes.all()] == ["resident"]


def test_verified_rows_are_never_overwritten(loaded):
    """An agency that confirmed a row against its official text keeps it, whatever the file says."""
    Disease.objects.filter(region__code="411000", code="GXY").update(name="高血压（官方名称）", verified=True, source="许昌医保局 2026 目录")
    report = catalog_load()
    assert report.counts["411000"].kept_verified == 1
    kept = Disease.objects.get(region__code="411000", code="GXY")
    assert (kept.name, kept.verified) == ("高血压（官方名称）", True)


def test_rows_removed_from_files_are_not_deleted(loaded):
    # Staff may import official diseases the files do not know about.
    region = Region.objects.get(code="411000")
    extra = Disease.objects.create(region=region, category=region.categories.first(), code="OFF1", name="官方新增病种",
                                   source="官方目录", verified=True)
    catalog_load()
    assert Disease.objects.filter(pk=extra.pk).exists()


@pytest.mark.parametrize(
    "model",
    [Region, ServiceSettings, DiseaseCategory, Disease, EntryCriterion, RequiredMaterial, ReimbursementPolicy, MedicalInstitution],
)
def test_every_row_carries_provenance_and_none_claims_verification(loaded, model):
    rows = list(model.objects.all())
    assert rows, model
    assert all(row.source.strip() for row in rows), model
    # Nothing shipped here was checked against an official text.
    assert not any(row.verified for row in rows), model


def test_illustrative_diseases_are_few_and_labelled(loaded):
    illustrative = Disease.objects.filter(source__startswith="illustrative")
    assert 0 < illustrative.count() <= 4
    assert not illustrative.filter(name__in=NATIONAL_FIVE).exists()


def test_national_five_flagged_for_cross_province_settlement(loaded):
    for code in ("429006", "430500", "411000"):
        names = set(Disease.objects.filter(region__code=code, cross_province_direct_settlement=True).values_list("name", flat=True))
        assert names == NATIONAL_FIVE, code
    assert Disease.objects.filter(region__code="520200", cross_province_direct_settlement=True).count() == 5


def test_hunan_seed_facts(loaded):
    region = Region.objects.get(code="430500")
    assert region.settings.declared_disease_count == 43
    assert region.settings.reviewer_kind == ReviewerKind.HOSPITALS
    assert region.settings.extension_reviewer_kind == ReviewerKind.AGENCY
    assert region.settings.extension_window_days == 30
    resident_only = region.categories.get(code="resident_only")
    assert resident_only.declared_count == 4
    for name in ("儿童脑性瘫痪", "小胖威利综合征"):
        disease = Disease.objects.get(region=region, name=name)
        assert [s.code for s in disease.schemes.all()] == ["resident"]
        assert disease.category == resident_only
    hypertension = Disease.objects.get(region=region, name="高血压")
    ratios = {s.code: p.ratio for s, p in selectors.policy_table_for(disease=hypertension)}
    assert ratios == {"employee_active": Decimal("0.8"), "employee_retired": Decimal("0.85"), "resident": Decimal("0.7")}
    assert MedicalInstitution.objects.get(region=region, name="邵阳县人民医院").may_review


def test_guizhou_seed_facts(loaded):
    region = Region.objects.get(code="520200")
    assert region.settings.declared_disease_count == 49
    assert region.settings.review_deadline_days == Decimal("0.5")
    assert region.settings.hospital_changes_per_year == 1
    assert region.settings.reviewer_kind == ReviewerKind.HOSPITALS
    declared = {c.name: c.declared_count for c in region.categories.all()}
    assert declared == {"门诊慢性病": 19, "门诊特殊疾病": 12, "本地扩展病种": 18}
    assert sum(declared.values()) == 49
    by_category = {c.name: set(c.diseases.values_list("name", flat=True)) for c in region.categories.all()}
    assert {"风湿性心脏病"} <= by_category["门诊慢性病"]
    assert {"慢性白血病", "再生障碍性贫血", "器官移植术后抗排异治疗"} <= by_category["门诊特殊疾病"]
    assert {"支气管哮喘", "癫痫"} <= by_category["本地扩展病种"]
    assert not Disease.objects.filter(region=region, source__startswith="illustrative").exists()
    level_two_plus = MedicalInstitution.objects.filter(region=region, level__gte=2)
    assert level_two_plus.exists() and all(i.may_review for i in level_two_plus)


def test_henan_seed_facts(loaded):
    settings = ServiceSettings.objects.get(region__code="411000")
    assert settings.review_deadline_days == Decimal("8")
    assert settings.review_deadline_note == "5–8个工作日"
    assert [h["number"] for h in settings.hotlines] == ["0374-3156600", "0374-3156633", "0371-65751397"]
    assert settings.reviewer_kind == ReviewerKind.AGENCY
    categories = DiseaseCategory.objects.filter(region__code="411000")
    assert {c.name for c in categories} == {"门诊慢性病", "门诊重特大疾病"}
    assert all("unconfirmed" in c.source for c in categories)


def test_hubei_seed_facts(loaded):
    settings = ServiceSettings.objects.get(region__code="429006")
    assert settings.expert_review is True
    assert settings.reviewer_kind == ReviewerKind.AGENCY
    assert "一个月" in settings.review_deadline_note
    assert {c["name"] for c in settings.channels} >= {"鄂汇办APP", "湖北政务服务网"}
    assert {c.name for c in DiseaseCategory.objects.filter(region__code="429006")} == {"重大慢性病", "普通慢性病"}


def test_cancer_is_time_limited_with_rereview_and_materials_carry_level_and_recency(loaded):
    cancer = Disease.objects.get(region__code="520200", code="EXZL")
    assert (cancer.validity_rule, cancer.validity_months, cancer.rereview_required) == ("months", 24, True)
    records = cancer.materials.get(code="records")
    assert records.recency_months == 12  # seed 002: 近一年内
    assert cancer.materials.get(code="diagnosis").issuer_min_level == 2
    assert cancer.materials.get(code="pathology").is_illustrative


def test_malformed_file_writes_nothing(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path / "data")
    path = tmp_path / "data" / "520200.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["diseases"][0]["category"] = "no-such-category"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogDataError, match="no-such-category"):
        catalog_load(data_dir=tmp_path / "data")
    assert not Region.objects.exists()
    with pytest.raises(CommandError, match="nothing written"):
        call_command("load_catalog", data_dir=tmp_path / "data", stdout=StringIO())


def test_invalid_value_is_reported_not_saved(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path / "data")
    path = tmp_path / "data" / "430500.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["policies"][0]["ratio"] = "1.5"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogDataError, match="ratio"):
        catalog_load(data_dir=tmp_path / "data")
    assert not ReimbursementPolicy.objects.exists()


def test_a_database_constraint_violation_is_reported_and_nothing_saved(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path / "data")
    path = tmp_path / "data" / "411000.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["diseases"][0].update(validity_rule="months", validity_months=None)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogDataError, match="disease_months_rule_has_months"):
        catalog_load(data_dir=tmp_path / "data")
    assert not Disease.objects.exists()
