"""Staff import of an official disease list: preview, per-row errors with row numbers, all or
nothing, and export; at resource level and through the admin over HTTP."""
import io

import openpyxl
import pytest
import tablib
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats import base_formats

from catalog.admin import DiseaseAdmin
from catalog.models import Disease
from catalog.resources import DiseaseResource
from catalog.services import disease_list_import
from tests.factories import CategoryFactory, DiseaseFactory, RegionFactory, SchemeFactory

pytestmark = pytest.mark.django_db

HEADERS = ["code", "name", "category", "schemes", "validity_rule", "validity_months", "source", "verified"]


@pytest.fixture
def region():
    for order, (code, name) in enumerate(
        [("employee_active", "职工医保（在职）"), ("employee_retired", "职工医保（退休）"), ("resident", "城乡居民医保")]
    ):
        SchemeFactory(code=code, name=name, order=order)
    region = RegionFactory()
    CategoryFactory(region=region, code="chronic", name="门诊慢性病")
    CategoryFactory(region=region, code="special", name="门诊特殊疾病")
    return region


def dataset(*rows, headers=HEADERS) -> tablib.Dataset:
    data = tablib.Dataset(headers=headers)
    for row in rows:
        data.append(row)
    return data


GOOD_ROWS = [
    ("HN001", "高血压", "门诊慢性病", "employee_active|employee_retired|resident", "long_term", "", "湖南省医保局 2026 目录", "1"),
    ("HN002", "儿童脑性瘫痪", "chronic", "城乡居民医保", "long_term", "", "湖南省医保局 2026 目录", "1"),
    ("HN003", "恶性肿瘤门诊放化疗", "门诊特殊疾病", "employee_active、resident", "months", "24", "湖南省医保局 2026 目录", "1"),
]

BAD_ROWS = [
    GOOD_ROWS[0],
    ("HN002", "儿童脑性瘫痪", "不存在的类别", "resident", "long_term", "", "官方", "1"),  # row 2: unknown category
    ("HN003", "恶性肿瘤门诊放化疗", "门诊特殊疾病", "resident", "months", "", "官方", "1"),  # row 3: months without months
    ("HN004", "癫痫", "门诊慢性病", "military", "long_term", "", "官方", "1"),  # row 4: unknown scheme
]


# --- resource level -----------------------------------------------------------------------

def test_good_file_imports_every_row(region):
    result = disease_list_import(region=region, dataset=dataset(*GOOD_ROWS))
    assert not result.has_errors() and not result.has_validation_errors()
    assert Disease.objects.filter(region=region, verified=True).count() == 3
    child = Disease.objects.get(region=region, code="HN002")
    assert [s.code for s in child.schemes.all()] == ["resident"]
    assert Disease.objects.get(region=region, code="HN003").validity_months == 24


def test_dry_run_writes_nothing(region):
    result = disease_list_import(region=region, dataset=dataset(*GOOD_ROWS), dry_run=True)
    assert result.totals["new"] == 3
    assert not Disease.objects.exists()


def test_bad_rows_are_reported_with_row_numbers_and_nothing_is_written(region):
    result = disease_list_import(region=region, dataset=dataset(*BAD_ROWS))
    assert result.has_validation_errors()
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(errors) == {2, 3, 4}
    assert "不存在的类别" in str(errors[2]["category"])
    assert "validity_months" in errors[3] or "__all__" in errors[3]
    assert "military" in str(errors[4]["schemes"])
    # Row 1 was valid, but the file is all or nothing.
    assert not Disease.objects.exists()


def test_rows_of_another_region_are_rejected(region):
    other = RegionFactory(code="411000", province="河南省", city="许昌市")
    data = dataset(("HN001", "高血压", "门诊慢性病", "resident", "long_term", "", "官方", "1", "411000"),
                   headers=[*HEADERS, "region"])
    result = disease_list_import(region=region, dataset=data)
    assert result.has_validation_errors()
    assert "411000" in str(result.invalid_rows[0].error_dict)
    assert not Disease.objects.filter(region=other).exists() and not Disease.objects.exists()


def test_import_updates_by_code_within_the_region_only(region):
    existing = DiseaseFactory(region=region, code="HN001", name="旧名称", category=region.categories.get(code="chronic"))
    other_region = RegionFactory(code="520200", province="贵州省", city="六盘水市")
    untouched = DiseaseFactory(region=other_region, code="HN001", name="别处的病种")
    result = disease_list_import(region=region, dataset=dataset(GOOD_ROWS[0]))
    assert result.totals["update"] == 1
    existing.refresh_from_db()
    untouched.refresh_from_db()
    assert (existing.name, existing.verified) == ("高血压", True)
    assert untouched.name == "别处的病种"


