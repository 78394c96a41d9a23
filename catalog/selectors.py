"""Reads of the regional catalog. Keyword-only, named ``<entity>_<action>``; other apps call these
instead of querying catalog models directly, so keep the names and signatures stable.

Each selector fetches what the catalog pages need in a fixed number of queries, whatever the size
of the catalog (the page tests pin the counts with ``django_assert_num_queries``).
"""
from __future__ import annotations

import itertools
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.base import ModelState

from catalog.models import (
    Disease,
    DiseaseCategory,
    MedicalInstitution,
    ReimbursementPolicy,
    Region,
    Scheme,
)


def region_list(*, province: str | None = None) -> QuerySet[Region]:
    """Regions (optionally of one province) with their settings and the number of diseases
    loaded for each."""
    regions = Region.objects.all()
    if province is not None:
        regions = regions.filter(province=province)
    return (
        regions.select_related("settings")
        .annotate(loaded_count=Count("diseases", distinct=True))
        .order_by("order", "code")
    )


def province_list() -> list[str]:
    """Provinces that have at least one region, in the regions' display order."""
    names = Region.objects.order_by("order", "code").values_list("province", flat=True)
    return list(dict.fromkeys(names))


def region_get(*, code: str) -> Region:
    """One region with its service settings; raises ``Region.DoesNotExist`` for an unknown code."""
    return Region.objects.select_related("settings").get(code=code)


def scheme_list() -> QuerySet[Scheme]:
    return Scheme.objects.order_by("order", "code")


def scheme_get(*, code: str) -> Scheme:
    """Raises ``Scheme.DoesNotExist`` for an unknown code."""
    return Scheme.objects.get(code=code)


def category_list_for_region(*, region: Region) -> QuerySet[DiseaseCategory]:
    """The region's categories, each annotated with ``loaded_count`` (all its loaded diseases,
    independent of any search), so the page can say "已载入 N / 声明 M 种" per category."""
    return (
        DiseaseCategory.objects.filter(region=region)
        .annotate(loaded_count=Count("diseases", distinct=True))
        .order_by("order", "code")
    )


def disease_list_for_region(
    *, region: Region, scheme: Scheme | str | None = None, q: str | None = None
) -> QuerySet[Disease]:
    """The region's diseases, optionally only those open to ``scheme`` (a Scheme or its code)
    and whose name contains ``q``. Category and schemes come along, so listing costs the same
    number of queries for 5 diseases or 500."""
    diseases = Disease.objects.filter(region=region)
    if scheme is not None:
        scheme_code = scheme if isinstance(scheme, str) else scheme.code
        diseases = diseases.filter(schemes__code=scheme_code)
    q = (q or "").strip()
    if q:
        diseases = diseases.filter(Q(name__icontains=q) | Q(code__iexact=q))
    return (
        diseases.select_related("category")
        .prefetch_related(Prefetch("schemes", queryset=Scheme.objects.order_by("order", "code")))
        .order_by("category__order", "category__code", "order", "code")
        .distinct()
    )


@dataclass
class CategoryGroup:
    category: DiseaseCategory  # annotated with ``loaded_count``
    diseases: list[Disease]  # the ones matching the search and scheme filter


@dataclass
class RegionCatalog:
    groups: list[CategoryGroup]
    loaded_count: int  # every disease loaded for the region, whatever the filter
    declared_count: int | None  # what the official catalog declares, when known
    match_count: int


def region_catalog(*, region: Region, scheme: Scheme | str | None = None, q: str | None = None) -> RegionCatalog:
    """The region page in three queries plus the schemes prefetch: every category (also those
    with no match, so their loaded/declared counts still show) with its matching diseases."""
    categories = list(category_list_for_region(region=region))
    by_category: dict[int, list[Disease]] = {c.pk: [] for c in categories}
    diseases = list(disease_list_for_region(region=region, scheme=scheme, q=q))
    for disease in diseases:
        by_category.setdefault(disease.category_id, []).append(disease)
    settings = getattr(region, "settings", None)
    return RegionCatalog(
        groups=[CategoryGroup(category=c, diseases=by_category[c.pk]) for c in categories],
        loaded_count=sum(c.loaded_count for c in categories),
        declared_count=settings.declared_disease_count if settings else None,
        match_count=len(diseases),
    )


