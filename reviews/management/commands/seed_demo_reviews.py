"""Demo reviewing organisations, staff and a small queue for the embedded default (`make run`).

Idempotent; refuses to run outside the embedded default. Run after ``load_catalog`` and
``seed_demo`` (the demo cases belong to seed_demo's citizen and go through the applications
services, exactly as if she had filed them online).

Second factor: the embedded default has ``STAFF_MFA_REQUIRED`` off, so the demo staff sign in with
username and password only. With ``STAFF_MFA_REQUIRED=1`` this command enrols each demo account
with a TOTP secret and prints it (add it to any authenticator app, or compute the code with
``oathtool --totp -b <secret>``); production always requires enrolment at first login.
"""
from __future__ import annotations

import datetime as dt
import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from reviews.roles import StaffRole

DEMO_PASSWORD = "review-demo-2026"
# username, region code, roles, what to print
DEMO_STAFF = (
    ("sy_reviewer", "430500", (StaffRole.REVIEWER,), "邵阳 reviewer"),
    ("lps_reviewer", "520200", (StaffRole.REVIEWER,), "六盘水 reviewer"),
    ("sy_supervisor", "430500", (StaffRole.SUPERVISOR,), "邵阳 supervisor (dashboard, escalated cases)"),
    ("sy_expert1", "430500", (StaffRole.EXPERT,), "邵阳 medical expert"),
    ("sy_expert2", "430500", (StaffRole.EXPERT,), "邵阳 medical expert"),
)
DEMO_CASES = 3


def _demo_scan(label: str) -> SimpleUploadedFile:
    """A light grey page standing in for a photographed document."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 900), (236, 236, 230))
    ImageDraw.Draw(image).rectangle((40, 40, 600, 120), outline=(120, 120, 120), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return SimpleUploadedFile(f"{label}.jpg", buffer.getvalue(), content_type="image/jpeg")


class Command(BaseCommand):
    help = "Create demo reviewing organisations, staff accounts and queue cases (embedded default only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow outside the embedded default (tests)")

    def handle(self, *args, force: bool = False, **options):
        if not (settings.EMBEDDED or force):
            raise CommandError("seed_demo_reviews only runs in the embedded default (no DATABASE_URL).")
        from catalog.models import Region
        from reviews.services import staff_groups_ensure

        staff_groups_ensure()
        regions = list(Region.objects.select_related("settings"))
        if not regions:
            raise CommandError("No regions: run `manage.py load_catalog` first.")
        organisations = {region.code: self._organisation(region) for region in regions}
        lines = []
        for username, code, roles, label in DEMO_STAFF:
            organisation = organisations.get(code)
            if organisation is None:
                continue
            user, secret = self._staff(username, organisation, roles)
            lines.append((username, label, organisation.name, secret))
        cases_note = self._cases()

        self.stdout.write(self.style.SUCCESS("Demo reviewing staff (embedded default only), at /admin/:"))
        for username, label, organisation, secret in lines:
            self.stdout.write(f"  {username:<14} / {DEMO_PASSWORD}   {label} — {organisation}")
            if secret:
                self.stdout.write(f"                 TOTP secret {secret}  (oathtool --totp -b {secret})")
        if not settings.STAFF_MFA_REQUIRED:
            self.stdout.write("  Second factor is off in the embedded default (STAFF_MFA_REQUIRED=0); "
                              "set STAFF_MFA_REQUIRED=1 and run again to enrol demo staff with TOTP.")
        self.stdout.write(f"  Queue: {cases_note}")

    @transaction.atomic
    def _organisation(self, region):
        """One reviewing organisation per region, of the kind the region's settings name."""
        from catalog.models import MedicalInstitution, ReviewerKind
        from reviews.models import ReviewingOrganisation

        kind = getattr(getattr(region, "settings", None), "reviewer_kind", ReviewerKind.AGENCY)
        institution = None
        if kind == ReviewerKind.HOSPITALS:
            institution = (
                MedicalInstitution.objects.filter(region=region, level__gte=2)
                .order_by("-may_review", "-level", "name")
                .first()
            )
        name = institution.name if institution else f"{region.city}医疗保障事务中心"
        organisation, _created = ReviewingOrganisation.objects.get_or_create(
            name=name,
            defaults={"kind": ReviewerKind.HOSPITALS if institution else ReviewerKind.AGENCY, "institution": institution},
        )
        organisation.regions.add(region)
        return organisation

    @transaction.atomic
    def _staff(self, username, organisation, roles):
        from reviews.models import StaffMembership
        from reviews.security import totp_authenticator_get

        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        StaffMembership.objects.get_or_create(user=user, defaults={"organisation": organisation})
        user.groups.add(*Group.objects.filter(name__in=[str(role) for role in roles]))
        secret = None
        if settings.STAFF_MFA_REQUIRED:
            from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
            from allauth.mfa.utils import decrypt

            authenticator = totp_authenticator_get(user=user)
            if authenticator is None:
                secret = generate_totp_secret()
                TOTP.activate(user, secret)
            else:
                secret = decrypt(authenticator.data["secret"])
        return user, secret

    def _cases(self) -> str:
        """A few submitted 邵阳 cases of seed_demo's citizen, filed through the applications services."""
        from applications import services as app_services
        from applications.consent import CURRENT_VERSION
        from applications.models import Application, ApplicationStatus
        from catalog.models import Disease, MedicalInstitution
        from portal.selectors import identity_get_for_user

        User = get_user_model()
        citizen = User.objects.filter(username="demo_citizen").first()
        identity = identity_get_for_user(user=citizen) if citizen else None
        if identity is None or not identity.is_verified:
            return "no demo cases (run `manage.py seed_demo` first for the demo citizen)"
        existing = Application.objects.filter(applicant=citizen).exclude(status=ApplicationStatus.DRAFT).count()
        person = identity.person
        diseases = list(
            Disease.objects.filter(region=person.region, schemes=person.scheme).prefetch_related("materials")[:DEMO_CASES]
        )
        hospital = MedicalInstitution.objects.filter(region=person.region, level__gte=2).order_by("-level").first()
        if not diseases or hospital is None:
            return "no demo cases (no diseases or hospitals loaded for the demo region)"
        taken = set(Application.objects.filter(applicant=citizen).values_list("disease_id", flat=True))
        for disease in diseases[existing:]:
            if disease.pk in taken:
                continue
            with transaction.atomic():
                draft = app_services.application_create_draft(user=citizen, patient=person)
                app_services.application_set_disease(
                    application=draft, region=person.region, scheme=person.scheme, disease=disease,
                    self_check={str(c.pk): True for c in disease.criteria.all()},
                )
                app_services.application_set_disease_info(
                    application=draft, diagnosis=disease.name, diagnosing_institution=hospital,
                    diagnosis_date=timezone.localdate() - dt.timedelta(days=40), designated_institution=None,
                )
                for material in disease.materials.all():
                    app_services.material_add(application=draft, user=citizen, slot=material.code,
                                              file=_demo_scan(material.name))
                app_services.application_submit(application=draft, user=citizen, consent_version=CURRENT_VERSION)
        count = Application.objects.filter(applicant=citizen).exclude(status=ApplicationStatus.DRAFT).count()
        return f"{count} submitted case(s) of demo_citizen in {person.region} (sy_reviewer sees them, lps_reviewer does not)"
