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
