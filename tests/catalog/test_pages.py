from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.loader import catalog_load
from catalog.models import EntryCriterion, ReimbursementPolicy, RequiredMaterial
from tests.factories import CategoryFactory, DiseaseFactory, InstitutionFactory, RegionFactory, SchemeFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def loaded():
    catalog_load()


def text(response) -> str:
    return response.content.decode()


# --- /catalog/ -----------------------------------------------------------------------------

def test_choose_province_then_city(client, loaded):
    page = text(client.get(reverse("catalog:regions"), **ZH))
    for province in ("湖北省", "湖南省", "贵州省", "河南省"):
        assert province in page
    assert "邵阳市" not in page  # cities come in step 2

    page = text(client.get(reverse("catalog:regions"), {"province": "湖南省"}, **ZH))
    assert "邵阳市" in page and "许昌市" not in page
    assert reverse("catalog:region", args=["430500"]) in page
    assert "已载入 8 / 声明 43 种" in page


def test_unknown_province_falls_back_to_step_one(client, loaded):
    page = text(client.get(reverse("catalog:regions"), {"province": "火星"}, **ZH))
    assert "第一步" in page


def test_region_chooser_in_english(client, loaded):
    page = text(client.get(reverse("catalog:regions"), {"province": "贵州省"}, **EN))
    assert "Disease catalog" in page
    assert "Loaded 11 of 49 declared" in page


# --- /catalog/<region>/ -------------------------------------------------------------------

def test_region_page_groups_by_category_with_counts(client, loaded):
    page = text(client.get(reverse("catalog:region", args=["520200"]), **ZH))
    assert "已载入 11 / 声明 49 种" in page
    assert "已载入 3 / 声明 19 种" in page  # 门诊慢性病
    assert "已载入 5 / 声明 12 种" in page  # 门诊特殊疾病
    assert "已载入 3 / 声明 18 种" in page  # 本地扩展病种
    assert page.index("门诊慢性病") < page.index("风湿性心脏病") < page.index("门诊特殊疾病") < page.index("慢性白血病")


def test_region_without_declared_size_says_so(client, loaded):
    page = text(client.get(reverse("catalog:region", args=["411000"]), **ZH))
    assert "已载入 6 种（官方目录总数未知）" in page


def test_search_by_name(client, loaded):
    page = text(client.get(reverse("catalog:region", args=["430500"]), {"q": "瘫痪"}, **ZH))
    assert '<span class="name">儿童脑性瘫痪</span>' in page
    assert '<span class="name">高血压</span>' not in page
    assert "找到 1 个病种" in page


def test_scheme_filter(client, loaded):
    url = reverse("catalog:region", args=["430500"])
    employee = text(client.get(url, {"scheme": "employee_active"}, **ZH))
    assert "高血压" in employee and "小胖威利综合征" not in employee
    resident = text(client.get(url, {"scheme": "resident"}, **ZH))
    assert "小胖威利综合征" in resident and "仅限城乡居民医保" in resident
    # An unknown scheme is ignored rather than emptying the page.
    assert "小胖威利综合征" in text(client.get(url, {"scheme": "bogus"}, **ZH))


def test_illustrative_and_unverified_entries_are_labelled(client, loaded):
    page = text(client.get(reverse("catalog:region", args=["430500"]), **ZH))
    assert "示例数据" in page and "未核实" in page
    assert "仅为演示而加入" in page  # the explanation
    chronic_lung = page.index("慢性阻塞性肺疾病")
    assert "示例数据" in page[chronic_lung: chronic_lung + 400]


def test_region_page_in_english(client, loaded):
    page = text(client.get(reverse("catalog:region", args=["430500"]), **EN))
    assert "Loaded 8 of 43 declared" in page
    assert "Illustrative" in page and "Unverified" in page
    assert "Search by disease name" in page


def test_unknown_region_is_404(client, loaded):
    assert client.get(reverse("catalog:region", args=["999999"])).status_code == 404
    assert client.get("/catalog/abc/").status_code == 404


# --- /catalog/<region>/<disease>/ ---------------------------------------------------------

