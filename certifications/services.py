"""Writes for the life of a certification after approval.

One service per transition: ``@transaction.atomic``, the certification (or registration) row
locked with ``select_for_update``, rules checked under the lock, ``save(update_fields=...)``, an
event row, notifications through the outbox (delivered after commit).

Integration points for other areas (see the docstrings):

* ``certification_extend_for_application`` (wrapping ``certification_extend``) — the reviews
  approve service calls it first; when it returns a certification (kind ``extension`` /
  ``rereview``, or a reconsideration of one) the case extended it and no new Certification is
  created.
* ``certifications.selectors.reconsideration_reviewer_allowed`` — every reviews decide service
  calls it before deciding a kind ``reconsideration`` case.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import (
    Application,
    ApplicationKind,
    Certification,
    CertificationStatus,
    UploadedMaterial,
)
from applications.services import application_file_followup, material_store, review_due_at
from applications.uploads import InspectedUpload, upload_inspect
from catalog.models import MedicalInstitution
from certifications import selectors
from certifications.dates import add_months, local_date, local_today
from certifications.models import (
    LONG_TERM_REASONS,
    CertificationEvent,
    CertificationEventKind,
    HospitalChange,
    RemoteCareKind,
    RemoteCareReason,
    RemoteCareRegistration,
    RemoteCareStatus,
)
from notifications.services import notification_create
from portal.selectors import person_list_for_account

logger = logging.getLogger(__name__)

# Template keys, defined in notifications/templates_text.py (owned by the notifications area).
# Their params are only ``number`` / ``end_date``: a disease name is health data and never travels.
TEMPLATE_RENEWAL_OPEN = "certification_expiring"
TEMPLATE_RENEWAL_SUBMITTED = "extension_submitted"
TEMPLATE_EXPIRED = "certification_expired"
TEMPLATE_REMOTE_CARE_APPROVED = "remote_care_approved"
TEMPLATE_REMOTE_CARE_REJECTED = "remote_care_rejected"
TEMPLATE_REMOTE_CARE_EXPIRED = "remote_care_expired"

# --- Shared helpers -------------------------------------------------------------------------------
def _notify(*, event_key: str, template_key: str, params: dict, users) -> bool:
    """Outbox rows for each recipient. ``notification_create`` refuses keys that
    notifications/templates_text.py does not define (SMS providers only send approved templates);
    were a key removed there, the notification is skipped with a warning instead of failing the
    state change that caused it."""
    from notifications.templates_text import TEMPLATES

    if template_key not in TEMPLATES:
        logger.warning("notification template %s is not defined yet; %s not sent", template_key, event_key)
        return False
    for user in {u.pk: u for u in users if u is not None}.values():
        notification_create(event_key=event_key, template_key=template_key, params=params, user=user)
    return True


def _certification_recipients(certification: Certification) -> list:
    """Who hears about a certification: the account that applied and the person's own account."""
    users = [certification.application.applicant]
    users += [identity.user for identity in certification.person.identities.select_related("user")]
    return users


def _certification_params(certification: Certification) -> dict:
    # SMS texts identify the certification by its acceptance number: a disease name is health data.
    return {"number": certification.application.acceptance_number, "end_date": str(certification.enddate or "")}


def _lock_certification(certification: Certification) -> Certification:
    return (
        Certification.objects.select_for_update(of=("self",))
        .select_related("region__settings", "disease", "person", "application__applicant")
        .get(pk=certification.pk)
    )


def _event(certification: Certification, kind: str, *, actor=None, key: str | None = None, **data) -> bool:
    """Write an event row; with a ``key`` a second write for the same key is skipped (returns False)."""
    if key is not None and CertificationEvent.objects.filter(key=key).exists():
        return False
    CertificationEvent.objects.create(certification=certification, kind=kind, actor=actor, key=key, data=data)
    return True


