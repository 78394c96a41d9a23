"""Writes of the applications app: the citizen's draft, uploads, and the citizen-side transitions.

One service per transition (submit, resubmit, withdraw): lock the row, check the move against
``lifecycle.TRANSITIONS``, ``full_clean``, ``save(update_fields=…)``, write an ``ApplicationEvent``,
defer side effects with ``transaction.on_commit``. Staff transitions live in ``reviews.services``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications import selectors
from applications.consent import CONSENT_TEXTS
from applications.lifecycle import WITHDRAWABLE, check_transition
from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    EntryChannel,
    EventKind,
    Person,
    UploadedMaterial,
)
from applications.uploads import InspectedUpload, upload_inspect
from catalog.models import Disease, MedicalInstitution, Region, Scheme
from notifications.services import notification_create

logger = logging.getLogger(__name__)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # China has no DST: a fixed offset is exact.


class ApplicationError(ValidationError):
    """A request the rules refuse; the message is for the citizen."""


def upload_max_files() -> int:
    return int(getattr(settings, "UPLOAD_MAX_FILES_PER_APPLICATION", 20))


def _lock_draft(*, application: Application) -> Application:
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status != ApplicationStatus.DRAFT:
        raise ApplicationError(_("该申请已提交，不能再修改。"), code="not_draft")
    return locked


# --- the draft -------------------------------------------------------------------------------

@transaction.atomic
def application_create_draft(*, user, patient: Person) -> Application:
    """Start a draft for a person the account may act for; region and scheme default from the
    patient's insurance record."""
    if not selectors.patient_list_for_account(user=user).filter(pk=patient.pk).exists():
        raise ApplicationError(_("只能为本人或已添加的家庭成员申请。"), code="not_household")
    application = Application(
        applicant=user, patient=patient, region_id=patient.region_id, scheme_id=patient.scheme_id, wizard_step=2
    )
    application.full_clean()
    application.save()
    ApplicationEvent.objects.create(
        application=application, kind=EventKind.CREATED, actor=user, to_status=application.status
    )
    return application


@transaction.atomic
def application_set_patient(*, application: Application, user, patient: Person) -> Application:
    """Change who the draft is for. The disease choice and its materials depend on the patient's
    insurance, so they are cleared when the patient changes."""
    locked = _lock_draft(application=application)
    if not selectors.patient_list_for_account(user=user).filter(pk=patient.pk).exists():
        raise ApplicationError(_("只能为本人或已添加的家庭成员申请。"), code="not_household")
    if locked.patient_id == patient.pk:
        return locked
    locked.patient = patient
    locked.region_id = patient.region_id
    locked.scheme_id = patient.scheme_id
    locked.disease = None
    locked.self_check = {}
    locked.full_clean()
    locked.save(update_fields=["patient", "region", "scheme", "disease", "self_check", "updated_at"])
    return locked


@transaction.atomic
def application_set_disease(
    *, application: Application, region: Region, scheme: Scheme, disease: Disease, self_check: dict[str, bool]
) -> Application:
    """Step 2. The self-check answers are kept for the reviewer; they never refuse the application."""
    locked = _lock_draft(application=application)
    if disease.region_id != region.pk or not disease.schemes.filter(pk=scheme.pk).exists():
        raise ApplicationError(_("所选病种不适用于该地区或参保类型。"), code="disease_not_open")
    criteria = {str(c.pk): c.text for c in disease.criteria.all()}
    if locked.region_id != region.pk:
        # Hospitals are chosen from the region's catalog: a choice from another region is void.
        locked.diagnosing_institution = None
        locked.designated_institution = None
    locked.region = region
    locked.scheme = scheme
    locked.disease = disease
    locked.self_check = {
        key: {"text": text, "answer": bool(self_check.get(key))} for key, text in criteria.items()
    }
    locked.wizard_step = max(locked.wizard_step, 3)
    locked.full_clean()
    locked.save(
        update_fields=[
            "region", "scheme", "disease", "self_check", "diagnosing_institution", "designated_institution",
            "wizard_step", "updated_at",
        ]
    )
    return locked


