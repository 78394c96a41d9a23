"""Review-area factories: organisations, staff in role groups, cases in each lifecycle state."""
import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from applications.models import Application, ApplicationStatus, UploadedMaterial
from catalog.working_days import add_working_time
from reviews.models import ReviewingOrganisation, StaffMembership
from reviews.roles import StaffRole
from tests.factories import DiseaseFactory, PersonFactory, RegionFactory, SchemeFactory, UserFactory

REGIONS = {
    "430500": ("湖南省", "邵阳市"),
    "520200": ("贵州省", "六盘水市"),
    "411000": ("河南省", "许昌市"),
    "429006": ("湖北省", "天门市"),
}

# The smallest valid PNG and PDF, enough for the inline viewers.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\x81\x1b\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def region(code: str):
    province, city = REGIONS[code]
    return RegionFactory(code=code, province=province, city=city)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewingOrganisation
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试医保经办机构{n}")
    kind = "agency"

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.add(*extracted)


def staff_user(*, organisation=None, roles=(StaffRole.REVIEWER,), username=None, superuser=False):
    """A staff account in ``organisation`` with the given role groups."""
    kwargs = {"staff": True}
    if username:
        kwargs["username"] = username
    user = UserFactory(is_superuser=superuser, **kwargs)
    if organisation is not None:
        StaffMembership.objects.get_or_create(user=user, defaults={"organisation": organisation})
    for role in roles:
        user.groups.add(Group.objects.get(name=str(role)))
    return user


_sequence = iter(range(1, 10**6))


def submitted_application(*, region_obj=None, status=ApplicationStatus.SUBMITTED, submitted_at=None, disease=None,
                          assignee=None, **extra) -> Application:
    """A case as it stands after submission: acceptance number, clock and due time set."""
    region_obj = region_obj or region("430500")
    disease = disease or DiseaseFactory(region=region_obj)
    submitted_at = submitted_at or timezone.now() - dt.timedelta(hours=1)
    patient = PersonFactory(region=region_obj)
    n = next(_sequence)
    defaults = dict(
        status=status,
        applicant=UserFactory(),
        patient=patient,
        region=region_obj,
        scheme=SchemeFactory(),
        disease=disease,
        acceptance_number=f"{region_obj.code}-{submitted_at:%Y%m%d}-{n:05d}",
        submitted_at=submitted_at,
        clock_started_at=submitted_at,
        due_at=add_working_time(start=submitted_at, days=Decimal(region_obj.settings.review_deadline_days),
                                settings=region_obj.settings),
        assignee=assignee,
    )
    defaults.update(extra)
    return Application.objects.create(**defaults)


def material(*, application, slot="diagnosis", pdf=False, name=None) -> UploadedMaterial:
    content = PDF_BYTES if pdf else PNG_BYTES
    item = UploadedMaterial(
        application=application,
        slot=slot,
        original_name=name or ("诊断证明.pdf" if pdf else "诊断证明.png"),
        content_type="application/pdf" if pdf else "image/png",
        size=len(content),
        sha256="0" * 64,
        uploaded_by=application.applicant,
    )
    item.file.save("x.pdf" if pdf else "x.png", ContentFile(content), save=False)
    item.save()
    return item