def _renewal_material_store(*, application: Application, user, slot: str, file, inspected: InspectedUpload) -> UploadedMaterial:
    """Store one renewal file as the applications area's ``UploadedMaterial``, so reviewers see it
    in the same material list as any other case (``material_add`` itself only serves the wizard's
    drafts and supplements; a renewal is filed and submitted in one step)."""
    return material_store(application=application, uploaded_by=user, slot=slot, file=file, inspected=inspected)

# --- Extension / re-review ------------------------------------------------------------------------
@transaction.atomic
def renewal_request(*, certification: Certification, user, files: dict) -> Application:
    """File an extension (延期) or re-review (复审) case for a certification in its window.

    ``files`` maps material codes (``selectors.renewal_materials_for``) to uploaded files. The case
    is ``Application(kind=extension|rereview, parent=<the certification's application>)`` in the
    same review queue, with the region's deadline counted from now.
    """
    certification = _lock_certification(certification)
    if not person_list_for_account(user=user).filter(pk=certification.person_id).exists():
        raise ValidationError(_("只能为本人或已添加的家庭成员办理。"), code="not_household")
    today = local_today()
    status = selectors.certification_display_status(certification=certification, today=today)
    if certification.enddate is None:
        raise ValidationError(_("该资格长期有效，无需延期。"), code="long_term")
    if status == selectors.DisplayStatus.EXPIRED:
        raise ValidationError(_("资格已于 %(date)s 到期，不能再延期，请重新申请资格认定。") % {"date": certification.enddate}, code="expired")
    if status == selectors.DisplayStatus.REVOKED:
        raise ValidationError(_("资格已撤销，不能延期。"), code="revoked")
    opens = selectors.renewal_window_opens(certification=certification)
    if today < opens:
        raise ValidationError(_("延期申请将于 %(date)s 开放。") % {"date": opens}, code="not_open")
    if selectors.renewal_pending(certification=certification):
        raise ValidationError(_("已有正在审核的延期/复审申请。"), code="pending")
    slots = selectors.renewal_materials_for(disease=certification.disease)
    missing = [slot.name for slot in slots if not files.get(slot.code)]
    if missing:
        raise ValidationError(_("请上传：%(names)s") % {"names": "、".join(missing)}, code="missing_materials")
    inspected = {}
    for slot in slots:
        try:
            inspected[slot.code] = upload_inspect(files[slot.code])
        except ValidationError as error:
            raise ValidationError(f"{slot.name}：{' '.join(error.messages)}", code="bad_file") from error
    kind = selectors.renewal_kind_for(disease=certification.disease)
    parent = certification.application
    application = Application(
        kind=kind,
        parent=parent,
        applicant=user,
        patient=certification.person,
        region=certification.region,
        scheme=certification.scheme,
        disease=certification.disease,
        designated_institution=certification.designated_institution,
        diagnosis=parent.diagnosis,
    )
    application = application_file_followup(
        application=application, actor=user, template_key=TEMPLATE_RENEWAL_SUBMITTED,
        due_at=review_due_at(region=certification.region, start=timezone.now()),
        event_data={"certification": certification.pk, "enddate": str(certification.enddate)},
    )
    for slot in slots:
        _renewal_material_store(application=application, user=user, slot=slot.code, file=files[slot.code],
                                inspected=inspected[slot.code])
    _event(certification, CertificationEventKind.RENEWAL_REQUESTED, actor=user,
           application=application.pk, number=application.acceptance_number)
    return application


@transaction.atomic
def certification_extend(
    *, certification: Certification, decided_by, decided_at: dt.datetime, application: Application | None = None
) -> Certification:
    """Extend a certification by its disease's validity rule after an extension or re-review is
    approved. The reviews approve service must call this for kind ``extension`` / ``rereview``.

    The new period starts the day after the current end date, so coverage stays continuous even
    when the decision comes after the end date (the certification is then active again). Pass the
    approved ``application`` to make a repeated call a no-op.
    """
    certification = _lock_certification(certification)
    if certification.status == CertificationStatus.REVOKED:
        raise ValidationError(_("资格已撤销，不能延期。"), code="revoked")
    if certification.enddate is None:
        return certification  # long-term: nothing to extend
    key = f"certification:{certification.pk}:extended:application:{application.pk}" if application else None
    if key and CertificationEvent.objects.filter(key=key).exists():
        return certification
    old_end = certification.enddate
    new_end = selectors.renewal_end_for(disease=certification.disease, start=old_end + dt.timedelta(days=1))
    certification.enddate = new_end
    certification.status = CertificationStatus.ACTIVE
    certification.full_clean()
    certification.save(update_fields=["enddate", "status"])
    _event(certification, CertificationEventKind.EXTENDED, actor=decided_by, key=key,
           old_enddate=str(old_end), new_enddate=str(new_end) if new_end else None,
           decided_at=decided_at.isoformat(), application=application.pk if application else None)
    return certification


