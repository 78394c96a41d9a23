from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """An account: a citizen (logs in by mobile number) or a staff member.

    The mobile number is stored normalised as 11 digits (see ``portal.phone_numbers``); staff may
    have none. Real-name identity lives in its own model so an account can exist before it.
    """

    phone = models.CharField(_("手机号"), max_length=11, unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(_("手机号已验证"), default=False)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")


class Session(AbstractBaseSession):
    """A session (``SESSION_ENGINE = "portal.sessions"``), with the account signed in to it.

    Django's session row plus its account's key, written from the session's own
    ``_auth_user_id`` on every save: a signed-in request reads its session and its account in one
    statement (``portal.sessions``), and an account's sessions can be found (and ended) by key.
    """

    # No foreign-key constraint: a request still holding a session of an account deleted
    # meanwhile saves it without an error (the account's deletion removed its other sessions).
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, db_constraint=False, related_name="+"
    )

    class Meta(AbstractBaseSession.Meta):
        db_table = "portal_session"

    @classmethod
    def get_session_store_class(cls):
        from portal.sessions import SessionStore

        return SessionStore


class Identity(models.Model):
    """The account holder's real-name identity (实名认证). Submitting needs ``verified_at``.

    Written only by ``portal.services.identity_submit`` / ``identity_verify``.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="identity")
    person = models.ForeignKey("applications.Person", on_delete=models.PROTECT, related_name="identities")
    # What the citizen declared; copied to the shared Person only once the face check passed, so an
    # unverified claim on someone else's ID number can never change their record.
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("参保地")
    )
    scheme = models.ForeignKey(
        "catalog.Scheme", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("参保类型")
    )
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    provider = models.CharField(_("核验方式"), max_length=30, blank=True)
    provider_reference = models.CharField(_("核验流水号"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("实名信息")
        verbose_name_plural = _("实名信息")
        constraints = [
            # One person, one verified account: a second account proving the same ID is refused.
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(verified_at__isnull=False), name="identity_verified_once"
            )
        ]

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Relationship(models.TextChoices):
    PARENT = "parent", _("父母")
    CHILD = "child", _("子女")
    SPOUSE = "spouse", _("配偶")
    SIBLING = "sibling", _("兄弟姐妹")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    OTHER = "other", _("其他（授权委托）")


class ProofKind(models.TextChoices):
    HUKOU = "hukou", _("户口本")
    BIRTH_CERTIFICATE = "birth_certificate", _("出生证明")
    AUTHORIZATION = "authorization", _("授权委托书")


class HouseholdMember(models.Model):
    """Someone the account may apply for (家庭成员). The person row is shared across accounts."""

    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="household")
    person = models.ForeignKey("applications.Person", on_delete=models.PROTECT, related_name="household_links")
    relationship = models.CharField(_("关系"), max_length=20, choices=Relationship.choices)
    proof_kind = models.CharField(_("证明材料"), max_length=30, choices=ProofKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        constraints = [models.UniqueConstraint(fields=["account", "person"], name="household_member_once")]


class ProofRole(models.TextChoices):
    RELATIONSHIP = "relationship", _("关系证明")
    AGENT_ID = "agent_id", _("代办人身份证")


def household_proof_upload_to(instance, filename: str) -> str:
    """A random name: neither the citizen's file name nor any ID number reaches the storage path."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"household/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{extension}"


class HouseholdProof(models.Model):
    """A page of 户口本 / 出生证明 / 授权委托书, or the agent's ID card. Private; served by an access-checked view."""

    member = models.ForeignKey(HouseholdMember, on_delete=models.CASCADE, related_name="proofs")
    role = models.CharField(_("用途"), max_length=20, choices=ProofRole.choices, default=ProofRole.RELATIONSHIP)
    file = models.FileField(_("文件"), upload_to=household_proof_upload_to, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["member", "role", "created_at", "pk"]
        verbose_name = _("家庭成员证明材料")
        verbose_name_plural = _("家庭成员证明材料")

    def __str__(self) -> str:
        return self.original_name