@transaction.atomic
def application_set_disease_info(
    *,
    application: Application,
    diagnosis: str,
    diagnosing_institution: MedicalInstitution,
    diagnosis_date: dt.date,
    designated_institution: MedicalInstitution | None,
) -> Application:
    """Step 3. A diagnosing hospital below the disease's minimum level is allowed (the page warns):
    the reviewer decides whether other evidence makes up for it."""
    locked = _lock_draft(application=application)
    today = timezone.localdate()
    errors = {}
    if diagnosis_date > today:
        errors["diagnosis_date"] = _("诊断日期不能晚于今天。")
    if diagnosing_institution.region_id != locked.region_id:
        errors["diagnosing_institution"] = _("请选择参保地区内的医疗机构。")
    if designated_institution is not None and (
        designated_institution.region_id != locked.region_id or not designated_institution.designated
    ):
        errors["designated_institution"] = _("请选择本地区的门特定点医疗机构。")
    if errors:
        raise ApplicationError(errors)
    locked.diagnosis = diagnosis.strip()
    locked.diagnosing_institution = diagnosing_institution
    locked.diagnosis_date = diagnosis_date
    locked.designated_institution = designated_institution
    locked.wizard_step = max(locked.wizard_step, 4)
    locked.full_clean()
    locked.save(
        update_fields=["diagnosis", "diagnosing_institution", "diagnosis_date", "designated_institution", "wizard_step", "updated_at"]
    )
    return locked


# --- uploads ----------------------------------------------------------------------------------

def _allowed_slots(*, application: Application, user) -> set[str]:
    if application.status == ApplicationStatus.DRAFT:
        own = selectors.account_person_id(user=user)
        return {slot["code"] for slot in selectors.material_slots(application=application, own_person_id=own)}
    if application.status == ApplicationStatus.SUPPLEMENT_REQUESTED:
        return selectors.supplement_slots(application=application)
    return set()


@transaction.atomic
def material_add(*, application: Application, user, slot: str, file) -> UploadedMaterial:
    """Check one uploaded file by its content and store it privately under a random name.

    Images are re-encoded later by ``tasks.material_process_task`` (queued after commit), so the
    request stays fast and a crash in an image decoder cannot take the request down.
    """
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.applicant_id != user.pk:
        raise ApplicationError(_("只有申请人可以上传材料。"), code="not_applicant")
    if slot not in _allowed_slots(application=locked, user=user):
        if locked.status not in (ApplicationStatus.DRAFT, ApplicationStatus.SUPPLEMENT_REQUESTED):
            raise ApplicationError(_("该申请当前不能上传材料。"), code="closed")
        raise ApplicationError(_("该材料项当前不需要上传。"), code="bad_slot")
    inspected = upload_inspect(file)  # raises UploadRejected (a ValidationError) naming the file
    if selectors.material_list(application=locked).count() >= upload_max_files():
        raise ApplicationError(
            _("文件“%(name)s”未能上传：每个申请最多 %(limit)d 个文件，请先删除不需要的文件。")
            % {"name": inspected.original_name, "limit": upload_max_files()},
            code="too_many",
        )
    return material_store(application=locked, uploaded_by=user, slot=slot, file=file, inspected=inspected)


def material_store(*, application: Application, uploaded_by, slot: str, file, inspected: InspectedUpload) -> UploadedMaterial:
    """Store a file ``upload_inspect`` accepted, privately under a random name, and queue the
    image work after commit. The one place every upload path (wizard, counter, renewals) ends.

    Callers check who may upload what; the caller's transaction holds the case.
    """
    file.seek(0)
    material = UploadedMaterial(
        application=application,
        slot=slot,
        original_name=inspected.original_name,
        content_type=inspected.content_type,
        size=inspected.size,
        sha256=inspected.sha256,
        uploaded_by=uploaded_by,
        # A PDF needs no pixel work; images are processed by the task.
        processed=not inspected.is_image,
    )
    material.file.save(f"upload.{inspected.extension}", file, save=False)
    material.full_clean()
    material.save()
    if inspected.is_image:
        transaction.on_commit(lambda: _enqueue_processing(material.pk))
    return material


def _enqueue_processing(material_id: int) -> None:
    from applications.tasks import material_process_task

    try:
        material_process_task.delay(material_id)
    except Exception:  # noqa: BLE001 - broker down: the periodic sweep (material_process_pending) retries
        logger.warning("broker unavailable; material %s left for the sweep", material_id)