def certification_extend_for_application(
    *, application: Application, decided_by, decided_at: dt.datetime
) -> Certification | None:
    """What the reviews approve service calls for every approved case: extends the certification
    an extension / re-review (or a reconsideration of one) is about, and returns it; returns None
    when the case is a first application, for which approval creates the certification."""
    certification = selectors.certification_extended_by(application=application)
    if certification is None:
        return None
    return certification_extend(certification=certification, decided_by=decided_by, decided_at=decided_at,
                                application=application)


@transaction.atomic
def certification_expire(*, certification: Certification, today: dt.date | None = None) -> bool:
    """Mark one certification expired once its end date has passed; notifies once."""
    today = today or local_today()
    certification = _lock_certification(certification)
    if certification.status != CertificationStatus.ACTIVE or certification.enddate is None or certification.enddate >= today:
        return False
    certification.status = CertificationStatus.EXPIRED
    certification.save(update_fields=["status"])
    key = f"certification:{certification.pk}:expired:{certification.enddate}"
    if _event(certification, CertificationEventKind.EXPIRED, key=key, enddate=str(certification.enddate)):
        _notify(event_key=key, template_key=TEMPLATE_EXPIRED, users=_certification_recipients(certification),
                params=_certification_params(certification))
    return True


def certification_expire_due(*, today: dt.date | None = None) -> int:
    """The daily sweep: every active certification whose end date has passed becomes expired.
    Each row is its own transaction, so one failure does not undo the others."""
    today = today or local_today()
    ids = Certification.objects.filter(status=CertificationStatus.ACTIVE, enddate__lt=today).values_list("pk", flat=True)
    return sum(certification_expire(certification=Certification(pk=pk), today=today) for pk in list(ids))


@transaction.atomic
def certification_remind_renewal(*, certification: Certification, today: dt.date | None = None) -> bool:
    """Tell the person their extension/re-review window is open (once per certification and end
    date). Nothing when a renewal case is already pending."""
    today = today or local_today()
    certification = _lock_certification(certification)
    if certification.status != CertificationStatus.ACTIVE or certification.enddate is None:
        return False
    if not (selectors.renewal_window_opens(certification=certification) <= today <= certification.enddate):
        return False
    if selectors.renewal_pending(certification=certification):
        return False
    key = f"certification:{certification.pk}:renewal_open:{certification.enddate}"
    kind = selectors.renewal_kind_for(disease=certification.disease)
    if not _event(certification, CertificationEventKind.RENEWAL_REMINDED, key=key, renewal_kind=kind):
        return False
    _notify(event_key=key, template_key=TEMPLATE_RENEWAL_OPEN, users=_certification_recipients(certification),
            params=_certification_params(certification))
    return True


def certification_remind_due(*, today: dt.date | None = None) -> int:
    from django.db.models import Max

    from catalog.models import ServiceSettings

    today = today or local_today()
    # The widest window of any region bounds the candidates; each is then checked exactly.
    widest = ServiceSettings.objects.aggregate(m=Max("extension_window_days"))["m"] or 0
    ids = Certification.objects.filter(
        status=CertificationStatus.ACTIVE, enddate__gte=today, enddate__lte=today + dt.timedelta(days=widest)
    ).values_list("pk", flat=True)
    return sum(certification_remind_renewal(certification=Certification(pk=pk), today=today) for pk in list(ids))


