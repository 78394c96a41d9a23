"""Reads for the certification pages. Access ("a citizen sees only their own and their
household's") is decided here, on top of ``portal.selectors.person_list_for_account``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from applications.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Certification,
    CertificationStatus,
    EventKind,
)
from catalog.models import Disease, ReimbursementPolicy, ValidityRule
from catalog.selectors import policy_map_for
from certifications.dates import add_months, local_date, local_today, next_year_start
from certifications.models import (
    REMOTE_CARE_OPEN,
    HospitalChange,
    RemoteCareRegistration,
)
from portal.selectors import person_list_for_account

# A follow-up case in one of these statuses blocks filing another one of the same purpose.
PENDING_STATUSES = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.IN_REVIEW,
        ApplicationStatus.SUPPLEMENT_REQUESTED,
        ApplicationStatus.ESCALATED,
    }
)
RENEWAL_KINDS = (ApplicationKind.EXTENSION, ApplicationKind.REREVIEW)
# The issue fixes the reconsideration deadline at 5 working days for every region; there is no
# ServiceSettings column for it (the catalog owns that model), so it is one named constant.
RECONSIDERATION_DEADLINE_WORKING_DAYS = 5
# The recent photo holding the ID card is what every extension asks for (湖南 特门延期申请).
ID_PHOTO_CODE = "id_photo"


class DisplayStatus:
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"


DISPLAY_LABELS = {
    DisplayStatus.ACTIVE: _("有效"),
    DisplayStatus.EXPIRING: _("即将到期"),
    DisplayStatus.EXPIRED: _("已到期"),
    DisplayStatus.REVOKED: _("已撤销"),
}


# --- Access -----------------------------------------------------------------------------------
def certification_list_for_account(*, user) -> QuerySet[Certification]:
    """Certifications of the account holder and their household; nothing for anyone else."""
    return (
        Certification.objects.filter(person__in=person_list_for_account(user=user))
        .select_related("person", "region", "region__settings", "scheme", "disease", "disease__category",
                        "designated_institution", "application")
        # Cards never show the ID number or the diagnosis: not decrypting two fields per card
        # (a 代办 page lists ~100 cards). A follow-up that copies the diagnosis loads it then.
        .defer("person__id_number", "application__diagnosis")
        .order_by("person_id", "-begndate", "pk")
    )


def _live_first(*, today: dt.date) -> list:
    """Live certifications first, then the newest: the order of every list of cards (the overview
    applies the same rule in Python; tests/certifications/test_index_paging.py holds them together)."""
    from django.db.models import Case, F, IntegerField, Q, Value, When

    live = Q(status=CertificationStatus.ACTIVE) & (Q(enddate__isnull=True) | Q(enddate__gte=today))
    return [Case(When(live, then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
            F("begndate").desc(), F("pk").asc()]


# The overview's cards take the person, the hospital and the case by join, and the catalog rows
# (region with its settings, scheme, disease) from the process's copy: with all eight joins and
# the account's people nested in it, PostgreSQL spent 4-7 ms planning the query.
OVERVIEW_RELATED = ("person", "designated_institution", "application")


def certification_list_first_per_person(*, user, person_ids, per_person: int, today: dt.date) -> list[Certification]:
    """At most ``per_person`` certifications of each of ``person_ids`` that the account may see,
    in ``_live_first`` order, each with ``held`` set: how many that person has in all.

    The overview's work is bounded by its page size whatever a person holds: a 代办 account's own
    person can hold dozens (one per disease, and the expired ones of earlier years). The ranking
    reads five small columns of the persons' certifications and is done here: as a window
    function filtered in SQL, Django's compiling of it cost more than the query."""
    from catalog.selectors import catalog_rows_attach, catalog_settings_attach

    by_person: dict[int, list[tuple]] = {}
    # The access rule rides on this one-table query; the cards are then read by these keys only.
    for pk, person_id, status, begndate, enddate in (
        Certification.objects.filter(person_id__in=list(person_ids), person__in=person_list_for_account(user=user))
        .values_list("pk", "person_id", "status", "begndate", "enddate")
    ):
        live = status == CertificationStatus.ACTIVE and (enddate is None or enddate >= today)  # _live_first's rule
        by_person.setdefault(person_id, []).append((not live, -begndate.toordinal(), pk))
    chosen: dict[int, tuple] = {}  # pk: (where it goes on the page, how many its person holds)
    for person_id, keys in by_person.items():
        for key in sorted(keys)[:per_person]:
            chosen[key[2]] = ((person_id, key), len(keys))
    if not chosen:
        return []
    certifications = sorted(
        Certification.objects.filter(pk__in=chosen).select_related(*OVERVIEW_RELATED).defer("person__id_number", "application__diagnosis"),
        key=lambda c: chosen[c.pk][0],
    )
    for certification in certifications:
        certification.held = chosen[certification.pk][1]
    catalog_rows_attach(objects=certifications, fields=("region", "scheme", "disease"))
    catalog_settings_attach(regions=[c.region for c in certifications])
    return certifications