@transaction.atomic
def material_remove(*, material: UploadedMaterial, user) -> None:
    """Delete a file the applicant uploaded by mistake, while it is still theirs to change: in a
    draft, or a new file during a supplement (files the reviewer already saw stay)."""
    locked = Application.objects.select_for_update().get(pk=material.application_id)
    material = UploadedMaterial.objects.get(pk=material.pk, application=locked)
    if locked.applicant_id != user.pk:
        raise ApplicationError(_("只有申请人可以删除材料。"), code="not_applicant")
    removable = locked.status == ApplicationStatus.DRAFT or (
        locked.status == ApplicationStatus.SUPPLEMENT_REQUESTED
        and material.created_at > _supplement_requested_at(locked)
    )
    if not removable:
        raise ApplicationError(_("已提交审核的材料不能删除。"), code="not_removable")
    names = [material.file.name, material.thumbnail.name]
    material.delete()
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names if n])


def _supplement_requested_at(application: Application) -> dt.datetime:
    # The reviews service clears clock_started_at when it asks for more, so the event is the
    # reliable moment; a case without one (data entered by hand) falls back to its submission.
    event = selectors.supplement_request_event(application=application)
    return event.created_at if event else application.submitted_at


def material_process(*, material_id: int) -> UploadedMaterial | None:
    """Re-encode an uploaded image, make its thumbnail and score its sharpness. Re-running is
    harmless: a processed material is left alone."""
    from applications.image_processing import image_reencode

    material = UploadedMaterial.objects.filter(pk=material_id).first()
    if material is None or material.processed:
        return material
    with material.file.open("rb") as handle:
        data = handle.read()
    try:
        result = image_reencode(data)
    except Exception as error:  # noqa: BLE001 - keep the original; a reviewer sees the note
        with transaction.atomic():
            UploadedMaterial.objects.filter(pk=material_id, processed=False).update(
                processed=True, processing_error=type(error).__name__[:200]
            )
        logger.warning("material %s could not be re-encoded: %s", material_id, type(error).__name__)
        return material
    old_name = material.file.name
    new_name = default_storage.save(f"materials/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{result.extension}", ContentFile(result.content))
    thumb_name = default_storage.save(f"thumbnails/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.jpg", ContentFile(result.thumbnail))
    with transaction.atomic():
        updated = UploadedMaterial.objects.filter(pk=material_id, processed=False).update(
            file=new_name,
            thumbnail=thumb_name,
            content_type=result.content_type,
            size=len(result.content),
            sha256=hashlib.sha256(result.content).hexdigest(),
            sharpness=result.sharpness,
            processed=True,
        )
    if updated:
        default_storage.delete(old_name)
    else:  # a concurrent run won (or the file was deleted): drop our copies
        default_storage.delete(new_name)
        default_storage.delete(thumb_name)
    return UploadedMaterial.objects.filter(pk=material_id).first()


