"""Reads of the applications app. Access rules live here, in named selectors.

``application_list_for_citizen`` is THE rule for what a citizen may see: their own applications
and those of the people they may act for (themself and household members, see
``portal.selectors.person_list_for_account``). Every citizen view starts from it, from its
one-case form ``application_get_for_citizen`` (the same two conditions, ``_citizen_access``,
checked on the row it read: ``_citizen_may_see``), or from ``application_list_for_applicant`` for
changes, so an object outside it answers 404. (``applications.citizen_sql`` states the list's
rule again as prepared statements for 我的申请; tests hold the two to the same answer.)
"""
from __future__ import annotations

from functools import cached_property

from django.db.models import Q, QuerySet

from applications import citizen_sql
from applications.citizen_sql import CitizenApplicationList
from applications.id_numbers import normalize_id_number
from applications.lifecycle import FINAL
from applications.models import (
    PROXY_AGENT_ID_SLOT,
    PROXY_RELATIONSHIP_SLOT,
    SUPPLEMENT_EXTRA_SLOT,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    EventKind,
    Person,
    UploadedMaterial,
)
from catalog.models import Disease, MedicalInstitution, Region, Scheme


def person_find_by_id_number(*, id_number: str) -> Person | None:
    """The one way to find a person by resident ID number.

    Callers never filter on ``id_number`` themselves: at-rest encryption replaces the plain column
    with a keyed hash, and only this function has to change.
    """
    from portal.crypto import id_number_hash

    return Person.objects.filter(id_number_hash=id_number_hash(normalize_id_number(id_number))).first()


# --- who the account is --------------------------------------------------------------------

def account_person(*, user) -> Person | None:
    """The account holder's own person (from the real-name identity), or None before it exists."""
    from portal.models import Identity

    identity = Identity.objects.select_related("person").filter(user=user).first()
    return identity.person if identity else None


def account_person_id(*, user) -> int | None:
    """``account_person``'s key only, for pages that only compare it (no join, no decryption)."""
    from portal.auth_backends import OWN_PERSON_ATTRIBUTE
    from portal.models import Identity

    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return getattr(user, OWN_PERSON_ATTRIBUTE)  # read with the request's user (portal.auth_backends)
    except AttributeError:
        pass
    if citizen_sql.prepared_reads_available():
        return citizen_sql.own_person_id(user_id=user.pk)
    return Identity.objects.filter(user=user).values_list("person_id", flat=True).first()


def account_is_verified(*, user) -> bool:
    """Submitting needs a verified real-name identity. Uses the accounts app's selector when it
    exists (it owns the rule); reading ``Identity.verified_at`` is the same rule meanwhile."""
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        from portal.selectors import identity_is_verified
    except ImportError:
        from portal.models import Identity

        return Identity.objects.filter(user=user, verified_at__isnull=False).exists()
    return bool(identity_is_verified(user=user))


def patient_list_for_account(*, user) -> QuerySet[Person]:
    """Whom the account may apply for; ordered with the holder's own person first."""
    from portal.selectors import person_list_for_account

    # The account's own person is included even before verification: drafting for oneself is
    # allowed unverified (submitting is not). Access to *cases* still follows the portal rule.
    allowed = person_list_for_account(user=user).values("pk")
    return (
        Person.objects.filter(Q(pk__in=allowed) | Q(identities__user=user))
        .select_related("region", "scheme")
        .distinct()
        .order_by("pk")
    )


# --- access ----------------------------------------------------------------------------------

# The patient comes by join; region, scheme and disease from the process's copy of the catalog
# (``catalog_rows_attach``): joining those three tables tripled PostgreSQL's planning time.
CITIZEN_LIST_RELATED = ("patient",)
CATALOG_FIELDS = ("region", "scheme", "disease")