# --- Designated hospital --------------------------------------------------------------------------
@transaction.atomic
def hospital_change(*, certification: Certification, institution: MedicalInstitution, user) -> HospitalChange:
    """Choose or change the designated hospital (定点医疗机构).

    The certification row is locked first, so two concurrent changes are counted one after the
    other and the second is refused. The yearly limit counts changes in the Asia/Shanghai calendar
    year; the first choice is not a change.
    """
    certification = _lock_certification(certification)
    if not person_list_for_account(user=user).filter(pk=certification.person_id).exists():
        raise ValidationError(_("只能为本人或已添加的家庭成员办理。"), code="not_household")
    now = timezone.now()
    today = local_date(now)
    status = selectors.certification_display_status(certification=certification, today=today)
    if status not in (selectors.DisplayStatus.ACTIVE, selectors.DisplayStatus.EXPIRING):
        raise ValidationError(_("资格不在有效期内，不能变更定点医疗机构。"), code="not_active")
    if institution.region_id != certification.region_id or not institution.designated:
        raise ValidationError(_("请选择本地区的门特定点医疗机构。"), code="not_designated")
    if institution.pk == certification.designated_institution_id:
        raise ValidationError(_("已是当前定点医疗机构。"), code="same")
    previous = certification.designated_institution
    if previous is not None:
        quota = selectors.hospital_change_quota(certification=certification, today=today)
        if not quota.can_change:
            raise ValidationError(
                _("本年度已变更 %(used)s 次，每年最多可变更 %(allowed)s 次。可于 %(date)s 起再次变更。")
                % {"used": quota.used, "allowed": quota.allowed_per_year, "date": quota.next_possible.strftime("%Y-%m-%d")},
                code="yearly_limit",
            )
    change = HospitalChange.objects.create(
        certification=certification, from_institution=previous, to_institution=institution,
        year=today.year, changed_by=user, changed_at=now,
    )
    certification.designated_institution = institution
    certification.save(update_fields=["designated_institution"])
    _event(certification, CertificationEventKind.HOSPITAL_CHANGED, actor=user,
           from_institution=previous.pk if previous else None, to_institution=institution.pk)
    return change


# --- Remote-care registration (异地就医备案) -----------------------------------------------------
TEMPORARY_MIN_MONTHS = 6  # 医保发〔2022〕22号: 临时外出备案有效期原则上不少于6个月


