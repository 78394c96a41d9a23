"""Certification state for tests: a verified citizen, an approved first application and the
certification it produced, with traits for the lifecycle states."""
import datetime as dt
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from applications.models import Application, ApplicationKind, ApplicationStatus, Certification
from certifications.models import (
    CertificationEvent,
    CertificationEventKind,
    HospitalChange,
    RemoteCareKind,
    RemoteCareReason,
    RemoteCareRegistration,
)
from portal.models import HouseholdMember, Identity
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, RegionFactory, SchemeFactory, UserFactory


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    """A real (tiny) PNG: the upload checker reads the bytes, not the name."""
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 120, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def citizen(person=None, **user_kwargs):
    """An account whose real-name identity is verified for ``person`` (a new one by default)."""
    user = UserFactory(**user_kwargs)
    person = person or PersonFactory()
    Identity.objects.create(user=user, person=person, verified_at=timezone.now(), provider="test")
    return user, person


def household_member(*, account, person=None):
    person = person or PersonFactory()
    HouseholdMember.objects.create(account=account, person=person, relationship="parent", proof_kind="hukou")
    return person


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    kind = ApplicationKind.INITIAL
    status = ApplicationStatus.APPROVED
    acceptance_number = factory.Sequence(lambda n: f"430500-20260101-{900000 + n:06d}")
    applicant = factory.SubFactory(UserFactory)
    patient = factory.SubFactory(PersonFactory)
    region = factory.LazyAttribute(lambda o: o.patient.region or RegionFactory())
    scheme = factory.LazyAttribute(lambda o: o.patient.scheme or SchemeFactory())
    disease = factory.LazyAttribute(lambda o: DiseaseFactory(region=o.region))
    submitted_at = factory.LazyFunction(timezone.now)
    decided_at = factory.LazyFunction(timezone.now)

    class Params:
        rejected = factory.Trait(status=ApplicationStatus.REJECTED)


class CertificationFactory(factory.django.DjangoModelFactory):
    """Valid for a year from 2026-01-01 by default; pass ``enddate`` for the edge under test."""

    class Meta:
        model = Certification

    application = factory.SubFactory(ApplicationFactory)
    person = factory.LazyAttribute(lambda o: o.application.patient)
    region = factory.LazyAttribute(lambda o: o.application.region)
    scheme = factory.LazyAttribute(lambda o: o.application.scheme)
    disease = factory.LazyAttribute(lambda o: o.application.disease)
    opsp_dise_code = factory.LazyAttribute(lambda o: o.disease.code)
    opsp_dise_name = factory.LazyAttribute(lambda o: o.disease.name)
    begndate = dt.date(2026, 1, 1)
    enddate = dt.date(2026, 12, 31)

    class Params:
        long_term = factory.Trait(enddate=None)


class HospitalChangeFactory(factory.django.DjangoModelFactory):
    """The first choice of designated hospital (no ``from_institution``) unless one is given."""

    class Meta:
        model = HospitalChange

    certification = factory.SubFactory(CertificationFactory)
    to_institution = factory.LazyAttribute(lambda o: InstitutionFactory(region=o.certification.region))
    year = factory.LazyAttribute(lambda o: o.changed_at.year)
    changed_by = factory.LazyAttribute(lambda o: o.certification.application.applicant)
    changed_at = factory.LazyFunction(timezone.now)


class CertificationEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CertificationEvent

    certification = factory.SubFactory(CertificationFactory)
    kind = CertificationEventKind.RENEWAL_REMINDED


class RemoteCareRegistrationFactory(factory.django.DjangoModelFactory):
    """A pending temporary registration; the proof is only a stored name (no file is written)."""

    class Meta:
        model = RemoteCareRegistration

    certification = factory.SubFactory(CertificationFactory)
    region = factory.LazyAttribute(lambda o: o.certification.region)
    kind = RemoteCareKind.TEMPORARY
    reason = RemoteCareReason.REFERRAL
    province = "广东省"
    city = "广州市"
    start_date = dt.date(2026, 3, 1)
    end_date = dt.date(2026, 9, 1)
    proof = "remote-care/proof.png"
    proof_name = "转诊证明.png"
    proof_content_type = "image/png"
    filed_by = factory.LazyAttribute(lambda o: o.certification.application.applicant)
    filed_at = factory.LazyFunction(timezone.now)
