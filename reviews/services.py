"""Staff writes: claiming, assigning, deciding, expert opinions, revealing an ID number.

Every decision follows the same recipe: lock the case row (``select_for_update``), re-check that
the actor may see it (the scope selector) and may act (permissions), check the move against
``applications.lifecycle``, save with ``update_fields``, write an ``ApplicationEvent`` and the
applicant's notification in the same transaction. Two staff deciding at the same moment: the
second one waits for the lock, then finds the status changed and gets ``TransitionNotAllowed``.
"""
from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterable, Mapping

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.lifecycle import check_transition
from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus as S,
    Certification,
    EventKind,
)
from catalog.models import ValidityRule
from notifications.services import notification_create
from reviews.models import ExpertOpinion, Recommendation
from reviews.reasons import RejectionReason
from reviews.roles import ROLE_PERMISSIONS
from reviews.selectors import application_list_for_staff, expert_opinion_list_current, membership_get

logger = logging.getLogger(__name__)


# --- setup ----------------------------------------------------------------------------------


def staff_groups_ensure() -> list[Group]:
    """Create the role groups and (re)set their permissions. Safe to run any number of times."""
    groups = []
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=str(role))
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is None:
                # Only during a partial migrate (an app's permissions not created yet): the next
                # post_migrate completes the group.
                logger.warning("permission %s missing; group %s left incomplete", name, role)
                continue
            perms.append(perm)
        group.permissions.set(perms)
        groups.append(group)
    return groups


# --- helpers --------------------------------------------------------------------------------


def _lock_for_staff(*, user, application_id: int) -> Application:
    """The case row, locked, or DoesNotExist when the user may not see it (same as a 404)."""
    return (
        application_list_for_staff(user=user)
        .select_for_update(of=("self",))
        .select_related("region", "region__settings", "disease", "patient", "applicant", "scheme")
        .get(pk=application_id)
    )


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("您没有执行此操作的权限。"))


def _move(
    application: Application,
    *,
    target: str,
    actor,
    kind: str,
    fields: Iterable[str] = (),
    data: dict | None = None,
    visible_to_citizen: bool = True,
) -> ApplicationEvent:
    check_transition(application.status, target)
    before = application.status
    application.status = target
    application.save(update_fields=["status", "updated_at", *fields])
    return ApplicationEvent.objects.create(
        application=application,
        kind=kind,
        actor=actor,
        from_status=before,
        to_status=target,
        data=data or {},
        visible_to_citizen=visible_to_citizen,
    )


def _notify(application: Application, *, event: str, template_key: str) -> None:
    notification_create(
        event_key=f"application:{application.pk}:{event}",
        template_key=template_key,
        params={"number": application.acceptance_number},
        user=application.applicant,
    )


# --- queue ----------------------------------------------------------------------------------


@transaction.atomic
def application_claim(*, application_id: int, user) -> Application:
    """Take a waiting case from the queue (submitted → in review, assignee = user)."""
    _require(user, "reviews.decide_application")
    application = _lock_for_staff(user=user, application_id=application_id)
    if application.status == S.IN_REVIEW and application.assignee_id not in (None, user.pk):
        raise ValidationError(_("该申请已由 %(name)s 审核。") % {"name": application.assignee}, code="taken")
    application.assignee = user
    if application.status == S.IN_REVIEW:
        application.save(update_fields=["assignee", "updated_at"])
        return application
    _move(application, target=S.IN_REVIEW, actor=user, kind=EventKind.CLAIMED, fields=["assignee"],
          visible_to_citizen=True)
    return application