def _citizen_access(*, user) -> tuple[Q, Q]:
    """The citizen rule in its two halves: cases the account filed, and submitted cases of a
    person it may act for. The list and the file lookup below are built from these two conditions;
    ``_citizen_may_see`` states them for one case already read.

    The people are read first, as a list of ids (one query of two index lookups): nesting their
    query inside the cases' query cost more Python to build and more planning than the query itself.
    """
    from portal.selectors import person_ids_for_account

    return Q(applicant=user), Q(patient_id__in=person_ids_for_account(user=user)) & ~Q(status=ApplicationStatus.DRAFT)


def application_list_for_citizen(*, user) -> QuerySet[Application]:
    """Every application the account may see: those it filed, and those filed for a person it may
    act for (so a parent sees what a child filed for them). Another account's drafts stay private
    to that account until submitted. (Rows for a page: pass them through ``application_rows``.)"""
    if not getattr(user, "is_authenticated", False):
        return Application.objects.none()
    own, theirs = _citizen_access(user=user)
    # UNION of the applicant index and the patient index (an OR over both scanned every case).
    union = Application.objects.filter(own).values("pk").union(Application.objects.filter(theirs).values("pk"))
    return (
        Application.objects.filter(pk__in=union)
        .select_related(*CITIZEN_LIST_RELATED)
        .order_by("-created_at", "-pk")
    )


# What 我的申请 shows of a case (``templatetags.application_tags.application_list_items``; region,
# scheme and disease by ``application_rows``) and of its patient (the masked name): the rest is
# left unread. The diagnosis and the ID number most of all, encrypted at rest (loading them was a
# decryption each per case, 40 on a full page of a family's cases); the others because a family's
# page of 20 rows read, converted and kept 33 values a row for the 11 shown.
CITIZEN_LIST_FIELDS = (
    "status", "wizard_step", "region", "scheme", "disease", "acceptance_number", "updated_at", "patient", "patient__full_name",
)


def application_list_for_citizen_summaries(*, user) -> QuerySet[Application] | CitizenApplicationList:
    """``application_list_for_citizen`` for the list page: the same cases in the same order,
    with only the columns the list shows (``CITIZEN_LIST_FIELDS``), for ``page_get``.

    On PostgreSQL a ``citizen_sql.CitizenApplicationList`` (the rule as prepared statements, which
    spares 2 ms of building querysets per visit), elsewhere the queryset."""
    if getattr(user, "is_authenticated", False) and citizen_sql.prepared_reads_available():
        return citizen_sql.CitizenApplicationList(user_id=user.pk)
    return application_list_for_citizen(user=user).only(*CITIZEN_LIST_FIELDS)


def application_rows(*, applications) -> list[Application]:
    """The applications of a page with their region, scheme and disease set (see CATALOG_FIELDS)."""
    from catalog.selectors import catalog_rows_attach

    return catalog_rows_attach(objects=applications, fields=CATALOG_FIELDS)


def application_list_for_applicant(*, user) -> QuerySet[Application]:
    """Applications the account may change (edit a draft, upload, submit, withdraw): its own.
    (Those are the citizen list's first half, so no UNION is needed to find them.)"""
    if not getattr(user, "is_authenticated", False):
        return Application.objects.none()
    return Application.objects.filter(applicant=user).select_related(*CITIZEN_LIST_RELATED).order_by("-created_at", "-pk")


def application_get_for_citizen(*, user, pk: int) -> Application:
    """Raises ``Application.DoesNotExist`` for anything outside the citizen's reach.

    The case is read by its key and the rule checked on that one row (``_citizen_may_see``): most
    visits are the applicant's own, which then costs no read of the account's people, and a lookup
    by key alone is the cheapest query to build and plan. ``tests/applications/test_access_forms``
    holds this form and the list's to the same answer on every kind of case."""
    if not getattr(user, "is_authenticated", False):
        raise Application.DoesNotExist
    if citizen_sql.prepared_reads_available():
        application = citizen_sql.application_with_patient(pk=pk)
    else:
        application = Application.objects.select_related(*CITIZEN_LIST_RELATED).get(pk=pk)
    if not _citizen_may_see(user=user, application=application):
        raise Application.DoesNotExist
    return application_rows(applications=[application])[0]


