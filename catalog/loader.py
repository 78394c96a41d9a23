"""Load the regional catalogs shipped as JSON files in ``catalog/data/`` into the database.

``catalog_load`` is idempotent: every row is looked up by its natural key and written only when a
field differs, so a second run reports nothing created or updated. Two rules protect staff work:

* rows missing from the files are never deleted (an agency may have imported its official list
  through the admin); only a file-managed disease's own criteria and materials are synced, because
  the file is the only place they come from;
* a row that staff marked ``verified`` is never overwritten by an unverified file row: an official
  text beats our seeds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from catalog.models import (
    Disease,
    DiseaseCategory,
    EntryCriterion,
    MedicalInstitution,
    ReimbursementPolicy,
    Region,
    RequiredMaterial,
    Scheme,
    ServiceSettings,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMES_FILE = "schemes.json"


class CatalogDataError(Exception):
    """A data file is malformed or contradicts the model's rules; nothing was written."""


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_verified: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


@dataclass
class LoadReport:
    """What one run did, per region code (plus ``"schemes"`` for the shared schemes)."""

    counts: dict[str, LoadCounts] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.counts.values())


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    model_field = obj._meta.get_field(name)
    if model_field.is_relation:
        return getattr(obj, model_field.attname) != (value.pk if value is not None else None)
    return getattr(obj, name) != value


