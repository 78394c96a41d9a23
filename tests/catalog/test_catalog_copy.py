"""The process's copy of the catalog that citizen pages take region, scheme and disease from
(``catalog.selectors.catalog_rows_attach``) and the required materials they list
(``catalog_materials_for_disease``): it spares the joins and, once warm, the queries, but
never shows another request's state or an edit made in this process."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from catalog import selectors
from catalog.models import RequiredMaterial
from tests.applications.factories import ApplicationFactory, RequiredMaterialFactory, verified_citizen

pytestmark = pytest.mark.django_db


def _fresh(application):
    return Application.objects.get(pk=application.pk)


def test_attached_rows_are_the_catalog_rows_and_a_warm_copy_needs_no_query():
    application = ApplicationFactory()
    selectors.catalog_rows_attach(objects=[_fresh(application)])  # warms the copy
    fresh = _fresh(application)
    with CaptureQueriesContext(connection) as ctx:
        selectors.catalog_rows_attach(objects=[fresh])
        names = (fresh.region.city, fresh.scheme.name, fresh.disease.name)
    assert len(ctx.captured_queries) == 0
    assert names == (application.region.city, application.scheme.name, application.disease.name)


def test_cold_copy_reads_each_model_once_whatever_the_number_of_rows():
    applications = [_fresh(ApplicationFactory()) for _ in range(4)]
    selectors.catalog_copy_forget()
    with CaptureQueriesContext(connection) as ctx:
        selectors.catalog_rows_attach(objects=applications)
    assert len(ctx.captured_queries) == 3  # region, scheme, disease


def test_each_object_gets_its_own_instance():
    application = ApplicationFactory()
    first, second = _fresh(application), _fresh(application)
    selectors.catalog_rows_attach(objects=[first])
    selectors.catalog_rows_attach(objects=[second])
    assert first.disease == second.disease and first.disease is not second.disease
    first.disease.name = "changed by one request only"
    assert second.disease.name == application.disease.name
    # Nor a relation one request read through its copy (Django caches it on the instance).
    assert first.disease.region == application.region
    assert "region" in first.disease._state.fields_cache and "region" not in second.disease._state.fields_cache
    assert second.disease._state.adding is False and second.disease._state.db == "default"


def test_a_save_in_this_process_shows_at_once(client):
    user, me = verified_citizen()
    application = ApplicationFactory(applicant=user, patient=me, in_review=True)
    client.force_login(user)
    url = reverse("applications:list")
    assert application.disease.name in client.get(url).content.decode()
    disease = application.disease
    disease.name = "改名后的病种"
    disease.save(update_fields=["name"])
    assert "改名后的病种" in client.get(url).content.decode()


def test_the_copy_expires(monkeypatch):
    application = ApplicationFactory()
    selectors.catalog_rows_attach(objects=[_fresh(application)])
    # An edit the signal does not see (another process's save, or a bulk update).
    type(application.disease).objects.filter(pk=application.disease_id).update(name="另一进程改的名")
    stale = selectors.catalog_rows_attach(objects=[_fresh(application)])[0]
    assert stale.disease.name == application.disease.name
    later = selectors.time.monotonic() + selectors.CATALOG_COPY_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert selectors.catalog_rows_attach(objects=[_fresh(application)])[0].disease.name == "另一进程改的名"


def test_a_missing_row_is_left_to_the_usual_lazy_read():
    application = ApplicationFactory()
    fresh = _fresh(application)
    fresh.disease_id = 10**9  # a key with no row (only reachable by a broken database)
    selectors.catalog_rows_attach(objects=[fresh], fields=("disease",))
    with pytest.raises(type(application.disease).DoesNotExist):
        fresh.disease


# --- required materials ----------------------------------------------------------------------

def test_materials_come_in_upload_order_and_a_warm_copy_needs_no_query():
    application = ApplicationFactory()
    second = RequiredMaterialFactory(disease=application.disease, code="lab", order=2)
    first = RequiredMaterialFactory(disease=application.disease, code="diagnosis", order=1)
    RequiredMaterialFactory(code="other-disease")
    assert selectors.catalog_materials_for_disease(disease_id=application.disease_id) == (first, second)
    with CaptureQueriesContext(connection) as ctx:
        codes = [m.code for m in selectors.catalog_materials_for_disease(disease_id=application.disease_id)]
    assert (len(ctx.captured_queries), codes) == (0, ["diagnosis", "lab"])


def test_a_material_saved_or_deleted_in_this_process_shows_at_once():
    application = ApplicationFactory()
    material = RequiredMaterialFactory(disease=application.disease, code="diagnosis")
    assert len(selectors.catalog_materials_for_disease(disease_id=application.disease_id)) == 1
    RequiredMaterialFactory(disease=application.disease, code="lab")
    assert len(selectors.catalog_materials_for_disease(disease_id=application.disease_id)) == 2
    material.delete()
    assert [m.code for m in selectors.catalog_materials_for_disease(disease_id=application.disease_id)] == ["lab"]


def test_the_materials_copy_expires(monkeypatch):
    application = ApplicationFactory()
    material = RequiredMaterialFactory(disease=application.disease, name="旧名称")
    selectors.catalog_materials_for_disease(disease_id=application.disease_id)
    type(material).objects.filter(pk=material.pk).update(name="另一进程改的名")  # no signal
    assert selectors.catalog_materials_for_disease(disease_id=application.disease_id)[0].name == "旧名称"
    later = selectors.time.monotonic() + selectors.CATALOG_COPY_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert selectors.catalog_materials_for_disease(disease_id=application.disease_id)[0].name == "另一进程改的名"


# --- a region's service settings ---------------------------------------------------------------

def test_region_settings_come_from_the_copy_and_a_save_in_this_process_shows_at_once():
    application = ApplicationFactory()
    fresh = selectors.catalog_rows_attach(objects=[_fresh(application)], fields=("region",))[0]
    selectors.catalog_settings_attach(regions=[fresh.region])
    assert fresh.region.settings.pk == application.region.settings.pk
    again = selectors.catalog_rows_attach(objects=[_fresh(application)], fields=("region",))[0]
    with CaptureQueriesContext(connection) as ctx:
        selectors.catalog_settings_attach(regions=[again.region])
        days = again.region.settings.reconsideration_days
    assert len(ctx.captured_queries) == 0 and days == application.region.settings.reconsideration_days
    # Each region copy gets its own settings instance; a save here drops the copy.
    assert again.region.settings is not fresh.region.settings
    settings_row = application.region.settings
    settings_row.reconsideration_days = days + 7
    settings_row.save(update_fields=["reconsideration_days"])
    later = selectors.catalog_rows_attach(objects=[_fresh(application)], fields=("region",))[0]
    selectors.catalog_settings_attach(regions=[later.region])
    assert later.region.settings.reconsideration_days == days + 7


# --- the copy's generation (what pages kept for their rows are keyed on) -------------------------

def test_the_generation_changes_when_a_row_in_the_copy_reads_differently(monkeypatch):
    application, other = ApplicationFactory(), ApplicationFactory()  # (saving catalog rows drops the copy)
    RequiredMaterialFactory(disease=application.disease, name="旧名称")
    selectors.catalog_rows_attach(objects=[_fresh(application)])
    selectors.catalog_materials_for_disease(disease_id=application.disease_id)
    start = selectors.catalog_copy_generation()
    # Rows added to the copy change nothing built before them.
    selectors.catalog_rows_attach(objects=[_fresh(other)])
    assert selectors.catalog_copy_generation() == start
    # Due for a refresh, and nothing changed: every row read again, the same number.
    later = [selectors.time.monotonic() + selectors.CATALOG_COPY_SECONDS + 1]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later[0])
    with CaptureQueriesContext(connection) as refresh:
        assert selectors.catalog_copy_generation() == start
    assert len(refresh.captured_queries) == 4  # regions, schemes, diseases, materials: each part once
    assert selectors.catalog_copy_generation() == start  # refreshed: not due again yet
    # Another process renames a disease (no signal here): the next refresh finds it.
    type(application.disease).objects.filter(pk=application.disease_id).update(name="另一进程改的名")
    assert selectors.catalog_copy_generation() == start
    later[0] += selectors.CATALOG_COPY_SECONDS + 1
    renamed = selectors.catalog_copy_generation()
    assert renamed != start
    assert selectors.catalog_rows_attach(objects=[_fresh(application)])[0].disease.name == "另一进程改的名"
    # A material changed, likewise; and a save in this process at once.
    RequiredMaterial.objects.filter(disease=application.disease).update(name="新名称")  # no signal
    later[0] += selectors.CATALOG_COPY_SECONDS + 1
    assert selectors.catalog_copy_generation() not in (start, renamed)
    current = selectors.catalog_copy_generation()
    disease = type(application.disease).objects.get(pk=application.disease_id)
    disease.save(update_fields=["name"])
    assert selectors.catalog_copy_generation() != current