class CasePage:
    """A case as its page shows it: ``application`` (with its patient and catalog rows), ``events``
    (the citizen's timeline) and ``materials`` (every file, superseded ones too).

    ``read``: on PostgreSQL, the rows all three are made from (``citizen_sql.case_page``), made into
    instances only when first used, so that a page kept for the same rows (``portal.page_memo``)
    makes none of them; None elsewhere. ``status`` is the case's, without making anything."""

    def __init__(self, *, rows: citizen_sql.CaseRows | None = None, parts: tuple | None = None) -> None:
        self._rows = rows
        self.read = rows.rows if rows is not None else None
        if parts is not None:
            self.__dict__["_parts"] = parts
            self.status = parts[0].status
        else:
            self.status = rows.status

    @cached_property
    def _parts(self) -> tuple[Application, list[ApplicationEvent], list[UploadedMaterial]]:
        application, events, materials = self._rows.parts
        return application_rows(applications=[application])[0], events, materials

    @property
    def application(self) -> Application:
        return self._parts[0]

    @property
    def events(self) -> list[ApplicationEvent]:
        return self._parts[1]

    @property
    def materials(self) -> list[UploadedMaterial]:
        return self._parts[2]


def application_page_for_citizen(*, user, pk: int) -> CasePage:
    """The case page's reads: the case as ``application_get_for_citizen`` returns it, its timeline
    (``application_event_list_for_citizen``) and every file, superseded ones too (``material_rows``).
    On PostgreSQL one statement reads all three (``citizen_sql.case_page``), and the access rule is
    checked on the case's row before anything of it is used. Raises ``Application.DoesNotExist``
    as ``application_get_for_citizen``."""
    if not getattr(user, "is_authenticated", False):
        raise Application.DoesNotExist
    if not citizen_sql.prepared_reads_available():
        application = application_get_for_citizen(user=user, pk=pk)
        return CasePage(parts=(
            application,
            application_event_list_for_citizen(application=application),
            material_rows(application=application, include_superseded=True),
        ))
    rows = citizen_sql.case_page(pk=pk)
    if not _citizen_may_see_case(user=user, applicant_id=rows.applicant_id, patient_id=rows.patient_id, status=rows.status):
        raise Application.DoesNotExist
    return CasePage(rows=rows)


def _citizen_may_see(*, user, application: Application) -> bool:
    """``_citizen_access`` for one case already read: filed by the account, or a submitted case of
    a person it may act for."""
    return _citizen_may_see_case(
        user=user, applicant_id=application.applicant_id, patient_id=application.patient_id, status=application.status
    )


def _citizen_may_see_case(*, user, applicant_id: int, patient_id: int | None, status: str) -> bool:
    from portal.selectors import person_ids_for_account

    if applicant_id == user.pk:
        return True
    return status != ApplicationStatus.DRAFT and patient_id in person_ids_for_account(user=user)


def application_get_for_applicant(*, user, pk: int) -> Application:
    return application_rows(applications=[application_list_for_applicant(user=user).get(pk=pk)])[0]


def material_get_for_citizen(*, user, application_pk: int, pk: int) -> UploadedMaterial:
    """A file of an application the citizen may see; raises ``UploadedMaterial.DoesNotExist``."""
    if not getattr(user, "is_authenticated", False):
        raise UploadedMaterial.DoesNotExist
    own, theirs = _citizen_access(user=user)
    visible = Application.objects.filter(Q(pk=application_pk) & (own | theirs)).values("pk")
    return UploadedMaterial.objects.select_related("application").get(pk=pk, application__in=visible)


# --- what a page shows ------------------------------------------------------------------------