@transaction.atomic
def application_assign(*, application_id: int, assignee, actor) -> Application:
    """A supervisor or reviewer hands the case to a colleague who may see it."""
    _require(actor, "reviews.decide_application")
    application = _lock_for_staff(user=actor, application_id=application_id)
    if not application_list_for_staff(user=assignee).filter(pk=application.pk).exists():
        raise ValidationError(_("%(name)s 无权办理该地区的申请。") % {"name": assignee}, code="out_of_scope")
    application.assignee = assignee
    if application.status == S.SUBMITTED:
        _move(application, target=S.IN_REVIEW, actor=actor, kind=EventKind.CLAIMED, fields=["assignee"],
              data={"assignee": assignee.pk})
    elif application.status in (S.IN_REVIEW, S.ESCALATED):
        application.save(update_fields=["assignee", "updated_at"])
    else:
        raise ValidationError(_("该申请当前状态为“%(status)s”，不能分配。") % {"status": application.get_status_display()})
    return application


@transaction.atomic
def application_release(*, application_id: int, user) -> Application:
    """Put a claimed case back in the queue (in review → submitted). The clock keeps running."""
    _require(user, "reviews.decide_application")
    application = _lock_for_staff(user=user, application_id=application_id)
    if application.assignee_id not in (None, user.pk) and not user.has_perm("reviews.decide_escalated"):
        raise ValidationError(_("只能退回自己领取的申请。"), code="not_yours")
    application.assignee = None
    _move(application, target=S.SUBMITTED, actor=user, kind=EventKind.RELEASED, fields=["assignee"],
          visible_to_citizen=False)
    return application


@transaction.atomic
def application_reveal_id_number(*, application_id: int, user) -> str:
    """The patient's full ID number, for a staff member who needs it; records who looked."""
    _require(user, "reviews.reveal_id_number")
    application = _lock_for_staff(user=user, application_id=application_id)
    if application.patient is None:
        raise ValidationError(_("该申请没有患者信息。"))
    ApplicationEvent.objects.create(
        application=application,
        kind=EventKind.ID_REVEALED,
        actor=user,
        from_status=application.status,
        to_status=application.status,
        visible_to_citizen=False,
    )
    return application.patient.id_number


# --- decisions ------------------------------------------------------------------------------


def _check_decider(application: Application, user) -> None:
    from certifications.selectors import reconsideration_reviewer_allowed

    if application.status == S.ESCALATED:
        _require(user, "reviews.decide_escalated")
    else:
        _require(user, "reviews.decide_application")
    # A reconsideration (复议) must be decided by someone who had no hand in the original case.
    if not reconsideration_reviewer_allowed(application=application, user=user):
        raise PermissionDenied(_("复议申请须由未参与原审核的工作人员办理。"))


def _experts_agree(application: Application, recommendation: str) -> bool:
    opinions = list(expert_opinion_list_current(application=application))
    return len(opinions) >= 2 and all(o.recommendation == recommendation for o in opinions)


def _expert_review_required(application: Application) -> bool:
    settings = getattr(application.region, "settings", None)
    return bool(settings and settings.expert_review)


def _certification_end(*, begin: dt.date, rule: str, months: int | None) -> dt.date | None:
    if rule == ValidityRule.LONG_TERM:
        return None
    if rule == ValidityRule.YEAR_END:
        return dt.date(begin.year, 12, 31)
    month_index = begin.month - 1 + (months or 0)
    year, month = begin.year + month_index // 12, month_index % 12 + 1
    # 31 January + 1 month ends on the last day of February, not in March.
    return dt.date(year, month, min(begin.day, calendar.monthrange(year, month)[1]))


def _institution_name(user, application: Application) -> str:
    membership = membership_get(user=user)
    if membership is not None:
        return membership.organisation.name
    return str(application.region) if application.region_id else ""


