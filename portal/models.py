from django.contrib.auth.models import AbstractUser
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


class Identity(models.Model):
    """The account holder's real-name identity (实名认证). Submitting needs ``verified_at``."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="identity")
    person = models.ForeignKey("applications.Person", on_delete=models.PROTECT, related_name="identities")
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    provider = models.CharField(_("核验方式"), max_length=30, blank=True)
    provider_reference = models.CharField(_("核验流水号"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("实名信息")
        verbose_name_plural = _("实名信息")

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