def application_event_list_for_citizen(*, application: Application) -> list[ApplicationEvent]:
    """The timeline a citizen sees, read now (on PostgreSQL the case page reads it with the case:
    ``application_page_for_citizen``)."""
    return list(application.events.filter(visible_to_citizen=True).order_by("created_at", "pk"))


def material_list(*, application: Application, include_superseded: bool = False) -> QuerySet[UploadedMaterial]:
    materials = application.materials.all()
    if not include_superseded:
        materials = materials.filter(superseded_at__isnull=True)
    return materials.order_by("slot", "created_at", "pk")


def material_rows(*, application: Application, include_superseded: bool = False) -> list[UploadedMaterial]:
    """``material_list`` read now, for a page (a prepared statement on PostgreSQL)."""
    if citizen_sql.prepared_reads_available():
        return citizen_sql.material_list(application_id=application.pk, include_superseded=include_superseded)
    return list(material_list(application=application, include_superseded=include_superseded))


def region_list_for_wizard() -> QuerySet[Region]:
    return Region.objects.select_related("settings").order_by("order", "code")


def disease_list_for_application(*, region: Region, scheme: Scheme | None) -> QuerySet[Disease]:
    """Diseases of the region open to the patient's scheme (all of the region's without one)."""
    from catalog.selectors import disease_list_for_region

    return disease_list_for_region(region=region, scheme=scheme)


def institution_list_for_application(*, region: Region, designated_only: bool = False) -> QuerySet[MedicalInstitution]:
    from catalog.selectors import institution_list

    return institution_list(region=region, designated=True if designated_only else None)


def is_proxy_application(*, application: Application, own_person_id: int | None) -> bool:
    """Applying for someone else (代办) needs the agent's ID and a relationship proof."""
    return application.patient_id is not None and application.patient_id != own_person_id


def material_slots(*, application: Application, own_person_id: int | None) -> list[dict]:
    """The upload slots of an application: one per required material of the disease, plus the
    proxy documents when the patient is not the account holder. Each slot is a dict with
    ``code``, ``name``, ``description`` and ``required``."""
    from catalog.selectors import catalog_materials_for_disease

    slots: list[dict] = []
    if application.disease_id:
        for material in catalog_materials_for_disease(disease_id=application.disease_id):
            slots.append(
                {"code": material.code, "name": material.name, "description": material.description, "required": material.required}
            )
    if is_proxy_application(application=application, own_person_id=own_person_id):
        from django.utils.translation import gettext as _

        slots.append(
            {"code": PROXY_AGENT_ID_SLOT, "name": _("代办人身份证"), "description": _("代办人本人身份证正反面"), "required": True}
        )
        slots.append(
            {
                "code": PROXY_RELATIONSHIP_SLOT,
                "name": _("关系证明或授权委托书"),
                "description": _("户口本、出生证明等关系证明，或患者签字的授权委托书"),
                "required": True,
            }
        )
    return slots


def material_slot_names(*, slots: list[dict]) -> dict[str, str]:
    """Slot code → name for ``slots`` (from ``material_slots``), plus the proxy documents: they can
    be asked for in a supplement even when the viewer is the patient's own account."""
    from django.utils.translation import gettext as _

    names = {s["code"]: s["name"] for s in slots}
    names.setdefault(PROXY_AGENT_ID_SLOT, _("代办人身份证"))
    names.setdefault(PROXY_RELATIONSHIP_SLOT, _("关系证明或授权委托书"))
    return names


def supplement_request_event(
    *, application: Application, events: list[ApplicationEvent] | None = None
) -> ApplicationEvent | None:
    """The latest "supplement requested" event: its ``data["items"]`` is the itemised notice.

    ``events``: the case's citizen timeline already read (``application_page_for_citizen``, oldest
    first), searched instead of asking the database. The notice is written visible to the citizen
    (``reviews.services.application_request_supplement``); one that is not has no place on the
    citizen's page either."""
    if events is not None:
        return next((e for e in reversed(events) if e.kind == EventKind.SUPPLEMENT_REQUESTED), None)
    return application.events.filter(kind=EventKind.SUPPLEMENT_REQUESTED).order_by("-created_at", "-pk").first()


