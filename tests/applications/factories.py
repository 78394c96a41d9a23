"""Application-area factories. ``ApplicationFactory`` has a trait per lifecycle state:
``ApplicationFactory(submitted=True)``, ``(in_review=True)``, ``(supplement_requested=True)``,
``(approved=True)``, ``(rejected=True)``, ``(withdrawn=True)``; the default is a complete draft."""
import datetime as dt


import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from applications.models import Application, ApplicationEvent, ApplicationStatus, EventKind, UploadedMaterial
from catalog.models import EntryCriterion, RequiredMaterial
from portal.models import HouseholdMember, Identity
from tests.applications import corpus
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, RegionFactory, SchemeFactory, UserFactory


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    user = factory.SubFactory(UserFactory)
    person = factory.SubFactory(PersonFactory)
    verified_at = factory.LazyFunction(timezone.now)
    provider = "dev"

    class Params:
        unverified = factory.Trait(verified_at=None)


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    account = factory.SubFactory(UserFactory)
    person = factory.SubFactory(PersonFactory)
    relationship = "parent"
    proof_kind = "hukou"


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EntryCriterion

    disease = factory.SubFactory(DiseaseFactory)
    text = factory.Sequence(lambda n: f"准入条件{n}")
    order = factory.Sequence(int)


class RequiredMaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequiredMaterial

    disease = factory.SubFactory(DiseaseFactory)
    code = factory.Sequence(lambda n: f"material-{n}")
    name = factory.Sequence(lambda n: f"诊断证明书{n}")
    required = True
    order = factory.Sequence(int)


def verified_citizen(**person_kwargs):
    """An account with a verified real-name identity; returns (user, person)."""
    identity = IdentityFactory(person=PersonFactory(**person_kwargs))
    return identity.user, identity.person


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A complete draft (patient, disease, diagnosis) unless a state trait says otherwise.
    Materials are not created: use ``UploadedMaterialFactory`` or ``complete_materials``."""

    class Meta:
        model = Application

    applicant = factory.SubFactory(UserFactory)
    patient = factory.SubFactory(PersonFactory)
    region = factory.LazyAttribute(lambda o: o.patient.region or RegionFactory())
    scheme = factory.LazyAttribute(lambda o: o.patient.scheme or SchemeFactory())
    disease = factory.LazyAttribute(lambda o: DiseaseFactory(region=o.region, schemes=[o.scheme]))
    diagnosis = "2型糖尿病"
    diagnosing_institution = factory.LazyAttribute(lambda o: InstitutionFactory(region=o.region))
    diagnosis_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    wizard_step = 5

    class Params:
        submitted = factory.Trait(
            status=ApplicationStatus.SUBMITTED,
            acceptance_number=factory.Sequence(lambda n: f"430500-20261122-{n + 1:06d}"),
            submitted_at=factory.LazyFunction(timezone.now),
            clock_started_at=factory.LazyFunction(timezone.now),
            consent_version="2026-11-v1",
            consent_at=factory.LazyFunction(timezone.now),
        )
        in_review = factory.Trait(submitted=True, status=ApplicationStatus.IN_REVIEW)
        supplement_requested = factory.Trait(
            submitted=True, status=ApplicationStatus.SUPPLEMENT_REQUESTED, clock_started_at=None
        )
        approved = factory.Trait(
            submitted=True, status=ApplicationStatus.APPROVED, decided_at=factory.LazyFunction(timezone.now)
        )
        rejected = factory.Trait(
            submitted=True, status=ApplicationStatus.REJECTED, decided_at=factory.LazyFunction(timezone.now)
        )
        withdrawn = factory.Trait(submitted=True, status=ApplicationStatus.WITHDRAWN)


class UploadedMaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadedMaterial

    application = factory.SubFactory(ApplicationFactory)
    slot = "diagnosis"
    file = factory.LazyFunction(lambda: ContentFile(corpus.pdf_bytes(), name="doc.pdf"))
    original_name = "诊断证明.pdf"
    content_type = "application/pdf"
    size = factory.LazyAttribute(lambda o: len(corpus.pdf_bytes()))
    sha256 = "0" * 64
    processed = True
    uploaded_by = factory.LazyAttribute(lambda o: o.application.applicant)

    class Params:
        flagged = factory.Trait(flagged_for_supplement=True, verdict="unreadable", verdict_note="照片模糊")


def complete_materials(application):
    """One file in every required slot of the application's disease (and the proxy slots)."""
    from applications import selectors

    own = selectors.account_person_id(user=application.applicant)
    for slot in selectors.material_slots(application=application, own_person_id=own):
        UploadedMaterialFactory(application=application, slot=slot["code"])


def supplement_request(application, *, items=None, flag=()):
    """What the reviews app does when it asks for more: flag files, list items in the event."""
    for material in flag:
        UploadedMaterial.objects.filter(pk=material.pk).update(flagged_for_supplement=True, verdict="unreadable")
    return ApplicationEvent.objects.create(
        application=application,
        kind=EventKind.SUPPLEMENT_REQUESTED,
        from_status=ApplicationStatus.IN_REVIEW,
        to_status=ApplicationStatus.SUPPLEMENT_REQUESTED,
        data={"items": items or []},
    )


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg_upload(name="photo.jpg", **kwargs):
    return upload(name, corpus.jpeg_bytes(**kwargs), "image/jpeg")