def _coerce(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """JSON strings to Python values ("0.80" → Decimal), so comparisons and ``__str__`` work."""
    coerced = {}
    for name, value in values.items():
        model_field = model._meta.get_field(name)
        if model_field.is_relation or value is None:
            coerced[name] = value
            continue
        try:
            coerced[name] = model_field.to_python(value)
        except ValidationError as exc:
            raise CatalogDataError(f"{model._meta.model_name}.{name}={value!r}: {exc.messages}") from exc
    return coerced


def _clean(obj: models.Model) -> None:
    # Field validation (choices, ranges, formats) here; uniqueness and CHECK constraints are left
    # to the database, which checks them without a query per row and per constraint.
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise CatalogDataError(f"{obj._meta.model_name} {obj}: {exc.message_dict}") from exc


def _bulk_create(model: type[models.Model], rows: list[models.Model]) -> None:
    if not rows:
        return
    try:
        model.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise CatalogDataError(f"{model._meta.model_name}: {exc}") from exc


def _clean_and_save(obj: models.Model, update_fields: list[str] | None = None) -> None:
    _clean(obj)
    try:
        # No savepoint: a failure aborts the whole load, which runs in one transaction anyway.
        obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise CatalogDataError(f"{obj._meta.model_name} {obj}: {exc}") from exc


def _sync(
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    counts: LoadCounts,
    *,
    existing: models.Model | None,
    pending: list[models.Model] | None = None,
) -> tuple[models.Model, bool]:
    """Create (``existing`` is None) or update one row; returns ``(row, writable)`` where
    ``writable`` is False for a verified row that the file must not touch (nor its children).
    Callers look rows up in bulk, so a run costs a few queries per region, not per row."""
    values = _coerce(model, values)
    obj = existing
    if obj is None:
        obj = model(**lookup, **values)
        if pending is None:
            _clean_and_save(obj)
        else:  # created later in one bulk insert (rows nothing else refers to)
            _clean(obj)
            pending.append(obj)
        counts.created += 1
        return obj, True
    if getattr(obj, "verified", False) and not values.get("verified", False):
        counts.kept_verified += 1
        return obj, False
    changed = [name for name, value in values.items() if _differs(obj, name, value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        _clean_and_save(obj, update_fields=changed)
        counts.updated += 1
    else:
        counts.unchanged += 1
    return obj, True


def _provenance(row: dict) -> dict[str, Any]:
    return {"source": row.get("source", ""), "verified": bool(row.get("verified", False))}


def _load_schemes(data: dict, counts: LoadCounts) -> dict[str, Scheme]:
    schemes = {}
    for row in data["schemes"]:
        values = {"name": row["name"], "fund": row["fund"], "order": row.get("order", 0)}
        existing = Scheme.objects.filter(code=row["code"]).first()
        schemes[row["code"]], _ = _sync(Scheme, {"code": row["code"]}, values, counts, existing=existing)
    return schemes


def _sync_children(disease: Disease, row: dict, material_set: list[dict], counts: LoadCounts, known: dict) -> None:
    criteria = row.get("criteria", [])
    for order, criterion in enumerate(criteria, start=1):
        _sync(EntryCriterion, {"disease": disease, "order": order},
              {"text": criterion["text"], **_provenance(criterion)}, counts,
              existing=known["criteria"].pop((disease.pk, order), None), pending=known["new_criteria"])

    materials = [*material_set, *row.get("extra_materials", [])]
    for order, material in enumerate(materials, start=1):
        values = {
            "name": material["name"],
            "description": material.get("description", ""),
            "issuer_min_level": material.get("issuer_min_level"),
            "recency_months": material.get("recency_months"),
            "required": material.get("required", True),
            "order": order,
            **_provenance(material),
        }
        _sync(RequiredMaterial, {"disease": disease, "code": material["code"]}, values, counts,
              existing=known["materials"].pop((disease.pk, material["code"]), None), pending=known["new_materials"])


def _load_region(data: dict, schemes: dict[str, Scheme], counts: LoadCounts) -> Region:
    r = data["region"]
    region, _ = _sync(
        Region,
        {"code": r["code"]},
        {"province": r["province"], "city": r["city"], "order": r.get("order", 0), **_provenance(r)},
        counts,
        existing=Region.objects.filter(code=r["code"]).first(),
    )

    s = data["settings"]
    settings_values = {
        key: s[key]
        for key in (
            "review_deadline_days", "review_deadline_note", "reviewer_kind", "extension_reviewer_kind",
            "expert_review", "extension_window_days", "hospital_changes_per_year", "channels", "hotlines",
            "declared_disease_count",
        )
        if key in s
    }
    _sync(ServiceSettings, {"region": region}, {**settings_values, **_provenance(s)}, counts,
          existing=ServiceSettings.objects.filter(region=region).first())

    # Everything the region already has, fetched once per table.
    known_categories = {c.code: c for c in DiseaseCategory.objects.filter(region=region)}
    known_diseases = list(Disease.objects.filter(region=region))
    by_code = {d.code: d for d in known_diseases}
    by_name = {d.name: d for d in known_diseases}
    scheme_links: dict[int, set[int]] = {}
    for disease_id, scheme_id in Disease.schemes.through.objects.filter(disease__region=region).values_list(
        "disease_id", "scheme_id"
    ):
        scheme_links.setdefault(disease_id, set()).add(scheme_id)
    known = {
        "criteria": {(c.disease_id, c.order): c for c in EntryCriterion.objects.filter(disease__region=region)},
        "materials": {(m.disease_id, m.code): m for m in RequiredMaterial.objects.filter(disease__region=region)},
        "new_criteria": [],
        "new_materials": [],
    }
    new_scheme_links = []

    categories: dict[str, DiseaseCategory] = {}
    for row in data["categories"]:
        values = {"name": row["name"], "declared_count": row.get("declared_count"),
                  "order": row.get("order", 0), **_provenance(row)}
        categories[row["code"]], _ = _sync(DiseaseCategory, {"region": region, "code": row["code"]}, values, counts,
                                           existing=known_categories.get(row["code"]))

    diseases: dict[str, Disease] = {}
    synced: list[Disease] = []
    material_set = data.get("material_set", [])
    for row in data["diseases"]:
        try:
            category = categories[row["category"]]
            disease_schemes = [schemes[code] for code in row["schemes"]]
        except KeyError as exc:
            raise CatalogDataError(f"{r['code']} disease {row.get('code')}: unknown {exc}") from exc
        values = {
            "category": category,
            "name": row["name"],
            "icd10_hint": row.get("icd10_hint", ""),
            "entry_standard": row.get("entry_standard", ""),
            "min_hospital_level": row.get("min_hospital_level", 2),
            "validity_rule": row.get("validity_rule", "long_term"),
            "validity_months": row.get("validity_months"),
            "rereview_required": row.get("rereview_required", False),
            "cross_province_direct_settlement": row.get("cross_province_direct_settlement", False),
            "order": row.get("order", 0),
            **_provenance(row),
        }
        # An imported official row may carry another code for the same name; match it by name so
        # the file never creates a duplicate the name constraint would reject.
        existing = by_code.get(row["code"]) or by_name.get(row["name"])
        before = counts.created + counts.updated
        disease, writable = _sync(Disease, {"region": region, "code": row["code"]}, values, counts, existing=existing)
        diseases[row["code"]] = disease
        if not writable:
            continue
        synced.append(disease)
        wanted = {s.pk for s in disease_schemes}
        if existing is None:  # just created: its links go in with one bulk insert
            new_scheme_links += [Disease.schemes.through(disease=disease, scheme_id=pk) for pk in sorted(wanted)]
        elif scheme_links.get(disease.pk, set()) != wanted:
            disease.schemes.set(disease_schemes)
            if counts.created + counts.updated == before:  # the row itself was unchanged
                counts.unchanged -= 1
                counts.updated += 1
        _sync_children(disease, row, material_set, counts, known)

    _bulk_create(Disease.schemes.through, new_scheme_links)
    _bulk_create(EntryCriterion, known["new_criteria"])
    _bulk_create(RequiredMaterial, known["new_materials"])

    # What is left in ``known`` belongs to file-managed diseases but is no longer in the file.
    synced_ids = {d.pk for d in synced}
    stale_criteria = [c.pk for c in known["criteria"].values() if c.disease_id in synced_ids]
    stale_materials = [m.pk for m in known["materials"].values() if m.disease_id in synced_ids]
    counts.deleted += EntryCriterion.objects.filter(pk__in=stale_criteria).delete()[0] if stale_criteria else 0
    counts.deleted += RequiredMaterial.objects.filter(pk__in=stale_materials).delete()[0] if stale_materials else 0

    known_policies = {
        (p.disease_id, p.category_id, p.scheme_id): p for p in ReimbursementPolicy.objects.filter(region=region)
    }
    for row in data.get("policies", []):
        try:
            lookup = {
                "region": region,
                "disease": diseases[row["disease"]] if row.get("disease") else None,
                "category": categories[row["category"]] if row.get("category") else None,
                "scheme": schemes[row["scheme"]],
            }
        except KeyError as exc:
            raise CatalogDataError(f"{r['code']} policy: unknown {exc}") from exc
        key = tuple(lookup[k].pk if lookup[k] else None for k in ("disease", "category", "scheme"))
        values = {"deductible": row.get("deductible"), "ratio": row["ratio"],
                  "annual_cap": row.get("annual_cap"), **_provenance(row)}
        _sync(ReimbursementPolicy, lookup, values, counts, existing=known_policies.get(key))

    known_institutions = {i.name: i for i in MedicalInstitution.objects.filter(region=region)}
    for row in data.get("institutions", []):
        values = {key: row.get(key, default) for key, default in
                  (("level", 2), ("grade", ""), ("district", ""), ("designated", False), ("may_review", False))}
        _sync(MedicalInstitution, {"region": region, "name": row["name"]}, {**values, **_provenance(row)}, counts,
              existing=known_institutions.get(row["name"]))
    return region


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogDataError(f"{path.name}: {exc}") from exc


@transaction.atomic
def catalog_load(*, data_dir: Path | None = None) -> LoadReport:
    """Load ``schemes.json`` and every ``<region code>.json`` from ``data_dir`` (default
    ``catalog/data``) in one transaction; a malformed file leaves the database untouched."""
    data_dir = Path(data_dir or DATA_DIR)
    report = LoadReport()
    report.counts["schemes"] = LoadCounts()
    report.labels["schemes"] = "参保类型"
    schemes = _load_schemes(_read(data_dir / SCHEMES_FILE), report.counts["schemes"])
    for path in sorted(data_dir.glob("[0-9][0-9][0-9][0-9][0-9][0-9].json")):
        data = _read(path)
        counts = report.counts.setdefault(path.stem, LoadCounts())
        try:
            region = _load_region(data, schemes, counts)
        except KeyError as exc:
            raise CatalogDataError(f"{path.name}: missing key {exc}") from exc
        report.labels[path.stem] = f"{region.province}{region.city}"
    return report