@transaction.atomic
def remote_care_register(
    *,
    certification: Certification,
    user,
    kind: str,
    reason: str,
    province: str,
    city: str,
    start_date: dt.date,
    end_date: dt.date | None,
    proof,
) -> RemoteCareRegistration:
    """File a remote-care registration; auto-approved when the region says so."""
    certification = _lock_certification(certification)
    if not person_list_for_account(user=user).filter(pk=certification.person_id).exists():
        raise ValidationError(_("只能为本人或已添加的家庭成员办理。"), code="not_household")
    today = local_today()
    status = selectors.certification_display_status(certification=certification, today=today)
    if status not in (selectors.DisplayStatus.ACTIVE, selectors.DisplayStatus.EXPIRING):
        raise ValidationError(_("资格不在有效期内，不能办理异地就医备案。"), code="not_active")
    if selectors.remote_care_open_for(certification=certification):
        raise ValidationError(_("已有待审核或有效的异地就医备案，请先取消。"), code="open_exists")
    errors: dict[str, list] = {}
    if kind == RemoteCareKind.LONG_TERM:
        if reason not in LONG_TERM_REASONS:
            errors["reason"] = [_("长期备案的原因须为异地安置退休、异地长期居住或常驻异地工作。")]
        end_date = None  # valid until cancelled
    elif kind == RemoteCareKind.TEMPORARY:
        if reason in LONG_TERM_REASONS or reason not in RemoteCareReason.values:
            errors["reason"] = [_("请选择临时外出就医的原因。")]
        minimum = add_months(start_date, TEMPORARY_MIN_MONTHS) if start_date else None
        if end_date is None:
            errors["end_date"] = [_("临时备案需填写结束日期。")]
        elif minimum and end_date < minimum:
            errors["end_date"] = [_("临时备案有效期不少于 6 个月：结束日期不能早于 %(date)s。") % {"date": minimum}]
    else:
        errors["kind"] = [_("请选择备案类型。")]
    if start_date is None:
        errors["start_date"] = [_("请填写开始日期。")]
    elif start_date < today:
        errors["start_date"] = [_("开始日期不能早于今天。")]
    if not (province or "").strip():
        errors["province"] = [_("请填写就医省份。")]
    if not (city or "").strip():
        errors["city"] = [_("请填写就医城市。")]
    if not proof:
        errors["proof"] = [_("请上传证明材料（如居住证、工作证明或转诊证明）。")]
    else:
        try:
            inspected = upload_inspect(proof)
        except ValidationError as error:
            errors["proof"] = error.messages
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    auto = certification.region.settings.remote_care_auto_approve
    registration = RemoteCareRegistration(
        certification=certification, region=certification.region, kind=kind, reason=reason,
        province=province.strip(), city=city.strip(), start_date=start_date, end_date=end_date,
        proof_name=inspected.original_name[:200], proof_content_type=inspected.content_type,
        status=RemoteCareStatus.ACTIVE if auto else RemoteCareStatus.PENDING,
        filed_by=user, filed_at=now, decided_at=now if auto else None,
    )
    proof.seek(0)
    registration.proof.save(f"proof.{inspected.extension}", proof, save=False)
    registration.full_clean()
    registration.save()
    _event(certification, CertificationEventKind.REMOTE_CARE_FILED, actor=user, registration=registration.pk)
    if auto:
        _event(certification, CertificationEventKind.REMOTE_CARE_APPROVED, registration=registration.pk, auto=True)
    return registration


def _lock_registration(registration: RemoteCareRegistration) -> RemoteCareRegistration:
    return (
        RemoteCareRegistration.objects.select_for_update(of=("self",))
        .select_related("certification__application__applicant", "certification__person")
        .get(pk=registration.pk)
    )


@transaction.atomic
def remote_care_cancel(*, registration: RemoteCareRegistration, user) -> RemoteCareRegistration:
    registration = _lock_registration(registration)
    if not person_list_for_account(user=user).filter(pk=registration.certification.person_id).exists():
        raise ValidationError(_("只能为本人或已添加的家庭成员办理。"), code="not_household")
    if registration.status not in (RemoteCareStatus.PENDING, RemoteCareStatus.ACTIVE):
        raise ValidationError(_("该备案已终止，无需取消。"), code="closed")
    registration.status = RemoteCareStatus.CANCELLED
    registration.closed_at = timezone.now()
    registration.save(update_fields=["status", "closed_at"])
    _event(registration.certification, CertificationEventKind.REMOTE_CARE_CANCELLED, actor=user, registration=registration.pk)
    return registration


@transaction.atomic
def remote_care_decide(*, registration: RemoteCareRegistration, user, approve: bool, note: str = "") -> RemoteCareRegistration:
    """Staff decision on a pending registration (regions without auto-approval)."""
    registration = _lock_registration(registration)
    if registration.status != RemoteCareStatus.PENDING:
        raise ValidationError(_("该备案不在待审核状态。"), code="not_pending")
    if not approve and not note.strip():
        raise ValidationError(_("不通过时请填写原因。"), code="note_required")
    registration.status = RemoteCareStatus.ACTIVE if approve else RemoteCareStatus.REJECTED
    registration.decided_by = user
    registration.decided_at = timezone.now()
    registration.decision_note = note.strip()[:300]
    update = ["status", "decided_by", "decided_at", "decision_note"]
    if not approve:
        registration.closed_at = registration.decided_at
        update.append("closed_at")
    registration.save(update_fields=update)
    kind = CertificationEventKind.REMOTE_CARE_APPROVED if approve else CertificationEventKind.REMOTE_CARE_REJECTED
    _event(registration.certification, kind, actor=user, registration=registration.pk, note=registration.decision_note)
    key = f"remote_care:{registration.pk}:{registration.status}"
    _notify(event_key=key, template_key=TEMPLATE_REMOTE_CARE_APPROVED if approve else TEMPLATE_REMOTE_CARE_REJECTED,
            users=_certification_recipients(registration.certification),
            params=_certification_params(registration.certification))
    return registration