def supplement_slots(
    *,
    application: Application,
    events: list[ApplicationEvent] | None = None,
    materials: list[UploadedMaterial] | None = None,
) -> set[str]:
    """Slots the applicant may upload to while a supplement is requested: those holding a flagged
    file, those named in the notice's items, and a catch-all when an item names no slot.

    ``events`` and ``materials`` (every file, superseded ones too): what the case page has read
    already, so it asks the database nothing more. Uploads and resubmission read afresh."""
    if materials is not None:
        slots = {m.slot for m in materials if m.flagged_for_supplement and m.superseded_at is None}
    else:
        slots = set(
            application.materials.filter(flagged_for_supplement=True, superseded_at__isnull=True).values_list("slot", flat=True)
        )
    event = supplement_request_event(application=application, events=events)
    for item in (event.data.get("items", []) if event else []):
        slot = item.get("slot") if isinstance(item, dict) else None
        slots.add(slot or SUPPLEMENT_EXTRA_SLOT)
    return slots


def application_missing_items(*, application: Application, user, consent_given: bool = True) -> list[str]:
    """Everything that stops a draft from being submitted, all at once (一次性告知), in Chinese."""
    from django.utils.translation import gettext as _

    missing: list[str] = []
    if not account_is_verified(user=user):
        missing.append(_("账户尚未完成实名认证"))
    if application.patient_id is None:
        missing.append(_("未选择患者"))
    if application.region_id is None:
        missing.append(_("未选择参保地区"))
    if application.scheme_id is None:
        missing.append(_("未选择参保类型"))
    if application.disease_id is None:
        missing.append(_("未选择病种"))
    elif application.region_id and (
        application.disease.region_id != application.region_id
        or (application.scheme_id and not application.disease.schemes.filter(pk=application.scheme_id).exists())
    ):
        missing.append(_("所选病种不适用于该地区或参保类型，请重新选择"))
    if not application.diagnosis.strip():
        missing.append(_("未填写诊断"))
    if application.diagnosing_institution_id is None:
        missing.append(_("未选择诊断医院"))
    if application.diagnosis_date is None:
        missing.append(_("未填写诊断日期"))
    present = set(material_list(application=application).values_list("slot", flat=True))
    for slot in material_slots(application=application, own_person_id=account_person_id(user=user)):
        if slot["required"] and slot["code"] not in present:
            missing.append(_("缺少材料：%(name)s") % {"name": slot["name"]})
    if not consent_given:
        missing.append(_("未同意医疗健康信息处理授权"))
    return missing


def application_is_final(*, application: Application) -> bool:
    return application.status in FINAL


def application_find_for_tracking(*, acceptance_number: str, id_number: str) -> Application | None:
    """The public lookup: both the acceptance number and the patient's ID number must match.
    Returns None in every other case, so callers cannot tell which of the two was wrong."""
    number = (acceptance_number or "").strip()
    # Both lookups always run, so the response time does not tell which of the two was wrong.
    person = person_find_by_id_number(id_number=id_number)
    application = (
        Application.objects.select_related("patient", "disease", "region")
        .filter(acceptance_number=number)
        .exclude(status=ApplicationStatus.DRAFT)
        .first()
    )
    if not number or person is None or application is None or application.patient_id != person.pk:
        return None
    return application


def household_relationship_labels(*, user) -> dict[int, str]:
    """person id → how the account holder calls them (父母, 子女, …), for the patient choice."""
    from portal.models import HouseholdMember

    return {
        member.person_id: member.get_relationship_display()
        for member in HouseholdMember.objects.filter(account=user).only("person_id", "relationship")
    }