def test_disease_page_shows_everything_a_citizen_needs(client, loaded):
    page = text(client.get(reverse("catalog:disease", args=["520200", "EXZL"]), **ZH))
    assert "恶性肿瘤" in page
    assert "经二级及以上定点医疗机构确诊" in page  # criteria checklist
    assert "出院小结或门诊病历" in page and "近 12 个月内" in page  # material recency
    assert "由二级及以上医疗机构出具" in page  # issuer level
    assert "认定后 24 个月" in page and "复审" in page  # validity
    assert "跨省直接结算" in page
    assert "暂无官方数据" in page  # 贵州 has no published ratios
    assert "0.5 个工作日" in page
    assert "贵州医保APP" in page


def test_disease_page_reimbursement_and_hotlines(client, loaded):
    hunan = text(client.get(reverse("catalog:disease", args=["430500", "GXY"]), **ZH))
    for ratio in ("80%", "85%", "70%"):
        assert ratio in hunan
    henan = text(client.get(reverse("catalog:disease", args=["411000", "GXY"]), **ZH))
    assert 'href="tel:03743156600"' in henan and "0371-65751397" in henan
    assert "8 个工作日" in henan and "5–8个工作日" in henan
    hubei = text(client.get(reverse("catalog:disease", args=["429006", "TNB"]), **ZH))
    assert "组织医学专家评审" in hubei


def test_illustrative_disease_page_warns(client, loaded):
    page = text(client.get(reverse("catalog:disease", args=["430500", "MZF"]), **ZH))
    assert "示例数据：此病种为演示而加入" in page


def test_disease_page_in_english(client, loaded):
    page = text(client.get(reverse("catalog:disease", args=["411000", "EXZL"]), **EN))
    assert "Entry standard" in page
    assert "Required materials" in page
    assert "No official data yet" in page
    assert "working days" in page


def test_unknown_disease_is_404_and_codes_are_per_region(client, loaded):
    assert client.get(reverse("catalog:disease", args=["430500", "NOPE"])).status_code == 404
    # 风湿性心脏病 exists only in 六盘水.
    assert client.get(reverse("catalog:disease", args=["520200", "FSXZB"])).status_code == 200
    assert client.get(reverse("catalog:disease", args=["430500", "FSXZB"])).status_code == 404


# --- query counts -------------------------------------------------------------------------

def _region_with(n_diseases: int):
    schemes = [SchemeFactory(code=code, name=code) for code in ("employee_active", "employee_retired", "resident")]
    region = RegionFactory()
    categories = [CategoryFactory(region=region, code=f"c{i}", name=f"类别{i}", declared_count=10) for i in range(3)]
    for i in range(n_diseases):
        DiseaseFactory(region=region, category=categories[i % 3], schemes=schemes[: 1 + i % 3])
    return region


REGION_PAGE_QUERIES = 5  # region+settings, schemes, categories with counts, diseases, their schemes
DISEASE_PAGE_QUERIES = 7  # region, disease, its schemes, criteria, materials, policies, institutions


@pytest.mark.parametrize("n_diseases", [2, 40])
def test_region_page_query_count_is_constant(client, django_assert_num_queries, n_diseases):
    region = _region_with(n_diseases)
    with django_assert_num_queries(REGION_PAGE_QUERIES):
        response = client.get(reverse("catalog:region", args=[region.code]))
    assert text(response).count('class="name"') == n_diseases


@pytest.mark.parametrize("n_rows", [1, 15])
def test_disease_page_query_count_is_constant(client, django_assert_num_queries, n_rows):
    region = _region_with(1)
    disease = region.diseases.get()
    for i in range(n_rows):
        EntryCriterion.objects.create(disease=disease, order=i, text=f"条件{i}")
        RequiredMaterial.objects.create(disease=disease, code=f"m{i}", name=f"材料{i}", issuer_min_level=2, recency_months=12)
        InstitutionFactory(region=region, may_review=True)
    ReimbursementPolicy.objects.create(region=region, scheme=disease.schemes.first(), ratio=Decimal("0.8"))
    with django_assert_num_queries(DISEASE_PAGE_QUERIES):
        response = client.get(reverse("catalog:disease", args=[region.code, disease.code]))
    assert text(response).count("条件") >= n_rows