@transaction.atomic
def remote_care_expire(*, registration: RemoteCareRegistration, today: dt.date | None = None) -> bool:
    today = today or local_today()
    registration = _lock_registration(registration)
    if (registration.status != RemoteCareStatus.ACTIVE or registration.kind != RemoteCareKind.TEMPORARY
            or registration.end_date is None or registration.end_date >= today):
        return False
    registration.status = RemoteCareStatus.EXPIRED
    registration.closed_at = timezone.now()
    registration.save(update_fields=["status", "closed_at"])
    key = f"remote_care:{registration.pk}:expired:{registration.end_date}"
    if _event(registration.certification, CertificationEventKind.REMOTE_CARE_EXPIRED, key=key, registration=registration.pk):
        _notify(event_key=key, template_key=TEMPLATE_REMOTE_CARE_EXPIRED,
                users=_certification_recipients(registration.certification),
                params={**_certification_params(registration.certification), "end_date": str(registration.end_date)})
    return True


def remote_care_expire_due(*, today: dt.date | None = None) -> int:
    """Temporary registrations stay valid through their end date and expire the day after."""
    today = today or local_today()
    ids = RemoteCareRegistration.objects.filter(
        status=RemoteCareStatus.ACTIVE, kind=RemoteCareKind.TEMPORARY, end_date__lt=today
    ).values_list("pk", flat=True)
    return sum(remote_care_expire(registration=RemoteCareRegistration(pk=pk), today=today) for pk in list(ids))


# --- Reconsideration (复议) -------------------------------------------------------------------
@transaction.atomic
def reconsideration_request(*, application: Application, user, reason: str) -> Application:
    """Ask for reconsideration of a rejected case within the region's period.

    Creates ``Application(kind=reconsideration, parent=<rejected case>)`` in the review queue with
    a deadline of 5 working days; the reviews services must let only someone other than the
    original reviewer decide it (``selectors.reconsideration_reviewer_allowed``).
    """
    application = (
        Application.objects.select_for_update(of=("self",)).select_related("region__settings", "patient").get(pk=application.pk)
    )
    persons = person_list_for_account(user=user)
    if application.applicant_id != user.pk and not persons.filter(pk=application.patient_id).exists():
        raise ValidationError(_("只能为本人或已添加的家庭成员办理。"), code="not_household")
    if application.kind == ApplicationKind.RECONSIDERATION:
        raise ValidationError(_("复议结果为最终结果，不能再次申请复议。"), code="final")
    last_day = selectors.reconsideration_last_day(application=application)
    if last_day is None:
        raise ValidationError(_("只有未通过的申请可以申请复议。"), code="not_rejected")
    if local_today() > last_day:
        raise ValidationError(_("复议申请期限已于 %(date)s 截止。") % {"date": last_day}, code="too_late")
    if selectors.reconsideration_existing(application=application):
        raise ValidationError(_("该申请已提交过复议。"), code="exists")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": [_("请说明复议理由（至少 5 个字）。")]})
    case = Application(
        kind=ApplicationKind.RECONSIDERATION,
        parent=application,
        applicant=user,
        patient=application.patient,
        region=application.region,
        scheme=application.scheme,
        disease=application.disease,
        diagnosis=application.diagnosis,
        diagnosing_institution=application.diagnosing_institution,
        diagnosis_date=application.diagnosis_date,
        designated_institution=application.designated_institution,
    )
    from catalog.working_days import add_working_time

    due_at = add_working_time(start=timezone.now(), days=selectors.RECONSIDERATION_DEADLINE_WORKING_DAYS,
                              settings=application.region.settings)
    return application_file_followup(application=case, actor=user, template_key="application_submitted", due_at=due_at,
                                     event_data={"reason": reason[:1000], "parent": application.pk})