def test_blank_source_records_the_file(region):
    row = ("HN009", "癫痫", "门诊慢性病", "resident", "long_term", "", "", "0")
    disease_list_import(region=region, dataset=dataset(row), file_name="hunan-2026.xlsx")
    assert "hunan-2026.xlsx" in Disease.objects.get(code="HN009").source


def test_export_round_trips(region):
    disease_list_import(region=region, dataset=dataset(*GOOD_ROWS))
    exported = DiseaseResource(region=region).export()
    assert exported.headers[:5] == ["region", "code", "name", "category", "schemes"]
    rows = {row[1]: row for row in exported}
    assert rows["HN002"][0] == "430500"
    assert rows["HN002"][3] == "门诊慢性病"
    assert rows["HN001"][4] == "employee_active|employee_retired|resident"
    # Re-importing the export changes nothing.
    result = disease_list_import(region=region, dataset=exported)
    assert result.totals["skip"] == 3 and not result.has_validation_errors()


# --- through the admin over HTTP ----------------------------------------------------------

@pytest.fixture
def admin_client(admin_client):
    """A superuser whose session passed the staff second factor (reviews' staff security
    middleware logs out or redirects staff sessions that did not)."""
    session = admin_client.session
    session["reviews.staff_mfa_verified"] = True
    session.save()
    return admin_client


def _format_index(fmt) -> str:
    formats = DiseaseAdmin(Disease, admin.site).get_import_formats()
    return str(formats.index(fmt))


def _csv(rows) -> bytes:
    data = dataset(*rows)
    return data.export("csv").encode("utf-8")


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_admin_import_with_bad_rows_shows_row_errors_and_writes_nothing(admin_client, region):
    response = admin_client.post(
        reverse("admin:catalog_disease_import"),
        {
            "region": region.pk,
            "format": _format_index(base_formats.CSV),
            "resource": "0",
            "import_file": SimpleUploadedFile("official.csv", _csv(BAD_ROWS), content_type="text/csv"),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [2, 3, 4]
    assert "不存在的类别" in page and "military" in page
    for number in (2, 3, 4):  # the row numbers are on the page, next to each row's errors
        assert f"<td>{number} </td>" in page
    assert not Disease.objects.exists()


def test_admin_import_preview_then_confirm(admin_client, region):
    response = admin_client.post(
        reverse("admin:catalog_disease_import"),
        {
            "region": region.pk,
            "format": _format_index(base_formats.XLSX),
            "resource": "0",
            "import_file": SimpleUploadedFile("official.xlsx", _xlsx(GOOD_ROWS)),
        },
    )
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    assert confirm is not None
    assert not Disease.objects.exists()  # the preview is a dry run
    assert "高血压" in response.content.decode()

    response = admin_client.post(reverse("admin:catalog_disease_process_import"), confirm.initial)
    assert response.status_code == 302
    assert Disease.objects.filter(region=region).count() == 3


def test_admin_confirm_rolls_back_if_a_row_became_invalid(admin_client, region):
    """Between preview and confirm someone deletes a category: the confirm must write nothing."""
    response = admin_client.post(
        reverse("admin:catalog_disease_import"),
        {
            "region": region.pk,
            "format": _format_index(base_formats.CSV),
            "resource": "0",
            "import_file": SimpleUploadedFile("official.csv", _csv(GOOD_ROWS), content_type="text/csv"),
        },
    )
    confirm = response.context["confirm_form"]
    region.categories.get(code="special").delete()
    response = admin_client.post(reverse("admin:catalog_disease_process_import"), confirm.initial, follow=True)
    assert "未写入任何数据" in response.content.decode()
    assert not Disease.objects.exists()


def test_admin_export_downloads_the_list(admin_client, region):
    DiseaseFactory(region=region, code="X1", name="高血压", category=region.categories.get(code="chronic"))
    formats = DiseaseAdmin(Disease, admin.site).get_export_formats()
    data = {"format": str(formats.index(base_formats.CSV)), "resource": "0"}
    data.update({f"diseaseresource_{name}": "on" for name in DiseaseResource._meta.fields})
    response = admin_client.post(reverse("admin:catalog_disease_export"), data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("region,code,name,category,schemes")
    assert "430500,X1,高血压,门诊慢性病" in body


def test_admin_export_and_changelists(admin_client, region):
    DiseaseFactory(region=region, code="X1", name="高血压")
    assert admin_client.get(reverse("admin:catalog_disease_export")).status_code == 200
    assert admin_client.get(reverse("admin:catalog_disease_import")).status_code == 200
    for name in ("region", "servicesettings", "scheme", "diseasecategory", "disease", "entrycriterion",
                 "requiredmaterial", "reimbursementpolicy", "medicalinstitution"):
        assert admin_client.get(reverse(f"admin:catalog_{name}_changelist")).status_code == 200, name
    disease = Disease.objects.get(code="X1")
    assert admin_client.get(reverse("admin:catalog_disease_change", args=[disease.pk])).status_code == 200