def certification_list_for_person(*, user, person_id: int, today: dt.date) -> QuerySet[Certification]:
    """One person's certifications (nothing if the account may not see them), live ones first."""
    return certification_list_for_account(user=user).filter(person_id=person_id).order_by(*_live_first(today=today))


def certification_get_for_account(*, user, pk: int) -> Certification:
    """Raises ``Certification.DoesNotExist`` for a certification outside the account's persons,
    so views answer 404 and never reveal that it exists."""
    return certification_list_for_account(user=user).get(pk=pk)


def remote_care_get_for_account(*, user, pk: int) -> RemoteCareRegistration:
    return RemoteCareRegistration.objects.select_related("certification", "certification__person").get(
        pk=pk, certification__person__in=person_list_for_account(user=user)
    )


def application_list_rejected_for_account(*, user) -> QuerySet[Application]:
    """Rejected first-time/extension cases the account filed or that concern its persons.

    Built on the citizens' access selector (a UNION of indexed lookups; an OR across applicant
    and patient scanned every case at province scale)."""
    from applications.selectors import application_list_for_citizen

    return (
        application_list_for_citizen(user=user)
        .filter(status=ApplicationStatus.REJECTED)
        .exclude(kind=ApplicationKind.RECONSIDERATION)
        .select_related("patient", "disease", "region", "region__settings")
        .prefetch_related(Prefetch("children", queryset=Application.objects.filter(kind=ApplicationKind.RECONSIDERATION)))
        .order_by("-decided_at", "-pk")
    )


def application_list_rejected_rows_for_account(*, user, limit: int) -> list[Application]:
    """The first ``limit`` of ``application_list_rejected_for_account`` for the overview's list:
    without the patient and the encrypted diagnosis it never shows (a decryption each per row),
    the region with its settings and the disease from the process's copy of the catalog."""
    from applications.selectors import application_rows
    from catalog.selectors import catalog_settings_attach

    rows = application_rows(
        applications=application_list_rejected_for_account(user=user).select_related(None).defer("diagnosis")[:limit]
    )
    catalog_settings_attach(regions=[application.region for application in rows])
    return rows


def application_get_rejected_for_account(*, user, pk: int) -> Application:
    return application_list_rejected_for_account(user=user).get(pk=pk)


# --- Rules derived from dates -------------------------------------------------------------------
def certification_display_status(*, certification: Certification, today: dt.date | None = None) -> str:
    """``expiring`` is derived (inside the region's extension window); ``expired`` is persisted by
    the daily sweep but also derived, so the page is right even before the sweep has run."""
    today = today or local_today()
    if certification.status == CertificationStatus.REVOKED:
        return DisplayStatus.REVOKED
    if certification.status == CertificationStatus.EXPIRED:
        return DisplayStatus.EXPIRED
    if certification.enddate is None:
        return DisplayStatus.ACTIVE
    if today > certification.enddate:
        return DisplayStatus.EXPIRED
    if today >= renewal_window_opens(certification=certification):
        return DisplayStatus.EXPIRING
    return DisplayStatus.ACTIVE


def renewal_window_opens(*, certification: Certification) -> dt.date:
    """The first day an extension may be filed: ``extension_window_days`` before the end date."""
    days = certification.region.settings.extension_window_days
    return certification.enddate - dt.timedelta(days=days)


def renewal_kind_for(*, disease: Disease) -> str:
    """Diseases with a re-review rule renew through 复审 (their own materials again); the others
    through 延期 with only a recent photo holding the ID card."""
    return ApplicationKind.REREVIEW if disease.rereview_required else ApplicationKind.EXTENSION


@dataclass(frozen=True)
class MaterialSlot:
    code: str
    name: str
    description: str = ""


def renewal_materials_for(*, disease: Disease) -> list[MaterialSlot]:
    slots = [MaterialSlot(ID_PHOTO_CODE, str(_("近期手持身份证照片")), str(_("本人手持身份证正面，面部和证件清晰可见")))]
    if disease.rereview_required:
        for material in disease.materials.all():
            if material.required and material.code != ID_PHOTO_CODE:
                slots.append(MaterialSlot(material.code, material.name, material.description))
    return slots