@transaction.atomic
def application_approve(*, application_id: int, user, note: str = "") -> Certification:
    """Approve the case and create the certification; benefits start on the decision date.

    Where the region uses expert review, two experts of the current round must both recommend
    approval (a supervisor deciding an escalated case overrides them).
    """
    application = _lock_for_staff(user=user, application_id=application_id)
    _check_decider(application, user)
    check_transition(application.status, S.APPROVED)
    if (
        _expert_review_required(application)
        and application.status != S.ESCALATED
        and not _experts_agree(application, Recommendation.APPROVE)
    ):
        raise ValidationError(_("本地区实行专家评审：需两名专家一致同意后才能通过。"), code="experts_needed")
    if application.patient is None or application.disease is None:
        raise ValidationError(_("申请缺少患者或病种信息，无法通过。"), code="incomplete")
    now = timezone.now()
    application.decided_at = now
    _move(application, target=S.APPROVED, actor=user, kind=EventKind.APPROVED, fields=["decided_at"],
          data={"note": note} if note else {})
    # A follow-up (extension, re-review, or a reconsideration of one) extends the certification
    # its parent case created; the certifications area decides which one that is.
    from certifications.services import certification_extend_for_application

    certification = certification_extend_for_application(application=application, decided_by=user, decided_at=now)
    if certification is not None:
        notification_create(
            event_key=f"application:{application.pk}:approved",
            template_key="extension_approved",
            params={
                "number": application.acceptance_number,
                "end_date": certification.enddate.isoformat() if certification.enddate else _("长期"),
            },
            user=application.applicant,
        )
        return certification
    _notify(application, event="approved", template_key="application_approved")
    begin = timezone.localdate(now)
    disease = application.disease
    certification = Certification.objects.create(
        person=application.patient,
        application=application,
        region=application.region,
        scheme=application.scheme or application.patient.scheme,
        disease=disease,
        opsp_dise_code=disease.code,
        opsp_dise_name=disease.name,
        ide_fixmedins_name=_institution_name(user, application),
        designated_institution=application.designated_institution,
        begndate=begin,
        enddate=_certification_end(begin=begin, rule=disease.validity_rule, months=disease.validity_months),
    )
    return certification


@transaction.atomic
def application_reject(*, application_id: int, user, reason: str, note: str = "") -> Application:
    """Reject with a reason from the standard list; the free text is shown to the applicant."""
    if reason not in RejectionReason.values:
        raise ValidationError(_("请选择不通过的原因。"), code="reason_required")
    if reason == RejectionReason.OTHER and not note.strip():
        raise ValidationError(_("选择“其他”时请填写具体原因。"), code="note_required")
    application = _lock_for_staff(user=user, application_id=application_id)
    _check_decider(application, user)
    application.decided_at = timezone.now()
    _move(application, target=S.REJECTED, actor=user, kind=EventKind.REJECTED, fields=["decided_at"],
          data={"reason_code": reason, "reason": _reason_text(reason, note), "note": note.strip()})
    _notify(application, event="rejected", template_key="application_rejected")
    return application


def _reason_text(reason: str, note: str) -> str:
    label = str(RejectionReason(reason).label)
    return f"{label}：{note.strip()}" if note.strip() else label


@transaction.atomic
def application_request_supplement(
    *,
    application_id: int,
    user,
    verdicts: Mapping[int, str] | None = None,
    verdict_notes: Mapping[int, str] | None = None,
    extra_items: Iterable[str] = (),
    note: str = "",
) -> Application:
    """一次性告知: list everything missing or wrong at once and hand the case back to the applicant.

    ``verdicts`` maps uploaded-material ids to a verdict; every verdict other than "accepted" is a
    document the applicant must upload again. ``extra_items`` are materials not uploaded at all.
    The review clock stops (``clock_started_at``/``due_at`` cleared) and restarts on resubmission.
    """
    from reviews import materials

    application = _lock_for_staff(user=user, application_id=application_id)
    _check_decider(application, user)
    check_transition(application.status, S.SUPPLEMENT_REQUESTED)
    flagged = materials.material_verdicts_apply(
        application=application, verdicts=verdicts or {}, notes=verdict_notes, user=user
    )
    extras = [item.strip() for item in extra_items if item and item.strip()]
    if not flagged and not extras:
        raise ValidationError(
            _("请至少标记一份需重新上传的材料或填写一项需补充的材料。"), code="nothing_requested"
        )
    application.clock_started_at = None
    application.due_at = None
    _move(
        application,
        target=S.SUPPLEMENT_REQUESTED,
        actor=user,
        kind=EventKind.SUPPLEMENT_REQUESTED,
        fields=["clock_started_at", "due_at"],
        # ``items`` is the itemised notice the citizen's page lists and uploads against (a slot
        # per flagged document; extra items without a slot go to the catch-all upload slot).
        data={
            "items": flagged + [{"slot": None, "text": text} for text in extras],
            "documents": [item["material"] for item in flagged],
            "extra_items": extras,
            "note": note.strip(),
        },
    )
    _notify_supplement(application)
    return application