@transaction.atomic
def application_draft_discard(*, application: Application, user) -> None:
    """Delete the applicant's own draft and its files (nothing was submitted, nothing to keep)."""
    locked = _lock_draft(application=application)
    if locked.applicant_id != user.pk:
        raise ApplicationError(_("只有申请人可以删除草稿。"), code="not_applicant")
    names = [n for m in locked.materials.all() for n in (m.file.name, m.thumbnail.name) if n]
    locked.events.all().delete()
    locked.delete()
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def material_process_pending(*, older_than: dt.timedelta = dt.timedelta(minutes=5), limit: int = 200) -> int:
    """Queue processing again for images still unprocessed after ``older_than`` (the task was lost
    or the broker was down at upload time). Returns how many were queued."""
    cutoff = timezone.now() - older_than
    ids = list(
        UploadedMaterial.objects.filter(processed=False, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for material_id in ids:
        _enqueue_processing(material_id)
    return len(ids)


# --- transitions ------------------------------------------------------------------------------

def review_due_at(*, region: Region, start: dt.datetime) -> dt.datetime | None:
    """When the review must be finished: the region's deadline in working days from ``start``.
    None when the region has no service settings yet (staff then see no deadline, not a wrong one)."""
    from catalog.models import ServiceSettings
    from catalog.working_days import add_working_time

    try:
        service = region.settings
    except ServiceSettings.DoesNotExist:
        return None
    return add_working_time(start=start, days=service.review_deadline_days, settings=service)


def acceptance_number_issue(*, region: Region, now: dt.datetime) -> str:
    """``<region code>-<YYYYMMDD>-<6-digit sequence>`` by the Asia/Shanghai date.

    One statement increments (or creates) the counter row and returns the new value; the row stays
    locked until the submit transaction ends, so numbers are sequential, unique, and a rolled-back
    submit gives its number back.
    """
    day = now.astimezone(SHANGHAI).date()
    table = connection.ops.quote_name("applications_acceptancecounter")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region_id, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (region_id, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [region.pk, day],
        )
        sequence = cursor.fetchone()[0]
    return f"{region.code}-{day:%Y%m%d}-{sequence:06d}"


@transaction.atomic
def application_submit(*, application: Application, user, consent_version: str | None) -> Application:
    """Submit a complete draft: issue the acceptance number, start the review clock, notify.

    A repeated POST (double click, browser retry) finds the case already submitted and returns it
    unchanged, so one application and one number come out of any number of clicks.
    """
    locked = Application.objects.select_for_update(of=("self",)).select_related("region", "disease").get(pk=application.pk)
    if locked.applicant_id != user.pk:
        raise ApplicationError(_("只有申请人可以提交。"), code="not_applicant")
    if locked.status != ApplicationStatus.DRAFT and locked.acceptance_number and locked.submitted_at:
        return locked
    check_transition(locked.status, ApplicationStatus.SUBMITTED)
    consent_ok = consent_version in CONSENT_TEXTS
    missing = selectors.application_missing_items(application=locked, user=user, consent_given=consent_ok)
    if missing:
        raise ApplicationError(missing, code="incomplete")
    now = timezone.now()
    locked.consent_version = consent_version
    locked.consent_at = now
    _enter_queue(
        locked, actor=user, now=now, extra_fields=["consent_version", "consent_at"],
        event_data={"consent_version": consent_version},
    )
    return locked


@transaction.atomic
def application_submit_for_walk_in(*, application: Application, staff) -> Application:
    """Submit a case staff entered at a window for a walk-in citizen (counter-assisted filing).

    Same number sequence, clock and SMS as an online submission; the citizen's consent is the
    paper form signed at the counter, so no online consent version is recorded.
    """
    locked = Application.objects.select_for_update(of=("self",)).select_related("region").get(pk=application.pk)
    if locked.entry_channel != EntryChannel.COUNTER or locked.entered_by_id != staff.pk:
        raise ApplicationError(_("只有录入该申请的工作人员可以提交。"), code="not_entered_by")
    if locked.status != ApplicationStatus.DRAFT and locked.acceptance_number and locked.submitted_at:
        return locked
    check_transition(locked.status, ApplicationStatus.SUBMITTED)
    _enter_queue(locked, actor=staff, now=timezone.now(), event_data={"entry_channel": EntryChannel.COUNTER})
    return locked


@transaction.atomic
def application_file_followup(*, application: Application, actor, due_at, template_key: str, event_data: dict) -> Application:
    """Create and submit a follow-up case (extension, re-review, reconsideration) in one step.

    ``application`` is unsaved: a follow-up has no draft stage (the certifications area checks
    its window and materials first), so it is inserted with its number already issued. The
    caller gives the deadline, which differs by kind (reconsideration: 5 working days).
    """
    now = timezone.now()
    application.acceptance_number = acceptance_number_issue(region=application.region, now=now)
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    application.clock_started_at = now
    application.due_at = due_at
    application.full_clean(exclude=["applicant", "parent"])
    application.save()
    ApplicationEvent.objects.create(
        application=application, kind=EventKind.SUBMITTED, actor=actor, from_status="",
        to_status=ApplicationStatus.SUBMITTED, data=event_data,
    )
    notification_create(
        event_key=f"application:{application.pk}:submitted",
        template_key=template_key,
        params={"number": application.acceptance_number},
        user=application.applicant,
    )
    return application


def _enter_queue(locked: Application, *, actor, now, event_data: dict, extra_fields: list[str] = ()) -> None:
    """Issue the acceptance number, start the review clock, record the event and notify (the
    shared tail of every submission path; the caller holds the row lock)."""
    locked.acceptance_number = acceptance_number_issue(region=locked.region, now=now)
    locked.status = ApplicationStatus.SUBMITTED
    locked.submitted_at = now
    locked.clock_started_at = now
    locked.due_at = review_due_at(region=locked.region, start=now)
    locked.wizard_step = 5
    locked.full_clean()
    locked.save(
        update_fields=[
            "acceptance_number", "status", "submitted_at", "clock_started_at", "due_at", "wizard_step",
            "updated_at", *extra_fields,
        ]
    )
    ApplicationEvent.objects.create(
        application=locked,
        kind=EventKind.SUBMITTED,
        actor=actor,
        from_status=ApplicationStatus.DRAFT,
        to_status=ApplicationStatus.SUBMITTED,
        data={"acceptance_number": locked.acceptance_number, **event_data},
    )
    notification_create(
        event_key=f"application:{locked.pk}:submitted",
        template_key="application_submitted",
        params={"number": locked.acceptance_number},
        user=locked.applicant,
    )


@transaction.atomic
def application_withdraw(*, application: Application, user, reason: str = "") -> Application:
    """The applicant takes the case back before a decision."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.applicant_id != user.pk:
        raise ApplicationError(_("只有申请人可以撤回。"), code="not_applicant")
    if locked.status == ApplicationStatus.DRAFT:
        # A draft has no number and nobody else saw it: it is discarded, not withdrawn.
        raise ApplicationError(_("草稿无需撤回，可直接删除。"), code="draft")
    if locked.status not in WITHDRAWABLE:
        raise ApplicationError(_("该申请已办结，不能撤回。"), code="not_withdrawable")
    previous = locked.status
    check_transition(previous, ApplicationStatus.WITHDRAWN)
    locked.status = ApplicationStatus.WITHDRAWN
    locked.full_clean()
    locked.save(update_fields=["status", "updated_at"])
    ApplicationEvent.objects.create(
        application=locked,
        kind=EventKind.WITHDRAWN,
        actor=user,
        from_status=previous,
        to_status=ApplicationStatus.WITHDRAWN,
        data={"reason": reason[:300]} if reason else {},
    )
    # The patient may not be the one who withdrew (a relative applying): the number hears of it.
    notification_create(
        event_key=f"application:{locked.pk}:withdrawn",
        template_key="application_withdrawn",
        params={"number": locked.acceptance_number},
        user=locked.applicant,
    )
    return locked


@transaction.atomic
def application_resubmit(*, application: Application, user) -> Application:
    """After a supplement request: every flagged item must have a new file; the flagged files are
    kept but marked superseded, and the review clock starts again (一次性告知 rule)."""
    locked = Application.objects.select_for_update(of=("self",)).select_related("region").get(pk=application.pk)
    if locked.applicant_id != user.pk:
        raise ApplicationError(_("只有申请人可以提交补正。"), code="not_applicant")
    if locked.status == ApplicationStatus.SUBMITTED and locked.events.filter(kind=EventKind.RESUBMITTED).exists():
        last = locked.events.order_by("-created_at", "-pk").first()
        if last and last.kind == EventKind.RESUBMITTED:
            return locked  # a repeated POST of the same resubmission
    check_transition(locked.status, ApplicationStatus.SUBMITTED)
    requested_at = _supplement_requested_at(locked)
    missing = []
    current = selectors.material_list(application=locked)
    slot_names = _slot_names(locked, user)
    for slot in sorted(selectors.supplement_slots(application=locked)):
        if not current.filter(slot=slot, flagged_for_supplement=False, created_at__gt=requested_at).exists():
            missing.append(_("请补传：%(name)s") % {"name": slot_names.get(slot, _("其他补正材料"))})
    if missing:
        raise ApplicationError(missing, code="incomplete")
    now = timezone.now()
    replaced = list(current.filter(flagged_for_supplement=True).values_list("pk", flat=True))
    UploadedMaterial.objects.filter(pk__in=replaced).update(superseded_at=now, flagged_for_supplement=False)
    locked.status = ApplicationStatus.SUBMITTED
    locked.clock_started_at = now
    locked.due_at = review_due_at(region=locked.region, start=now)
    locked.full_clean()
    locked.save(update_fields=["status", "clock_started_at", "due_at", "updated_at"])
    event = ApplicationEvent.objects.create(
        application=locked,
        kind=EventKind.RESUBMITTED,
        actor=user,
        from_status=ApplicationStatus.SUPPLEMENT_REQUESTED,
        to_status=ApplicationStatus.SUBMITTED,
        data={"replaced_material_ids": replaced},
    )
    # A case may be supplemented more than once: each round is its own event (and its own SMS).
    notification_create(
        event_key=f"application:{locked.pk}:resubmitted:{event.pk}",
        template_key="application_resubmitted",
        params={"number": locked.acceptance_number},
        user=locked.applicant,
    )
    return locked


def _slot_names(application: Application, user) -> dict[str, str]:
    own = selectors.account_person_id(user=user)
    return selectors.material_slot_names(slots=selectors.material_slots(application=application, own_person_id=own))
