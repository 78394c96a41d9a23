"""Counter-assisted filing (窗口代录): staff at an agency window or a hospital enter the
application of a walk-in citizen, scan the papers and submit, in one step.

The case is an ordinary application afterwards: same acceptance-number sequence, same review
clock, same timeline and the same SMS to the citizen. What differs is recorded on it:
``entry_channel=counter`` and ``entered_by`` (who sat at the window).

The citizen needs no account of their own beforehand: the case is attached to the account of
their mobile number, created without a password when new, so they can sign in by SMS code
later and follow the case. Staff have checked the physical ID card, so no online face check.

``applications.services.application_submit`` only submits a citizen's own wizard draft (it
checks that the submitting user is the applicant and their online identity), so this service
mirrors its steps with the applications area's own building blocks (``review_due_at``, the
acceptance-number counter, ``upload_inspect``), as the certifications area does for follow-ups.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    EntryChannel,
    EventKind,
    UploadedMaterial,
)
from applications.uploads import upload_inspect
from catalog.models import Disease, MedicalInstitution, Scheme
from reviews.selectors import region_ids_for_staff

logger = logging.getLogger(__name__)


def _citizen_account_for_phone(phone: str):
    from portal.phone_numbers import phone_normalize

    number = phone_normalize(phone)
    if not number:
        raise ValidationError({"phone": _("请输入正确的手机号码。")})
    User = get_user_model()
    account = User.objects.filter(phone=number).first()
    if account is None:
        account = User(username=f"m{number}", phone=number, phone_verified=False)
        account.set_unusable_password()  # signs in by SMS code to the same number
        account.save()
    elif account.is_staff:
        raise ValidationError({"phone": _("该手机号属于工作人员账户，请使用申请人本人的手机号。")})
    return account


def _store_material(*, application: Application, staff, slot: str, file) -> UploadedMaterial:
    from applications.services import material_store

    inspected = upload_inspect(file)  # UploadRejected names the file and the reason
    return material_store(application=application, uploaded_by=staff, slot=slot, file=file, inspected=inspected)


@transaction.atomic
def counter_application_file(
    *,
    staff,
    full_name: str,
    id_number: str,
    phone: str,
    scheme: Scheme,
    disease: Disease,
    diagnosis: str,
    diagnosing_institution: MedicalInstitution,
    diagnosis_date: dt.date,
    designated_institution: MedicalInstitution | None,
    files: Mapping[str, Sequence],
) -> Application:
    """File and submit a walk-in citizen's application; returns the submitted case."""
    from applications.services import application_submit_for_walk_in
    from portal.services import person_get_or_create

    if not staff.has_perm("reviews.counter_file"):
        raise PermissionDenied(_("您没有窗口代录的权限。"))
    region = disease.region
    scope = region_ids_for_staff(user=staff)
    if scope is not None and region.pk not in scope:
        raise PermissionDenied(_("您不能代录该地区的申请。"))
    errors = {}
    if not disease.schemes.filter(pk=scheme.pk).exists():
        errors["disease"] = _("所选病种不适用于该参保类型。")
    if diagnosing_institution.region_id != region.pk:
        errors["diagnosing_institution"] = _("请选择参保地区内的医疗机构。")
    if designated_institution is not None and (
        designated_institution.region_id != region.pk or not designated_institution.designated
    ):
        errors["designated_institution"] = _("请选择本地区的门特定点医疗机构。")
    if diagnosis_date > timezone.localdate():
        errors["diagnosis_date"] = _("诊断日期不能晚于今天。")
    missing = [m.name for m in disease.materials.all() if m.required and not files.get(m.code)]
    if missing:
        errors["__all__"] = [_("缺少材料：%(name)s") % {"name": name} for name in missing]
    if errors:
        raise ValidationError(errors)

    person = person_get_or_create(full_name=full_name.strip(), id_number=id_number, region=region, scheme=scheme)
    applicant = _citizen_account_for_phone(phone)
    application = Application(
        applicant=applicant,
        patient=person,
        region=region,
        scheme=scheme,
        disease=disease,
        diagnosis=diagnosis.strip(),
        diagnosing_institution=diagnosing_institution,
        diagnosis_date=diagnosis_date,
        designated_institution=designated_institution,
        entry_channel=EntryChannel.COUNTER,
        entered_by=staff,
        wizard_step=5,
    )
    application.save()
    ApplicationEvent.objects.create(
        application=application, kind=EventKind.CREATED, actor=staff, to_status=ApplicationStatus.DRAFT,
        data={"entry_channel": EntryChannel.COUNTER}, visible_to_citizen=False,
    )
    for slot, slot_files in files.items():
        for file in slot_files:
            _store_material(application=application, staff=staff, slot=slot, file=file)

    return application_submit_for_walk_in(application=application, staff=staff)
