"""Presentation helpers for catalog pages (labels and number formats, no rules)."""
import re
from decimal import Decimal

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Channel kinds used in the data files' ``channels`` lists.
CHANNEL_KINDS = {
    "app": _("手机APP"),
    "web": _("网站"),
    "wechat": _("微信"),
    "alipay": _("支付宝"),
    "window": _("线下窗口"),
    "hospital": _("定点医疗机构"),
}


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    number = (Decimal(value) * 100).normalize()
    return f"{number:f}%"


@register.filter
def plain_number(value: Decimal | None) -> str:
    """``Decimal("0.50")`` → ``0.5``, ``Decimal("8.00")`` → ``8`` (working days, amounts)."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


@register.filter
def channel_kind(kind: str) -> str:
    return CHANNEL_KINDS.get(kind, kind)


@register.filter
def tel_href(number: str) -> str:
    """``0374-3156600`` → ``tel:03743156600`` (phones dial the digits only)."""
    return "tel:" + re.sub(r"[^\d+]", "", number or "")