def disease_get(*, region: Region, code: str) -> Disease:
    """One disease of the region with what its page shows: category, region settings, schemes,
    criteria and materials. Raises ``Disease.DoesNotExist`` for a code unknown in that region."""
    return (
        Disease.objects.select_related("category", "region", "region__settings")
        .prefetch_related(
            Prefetch("schemes", queryset=Scheme.objects.order_by("order", "code")),
            "criteria",
            "materials",
        )
        .get(region=region, code=code)
    )


def institution_list(
    *,
    region: Region,
    designated: bool | None = None,
    level: int | None = None,
    district: str | None = None,
    may_review: bool | None = None,
) -> QuerySet[MedicalInstitution]:
    """The region's medical institutions, highest level first. ``level`` is an exact level
    (1/2/3); ``None`` leaves a filter off."""
    institutions = MedicalInstitution.objects.filter(region=region)
    if designated is not None:
        institutions = institutions.filter(designated=designated)
    if level is not None:
        institutions = institutions.filter(level=level)
    if district:
        institutions = institutions.filter(district=district)
    if may_review is not None:
        institutions = institutions.filter(may_review=may_review)
    return institutions.order_by("-level", "name")


def institution_get(*, region: Region, pk: int) -> MedicalInstitution:
    """One institution of the region; raises ``MedicalInstitution.DoesNotExist`` for an id of
    another region, so a form can never attach a hospital from elsewhere."""
    return MedicalInstitution.objects.get(region=region, pk=pk)


