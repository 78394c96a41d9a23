"""Demo accounts for the embedded default (`make run`). Refuses to run anywhere else."""
import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from applications.id_numbers import id_check_char

DEMO_ADMIN = ("admin", "admin-demo-2026")
# A citizen of 邵阳 (430502 双清区) and the mother she applies for (old 邵东县 code 430521: old
# address codes stay valid). Both numbers are made up but pass the GB 11643 check.
DEMO_CITIZEN_PHONE = "13800138000"
DEMO_CITIZEN = ("刘建华", "43050219680612032")
DEMO_PARENT = ("刘桂英", "43052119420305044")
DEMO_REGION_CODE = "430500"


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


def _demo_proof() -> SimpleUploadedFile:
    """A small grey PNG standing in for a photo of the 户口本 page."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (225, 225, 225)).save(buffer, format="PNG")
    return SimpleUploadedFile("户口本示例.png", buffer.getvalue(), content_type="image/png")


class Command(BaseCommand):
    help = "Create demo accounts (embedded default only) and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow outside the embedded default (tests)")

    def handle(self, *args, force: bool = False, **options):
        if not (settings.EMBEDDED or force):
            raise CommandError("seed_demo only runs in the embedded default (no DATABASE_URL).")
        User = get_user_model()
        username, password = DEMO_ADMIN
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        citizen_note = self._seed_citizen()
        self.stdout.write(self.style.SUCCESS("Demo accounts (embedded default only):"))
        self.stdout.write(f"  admin       /admin/      {username} / {password}")
        self.stdout.write(
            f"  citizen     /accounts/login/   mobile {DEMO_CITIZEN_PHONE}: press 获取验证码, "
            "then read the code at /dev/outbox/"
        )
        if citizen_note:
            self.stdout.write(f"              {citizen_note}")

    @transaction.atomic
    def _seed_citizen(self) -> str:
        """The demo citizen: verified identity in 邵阳 and a mother as household member. Idempotent."""
        from catalog.models import Region, Scheme
        from portal.models import HouseholdMember, ProofKind, Relationship
        from portal.selectors import identity_get_for_user
        from portal.services import household_member_add, identity_submit, identity_verify

        User = get_user_model()
        citizen = User.objects.filter(phone=DEMO_CITIZEN_PHONE).first()
        if citizen is None:
            citizen = User(username="demo_citizen", phone=DEMO_CITIZEN_PHONE, phone_verified=True)
            citizen.set_unusable_password()
            citizen.save()
        region = Region.objects.filter(code=DEMO_REGION_CODE).first()
        scheme = Scheme.objects.filter(code="employee_active").first() or Scheme.objects.first()
        if region is None or scheme is None:
            return "(catalog not loaded: run `manage.py load_catalog`, then seed_demo again for identity and family)"
        identity = identity_get_for_user(user=citizen)
        if identity is None or not identity.is_verified:
            identity_submit(
                user=citizen, full_name=DEMO_CITIZEN[0], id_number=_id(DEMO_CITIZEN[1]), region=region, scheme=scheme
            )
            # The development face check (the only provider allowed in the embedded default).
            identity_verify(user=citizen, data={})
        if not HouseholdMember.objects.filter(account=citizen).exists():
            household_member_add(
                account=citizen,
                full_name=DEMO_PARENT[0],
                id_number=_id(DEMO_PARENT[1]),
                relationship=Relationship.PARENT,
                proof_kind=ProofKind.HUKOU,
                proof_files=[_demo_proof()],
                region=region,
                scheme=Scheme.objects.filter(code="employee_retired").first() or scheme,
            )
        return f"{DEMO_CITIZEN[0][0]}** (verified, {region}), household: {DEMO_PARENT[0][0]}** (母亲)"