def _notify_supplement(application: Application) -> None:
    # A case may be sent back more than once; each request is its own event.
    count = application.events.filter(kind=EventKind.SUPPLEMENT_REQUESTED).count()
    notification_create(
        event_key=f"application:{application.pk}:supplement_requested:{count}",
        template_key="supplement_requested",
        params={"number": application.acceptance_number},
        user=application.applicant,
    )


@transaction.atomic
def expert_opinion_record(*, application_id: int, expert, recommendation: str, note: str = "") -> ExpertOpinion:
    """One expert's opinion. When the second opinion disagrees with the first, the case goes to
    a supervisor (escalated); when both agree, a reviewer can now decide accordingly."""
    _require(expert, "reviews.record_expert_opinion")
    if recommendation not in Recommendation.values:
        raise ValidationError(_("请选择专家意见。"), code="recommendation_required")
    application = _lock_for_staff(user=expert, application_id=application_id)
    if application.status not in (S.SUBMITTED, S.IN_REVIEW):
        raise ValidationError(
            _("该申请当前状态为“%(status)s”，不再接受专家意见。") % {"status": application.get_status_display()},
            code="closed",
        )
    current = list(expert_opinion_list_current(application=application))
    if any(o.expert_id == expert.pk for o in current):
        raise ValidationError(_("您已对本轮审核提交过意见。"), code="duplicate")
    if len(current) >= 2:
        raise ValidationError(_("本轮已有两名专家的意见。"), code="enough")
    opinion = ExpertOpinion.objects.create(
        application=application,
        expert=expert,
        round_started_at=application.clock_started_at,
        recommendation=recommendation,
        note=note.strip(),
    )
    ApplicationEvent.objects.create(
        application=application,
        kind=EventKind.EXPERT_OPINION,
        actor=expert,
        from_status=application.status,
        to_status=application.status,
        data={"recommendation": recommendation},
        visible_to_citizen=False,
    )
    if current and current[0].recommendation != recommendation:
        _move(application, target=S.ESCALATED, actor=expert, kind=EventKind.ESCALATED,
              data={"opinions": [current[0].recommendation, recommendation]})
    return opinion


# --- supervision ----------------------------------------------------------------------------


def overdue_digest_send(*, now: dt.datetime | None = None) -> int:
    """Tell every supervisor how many cases in their scope are overdue (one message per day).

    Runs from Celery beat; a second run on the same day writes nothing new (the event key holds
    the date). Skipped on rest days: nobody reads it, and Monday's digest carries the count.
    """
    from django.contrib.auth import get_user_model

    from catalog.working_days import is_workday
    from reviews.roles import StaffRole
    from reviews.selectors import DeadlineState, application_filter_deadline

    now = now or timezone.now()
    today = timezone.localdate(now)
    if not is_workday(today):
        return 0
    supervisors = get_user_model().objects.filter(
        is_active=True, is_staff=True, groups__name=str(StaffRole.SUPERVISOR), review_membership__isnull=False
    ).distinct()
    sent = 0
    for supervisor in supervisors:
        overdue = application_filter_deadline(
            queryset=application_list_for_staff(user=supervisor), state=DeadlineState.OVERDUE, now=now
        ).count()
        if not overdue:
            continue
        with transaction.atomic():
            created = notification_create(
                event_key=f"reviews:overdue_digest:{supervisor.pk}:{today:%Y%m%d}",
                template_key="reviews_overdue_digest",
                params={"count": overdue},
                user=supervisor,
                urgent=False,
            )
        sent += bool(created)
    return sent