def renewal_end_for(*, disease: Disease, start: dt.date) -> dt.date | None:
    """The last day of a validity period starting on ``start`` under the disease's rule."""
    if disease.validity_rule == ValidityRule.MONTHS:
        return add_months(start, disease.validity_months) - dt.timedelta(days=1)
    if disease.validity_rule == ValidityRule.YEAR_END:
        return dt.date(start.year, 12, 31)
    return None


def renewal_pending(*, certification: Certification) -> Application | None:
    return (
        Application.objects.filter(
            parent_id=certification.application_id, kind__in=RENEWAL_KINDS, status__in=PENDING_STATUSES
        )
        .order_by("-pk")
        .first()
    )


@dataclass
class HospitalQuota:
    year: int
    allowed_per_year: int
    used: int
    next_possible: dt.date | None  # None while a change is still possible this year

    @property
    def can_change(self) -> bool:
        return self.used < self.allowed_per_year


def hospital_change_quota(*, certification: Certification, today: dt.date | None = None) -> HospitalQuota:
    """Changes used in the current Asia/Shanghai calendar year; the first choice is not a change."""
    today = today or local_today()
    used = HospitalChange.objects.filter(
        certification=certification, year=today.year, from_institution__isnull=False
    ).count()
    allowed = certification.region.settings.hospital_changes_per_year
    return HospitalQuota(
        year=today.year,
        allowed_per_year=allowed,
        used=used,
        next_possible=None if used < allowed else next_year_start(today),
    )


def hospital_change_history(*, certification: Certification) -> QuerySet[HospitalChange]:
    return HospitalChange.objects.filter(certification=certification).select_related("from_institution", "to_institution")


def remote_care_list_for_certification(*, certification: Certification) -> QuerySet[RemoteCareRegistration]:
    return RemoteCareRegistration.objects.filter(certification=certification).order_by("-filed_at", "-pk")


def remote_care_open_for(*, certification: Certification) -> RemoteCareRegistration | None:
    return RemoteCareRegistration.objects.filter(certification=certification, status__in=REMOTE_CARE_OPEN).first()


def policy_for_certification(*, certification: Certification) -> ReimbursementPolicy | None:
    """The catalog's policy for the person's scheme; None means no data (the page says so)."""
    from catalog.selectors import policy_for

    return policy_for(disease=certification.disease, scheme=certification.scheme)


# --- The "next action" panel ----------------------------------------------------------------------
@dataclass
class NextAction:
    code: str  # extension | rereview | reapply | hospital | remote_care
    label: str
    available: bool
    opens_on: dt.date | None = None
    note: str = ""


@dataclass
class CertificationView:
    certification: Certification
    status: str
    status_label: str
    policy: ReimbursementPolicy | None
    renewal_kind: str
    renewal_opens: dt.date | None
    renewal_pending: Application | None
    quota: HospitalQuota
    remote_care: RemoteCareRegistration | None
    actions: list[NextAction] = field(default_factory=list)


def certification_view(*, certification: Certification, today: dt.date | None = None) -> CertificationView:
    """Everything the certification card shows, with each action and the date it opens."""
    return certification_view_list(certifications=[certification], today=today)[0]


def certification_view_list(*, certifications, today: dt.date | None = None) -> list[CertificationView]:
    """``certification_view`` for many certifications in a fixed number of queries, so a household
    page does not grow a query per card."""
    from django.db.models import Count

    today = today or local_today()
    certifications = list(certifications)
    if not certifications:
        return []
    ids = [c.pk for c in certifications]
    pending_by_parent: dict[int, Application] = {}
    for application in Application.objects.filter(
        parent_id__in=[c.application_id for c in certifications], kind__in=RENEWAL_KINDS, status__in=PENDING_STATUSES
    ).order_by("pk"):
        pending_by_parent[application.parent_id] = application
    used_by_cert = dict(
        HospitalChange.objects.filter(certification_id__in=ids, year=today.year, from_institution__isnull=False)
        .values_list("certification_id")
        .annotate(n=Count("pk"))
    )
    remote_by_cert = {
        r.certification_id: r
        for r in RemoteCareRegistration.objects.filter(certification_id__in=ids, status__in=REMOTE_CARE_OPEN)
    }
    policies = policy_map_for(pairs=[(c.disease, c.scheme) for c in certifications])
    views = []
    for certification in certifications:
        pair = (certification.disease_id, certification.scheme.code)
        allowed = certification.region.settings.hospital_changes_per_year
        used = used_by_cert.get(certification.pk, 0)
        quota = HospitalQuota(year=today.year, allowed_per_year=allowed, used=used,
                              next_possible=None if used < allowed else next_year_start(today))
        views.append(_view_build(
            certification=certification, today=today,
            pending=pending_by_parent.get(certification.application_id) if certification.enddate else None,
            quota=quota, remote=remote_by_cert.get(certification.pk), policy=policies[pair],
        ))
    return views