def _policy_candidates(*, disease: Disease) -> QuerySet[ReimbursementPolicy]:
    # Specificity: a disease's own policy beats its category's, which beats the region-wide one.
    return (
        ReimbursementPolicy.objects.filter(region_id=disease.region_id)
        .filter(
            Q(disease_id=disease.pk)
            | Q(disease__isnull=True, category_id=disease.category_id)
            | Q(disease__isnull=True, category__isnull=True)
        )
        .annotate(
            specificity=Case(
                When(disease_id=disease.pk, then=Value(0)),
                When(category_id=disease.category_id, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .select_related("scheme")
        .order_by("specificity", "pk")
    )


def policy_for(*, disease: Disease, scheme: Scheme | str) -> ReimbursementPolicy | None:
    """The policy that applies to ``disease`` for ``scheme``: the disease's own, else its
    category's, else the region-wide one; ``None`` when no data is loaded (the page then says so
    honestly instead of guessing)."""
    scheme_code = scheme if isinstance(scheme, str) else scheme.code
    return _policy_candidates(disease=disease).filter(scheme__code=scheme_code).first()


def policy_map_for(*, pairs) -> dict[tuple[int, str], ReimbursementPolicy | None]:
    """``policy_for`` for many (disease, scheme) pairs in one query, keyed by (disease id, scheme
    code): a household's certifications page must not cost a query per distinct disease."""
    pairs = [(disease, scheme if isinstance(scheme, str) else scheme.code) for disease, scheme in pairs]
    if not pairs:
        return {}
    candidates: dict[tuple[int, str], list[ReimbursementPolicy]] = {}
    for policy in (
        ReimbursementPolicy.objects.filter(
            region_id__in={d.region_id for d, _ in pairs}, scheme__code__in={code for _, code in pairs}
        )
        .select_related("scheme")
        .order_by("pk")
    ):
        candidates.setdefault((policy.region_id, policy.scheme.code), []).append(policy)
    result: dict[tuple[int, str], ReimbursementPolicy | None] = {}
    for disease, code in pairs:
        ranked = []
        for policy in candidates.get((disease.region_id, code), []):
            # The same specificity as ``_policy_candidates``: own disease, then category, then region.
            if policy.disease_id == disease.pk:
                ranked.append((0, policy.pk, policy))
            elif policy.disease_id is None and policy.category_id is not None and policy.category_id == disease.category_id:
                ranked.append((1, policy.pk, policy))
            elif policy.disease_id is None and policy.category_id is None:
                ranked.append((2, policy.pk, policy))
        result[(disease.pk, code)] = min(ranked, key=lambda r: r[:2])[2] if ranked else None
    return result


def policy_table_for(*, disease: Disease) -> list[tuple[Scheme, ReimbursementPolicy | None]]:
    """For every scheme the disease is open to, the applicable policy (or ``None``), in one query
    on top of the disease's prefetched schemes."""
    best: dict[int, ReimbursementPolicy] = {}
    for policy in _policy_candidates(disease=disease):
        best.setdefault(policy.scheme_id, policy)  # candidates arrive most specific first
    return [(scheme, best.get(scheme.pk)) for scheme in disease.schemes.all()]


# --- catalog rows beside other apps' rows ---------------------------------------------------
# Region, scheme and disease are a few hundred rows that change a few times a year, yet every
# citizen list and case page shows them. Joining them into the case's query cost PostgreSQL more
# time to *plan* than to run (dashboard at a million cases: 2.6-4.5 ms planning with the three
# joins, 0.6 ms without, 0.3 ms executing), so pages take them from this process's copy instead.
# The copy is refreshed every CATALOG_COPY_SECONDS and dropped at once in the process that saves
# or deletes a row (``catalog.signals``); another process shows an edited name within that time.
CATALOG_COPY_SECONDS = 60
_copies: dict[tuple[type, str], tuple[float, dict]] = {}
# The copy's generation (catalog_copy_generation): next() on a count is atomic.
_changes = itertools.count(1)
_generation = next(_changes)


def catalog_copy_forget() -> None:
    """Drop this process's copy (after a catalog save or delete, and between tests)."""
    global _generation
    _copies.clear()
    _generation = next(_changes)


def catalog_copy_generation() -> int:
    """A number that changes whenever a row already in this process's copy of the catalog may
    read differently: a save in this process (``catalog_copy_forget``), or a refresh that found a
    row changed or gone. Rows added to the copy change nothing that was built before them.

    The copy's parts older than ``CATALOG_COPY_SECONDS`` are refreshed here (every row they hold
    read again), so the number follows the database within that time even while nothing else
    asks for the copy. ``portal.page_memo`` keys the pages it keeps for the rows they read on
    this number: such a page never shows a catalog row staler than the copy would."""
    now = time.monotonic()
    for part, (loaded_at, _) in list(_copies.items()):
        if now - loaded_at > CATALOG_COPY_SECONDS:
            _refresh(part, now)
    return _generation


def _part(part: tuple[type, str]) -> dict:
    """One part of the copy (the rows of one model by one key), refreshed first if it is due."""
    now = time.monotonic()
    loaded_at, rows = _copies.get(part, (now, {}))
    if now - loaded_at > CATALOG_COPY_SECONDS:
        rows = _refresh(part, now)
    return rows


def _refresh(part: tuple[type, str], now: float) -> dict:
    global _generation
    _, old = _copies.get(part, (now, {}))
    fresh = _load(part, set(old))
    _copies[part] = (now, fresh)
    if _values(old) != _values(fresh):
        _generation = next(_changes)
    return fresh


def _extend(part: tuple[type, str], rows: dict, keys: set) -> dict:
    """``rows`` of ``part`` with those of ``keys`` read in, kept as loaded at the part's time (rows
    added change no generation: nothing was built from them). A new dict, not an update in place:
    a reader in another thread never sees it half-built."""
    rows = {**rows, **_load(part, keys)}
    _copies[part] = (_copies.get(part, (time.monotonic(), {}))[0], rows)
    return rows


_loading: ContextVar[bool] = ContextVar("catalog_copy_loading", default=False)


def catalog_copy_loading() -> bool:
    """Whether the statement being run reads rows into this process's copy (for
    ``portal.page_memo``, which tells the copy's reads from a page's own)."""
    return _loading.get()


def _load(part: tuple[type, str], keys: set) -> dict:
    from catalog.models import RequiredMaterial

    model, key = part
    if not keys:
        return {}
    token = _loading.set(True)
    try:
        if model is RequiredMaterial:
            by_disease: dict = {disease_id: [] for disease_id in keys}
            for material in RequiredMaterial.objects.filter(disease_id__in=keys).order_by("order", "pk"):
                by_disease[material.disease_id].append(material)
            return {disease_id: tuple(materials) for disease_id, materials in by_disease.items()}
        return model._base_manager.in_bulk(keys, field_name=key)
    finally:
        _loading.reset(token)


def _values(rows: dict) -> dict:
    """The copy's rows as comparable values: each instance's fields (and tuples of them)."""
    def fields(obj):
        if isinstance(obj, tuple):
            return tuple(fields(item) for item in obj)
        return {name: value for name, value in obj.__dict__.items() if not name.startswith("_")}

    return {key: fields(obj) for key, obj in rows.items()}


def _catalog_rows(*, model, pks: set[int], key: str = "pk") -> dict:
    """This process's copy of the ``model`` rows whose ``key`` (the pk, or a unique key such as a
    one-to-one's) is in ``pks``, read from PostgreSQL for the keys it lacks."""
    part = (model, key)
    rows = _part(part)
    missing = pks - rows.keys()
    if missing:
        rows = _extend(part, rows, missing)
    return rows


def catalog_rows_attach(*, objects, fields: tuple[str, ...] = ("region", "scheme", "disease")):
    """Set the catalog foreign keys ``fields`` of ``objects`` (model instances of one model) from
    this process's copy of the catalog, as ``select_related`` would from a join; returns ``objects``.

    Each object gets its own copy of the catalog instance, so nothing one request caches on it
    (a reverse relation, say) is seen by another. A key whose row is gone stays unset (reading it
    then queries and raises ``DoesNotExist`` as usual).
    """
    objects = list(objects)
    if not objects:
        return objects
    meta = objects[0]._meta
    for name in fields:
        field = meta.get_field(name)
        pks = {getattr(obj, field.attname) for obj in objects} - {None}
        rows = _catalog_rows(model=field.related_model, pks=pks) if pks else {}
        for obj in objects:
            row = rows.get(getattr(obj, field.attname))
            if row is not None:
                field.set_cached_value(obj, _private_copy(row))
    return objects


def catalog_settings_attach(*, regions) -> None:
    """Set ``region.settings`` (the region's ServiceSettings) on ``regions`` from this process's
    copy, as ``select_related("region__settings")`` would; for regions a page took from
    ``catalog_rows_attach``, whose copies carry no relation. A region without settings is left
    unset (reading it then queries and raises, as usual)."""
    from catalog.models import Region, ServiceSettings

    regions = [region for region in regions if region is not None]
    rows = _catalog_rows(model=ServiceSettings, pks={region.pk for region in regions}, key="region_id") if regions else {}
    relation = Region._meta.get_field("settings")
    for region in regions:
        row = rows.get(region.pk)
        if row is not None:
            relation.set_cached_value(region, _private_copy(row))


def _private_copy(row):
    """A request's own instance of a catalog row: its field values, with no relation cached.

    ``copy.copy`` goes through pickling's ``__reduce__``/``__getstate__``: 9 µs a row against 1 µs
    here, with three catalog rows per case half a millisecond on a page of 我的申请.
    """
    clone = row.__class__.__new__(row.__class__)
    values = row.__dict__.copy()
    values.pop("_prefetched_objects_cache", None)
    state = ModelState()
    state.db, state.adding = row._state.db, False
    values["_state"] = state
    clone.__dict__ = values
    return clone


def catalog_materials_for_disease(*, disease_id: int) -> tuple:
    """The required materials of a disease in upload order, from this process's copy of the
    catalog (refreshed like the rows above, dropped at once by a save in this process).

    Every case page and upload asks for them (the upload slots), and they change with the
    catalog, a few times a year. The instances are shared by every request of the process:
    read them, never change them.
    """
    from catalog.models import RequiredMaterial

    part = (RequiredMaterial, "disease")
    by_disease = _part(part)
    if disease_id not in by_disease:
        by_disease = _extend(part, by_disease, {disease_id})
    return by_disease[disease_id]
