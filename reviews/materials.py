"""Reviewer verdicts on uploaded documents (the applications app owns ``UploadedMaterial``)."""
from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, MaterialVerdict, UploadedMaterial


def material_list_current(*, application: Application) -> QuerySet[UploadedMaterial]:
    """The files a reviewer judges: everything not replaced by a later upload."""
    return UploadedMaterial.objects.filter(application=application, superseded_at__isnull=True).order_by(
        "slot", "created_at", "pk"
    )


def material_verdicts_apply(
    *, application: Application, verdicts: Mapping[int, str], user, notes: Mapping[int, str] | None = None
) -> list[dict]:
    """Record the verdicts (inside the caller's transaction) and return the flagged documents.

    Called by the decision services only, after they locked the case.
    """
    notes = notes or {}
    materials = {m.pk: m for m in material_list_current(application=application)}
    now = timezone.now()
    slot_names = dict(application.disease.materials.values_list("code", "name")) if application.disease_id else {}
    flagged = []
    for material_id, verdict in verdicts.items():
        material = materials.get(int(material_id))
        if material is None:
            raise ValidationError(_("材料 %(id)s 不属于该申请。") % {"id": material_id}, code="unknown_material")
        if verdict not in MaterialVerdict.values or verdict == MaterialVerdict.PENDING:
            raise ValidationError(_("请为每份材料选择审核结论。"), code="verdict_required")
        material.verdict = verdict
        material.verdict_note = (notes.get(material_id) or notes.get(str(material_id)) or "").strip()[:300]
        material.verdict_by = user
        material.verdict_at = now
        material.flagged_for_supplement = verdict != MaterialVerdict.ACCEPTED
        material.save(update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at", "flagged_for_supplement"])
        if material.flagged_for_supplement:
            label = str(MaterialVerdict(verdict).label)
            slot_name = slot_names.get(material.slot)
            shown = f"{slot_name}（{material.original_name}）" if slot_name else material.original_name
            text = f"{shown}：{label}"
            if material.verdict_note:
                text += f"，{material.verdict_note}"
            flagged.append(
                {
                    "material": material.pk,
                    "slot": material.slot,
                    "text": text,
                    "verdict": verdict,
                    "note": material.verdict_note,
                }
            )
    return flagged