def _view_build(*, certification, today, pending, quota, remote, policy) -> CertificationView:
    status = certification_display_status(certification=certification, today=today)
    kind = renewal_kind_for(disease=certification.disease)
    opens = renewal_window_opens(certification=certification) if certification.enddate else None
    label = _("申请复审") if kind == ApplicationKind.REREVIEW else _("申请延期")
    actions: list[NextAction] = []
    live = status in (DisplayStatus.ACTIVE, DisplayStatus.EXPIRING)
    if status == DisplayStatus.EXPIRED:
        actions.append(NextAction("reapply", str(_("重新申请资格认定")), True,
                                  note=str(_("资格已过期，不能再延期，请重新申请认定。"))))
    elif live and certification.enddate:
        if pending:
            actions.append(NextAction(kind, str(label), False, note=str(_("已提交，正在审核（受理编号 %(number)s）。")) % {"number": pending.acceptance_number}))
        elif today >= opens:
            actions.append(NextAction(kind, str(label), True, opens_on=opens))
        else:
            actions.append(NextAction(kind, str(label), False, opens_on=opens))
    if live:
        hospital_label = _("选择定点医疗机构") if certification.designated_institution_id is None else _("变更定点医疗机构")
        first_choice = certification.designated_institution_id is None
        actions.append(NextAction("hospital", str(hospital_label), first_choice or quota.can_change,
                                  opens_on=None if (first_choice or quota.can_change) else quota.next_possible))
        actions.append(NextAction("remote_care", str(_("异地就医备案")), remote is None,
                                  note="" if remote is None else str(_("已有备案：%(place)s")) % {"place": f"{remote.province}{remote.city}"}))
    return CertificationView(
        certification=certification,
        status=status,
        status_label=str(DISPLAY_LABELS[status]),
        policy=policy,
        renewal_kind=kind,
        renewal_opens=opens,
        renewal_pending=pending,
        quota=quota,
        remote_care=remote,
        actions=actions,
    )


# --- Follow-up cases -----------------------------------------------------------------------------
def certification_extended_by(*, application: Application) -> Certification | None:
    """The certification an approval of ``application`` must extend instead of creating a new one:
    for an extension or re-review, its parent's certification; for a reconsideration of a rejected
    extension or re-review, that case's parent's. ``None`` for every other case (approval then
    creates a certification as usual)."""
    case = application
    if case.kind == ApplicationKind.RECONSIDERATION and case.parent_id is not None:
        case = case.parent
    if case.kind not in RENEWAL_KINDS or case.parent_id is None:
        return None
    return Certification.objects.filter(application_id=case.parent_id).first()


# --- Reconsideration ------------------------------------------------------------------------------
def reconsideration_last_day(*, application: Application) -> dt.date | None:
    """The last day a rejected case may be taken to reconsideration (inclusive)."""
    if application.status != ApplicationStatus.REJECTED or application.decided_at is None:
        return None
    return local_date(application.decided_at) + dt.timedelta(days=application.region.settings.reconsideration_days)


def reconsideration_existing(*, application: Application) -> Application | None:
    return (
        Application.objects.filter(parent=application, kind=ApplicationKind.RECONSIDERATION)
        .exclude(status=ApplicationStatus.WITHDRAWN)
        .first()
    )


# Event kinds whose actor took part in reviewing the original case.
_REVIEW_EVENT_KINDS = (
    EventKind.CLAIMED,
    EventKind.SUPPLEMENT_REQUESTED,
    EventKind.EXPERT_OPINION,
    EventKind.ESCALATED,
    EventKind.APPROVED,
    EventKind.REJECTED,
)


def reconsideration_reviewer_allowed(*, application: Application, user) -> bool:
    """False when ``user`` reviewed the case a reconsideration is about (claimed it, asked for a
    supplement, gave an expert opinion or decided it). Every review service deciding a case must
    ask this first; for other kinds of case it is always True."""
    if application.kind != ApplicationKind.RECONSIDERATION or application.parent_id is None:
        return True
    parent = application.parent
    if parent.assignee_id == user.pk:
        return False
    return not parent.events.filter(kind__in=_REVIEW_EVENT_KINDS, actor_id=user.pk).exists()
