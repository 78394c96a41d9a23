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
from django.db import models, transaction

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


def _clean_and_save(obj: models.Model, update_fields: list[str] | None = None) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise CatalogDataError(f"{obj._meta.model_name} {obj}: {exc.message_dict}") from exc
    obj.save(update_fields=update_fields)


def _sync(
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    counts: LoadCounts,
    *,
    existing: models.Model | None = None,
) -> tuple[models.Model, bool]:
    """Create or update one row; returns ``(row, writable)`` where ``writable`` is False for a
    verified row that the file must not touch (nor its children)."""
    values = _coerce(model, values)
    obj = existing if existing is not None else model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        _clean_and_save(obj)
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
        schemes[row["code"]], _ = _sync(Scheme, {"code": row["code"]}, values, counts)
    return schemes


def _sync_children(disease: Disease, row: dict, material_set: list[dict], counts: LoadCounts) -> None:
    criteria = row.get("criteria", [])
    for order, criterion in enumerate(criteria, start=1):
        _sync(EntryCriterion, {"disease": disease, "order": order},
              {"text": criterion["text"], **_provenance(criterion)}, counts)
    stale = EntryCriterion.objects.filter(disease=disease, order__gt=len(criteria))
    counts.deleted += stale.delete()[0]

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
        _sync(RequiredMaterial, {"disease": disease, "code": material["code"]}, values, counts)
    stale = RequiredMaterial.objects.filter(disease=disease).exclude(code__in=[m["code"] for m in materials])
    counts.deleted += stale.delete()[0]


def _load_region(data: dict, schemes: dict[str, Scheme], counts: LoadCounts) -> Region:
    r = data["region"]
    region, _ = _sync(
        Region,
        {"code": r["code"]},
        {"province": r["province"], "city": r["city"], "order": r.get("order", 0), **_provenance(r)},
        counts,
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
    _sync(ServiceSettings, {"region": region}, {**settings_values, **_provenance(s)}, counts)

    categories: dict[str, DiseaseCategory] = {}
    for row in data["categories"]:
        values = {"name": row["name"], "declared_count": row.get("declared_count"),
                  "order": row.get("order", 0), **_provenance(row)}
        categories[row["code"]], _ = _sync(DiseaseCategory, {"region": region, "code": row["code"]}, values, counts)

    diseases: dict[str, Disease] = {}
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
        existing = (
            Disease.objects.filter(region=region, code=row["code"]).first()
            or Disease.objects.filter(region=region, name=row["name"]).first()
        )
        before = counts.created + counts.updated
        disease, writable = _sync(Disease, {"region": region, "code": row["code"]}, values, counts, existing=existing)
        diseases[row["code"]] = disease
        if not writable:
            continue
        wanted = {s.pk for s in disease_schemes}
        if set(disease.schemes.values_list("pk", flat=True)) != wanted:
            disease.schemes.set(disease_schemes)
            if counts.created + counts.updated == before:  # the row itself was unchanged
                counts.unchanged -= 1
                counts.updated += 1
        _sync_children(disease, row, material_set, counts)

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
        values = {"deductible": row.get("deductible"), "ratio": row["ratio"],
                  "annual_cap": row.get("annual_cap"), **_provenance(row)}
        _sync(ReimbursementPolicy, lookup, values, counts)

    for row in data.get("institutions", []):
        values = {key: row.get(key, default) for key, default in
                  (("level", 2), ("grade", ""), ("district", ""), ("designated", False), ("may_review", False))}
        _sync(MedicalInstitution, {"region": region, "name": row["name"]}, {**values, **_provenance(row)}, counts)
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
