"""Citizen-facing texts per template key. Short, Chinese, with the acceptance number and the next
step; never a full ID number or a diagnosis. SMS providers only send pre-approved templates, so the
keys here map 1:1 to the provider template codes configured in the environment."""
from django.utils.translation import gettext_lazy as _

TEMPLATES: dict[str, str] = {
    "login_code": _("您的登录验证码为 %(code)s，5 分钟内有效。请勿告诉他人。"),
    "application_submitted": _("您的门特申请已受理，受理编号 %(number)s。可在“我的申请”查看进度。"),
    "supplement_requested": _("您的门特申请 %(number)s 需补正材料，请登录“我的申请”查看一次性告知清单并补传。"),
    "application_approved": _("您的门特申请 %(number)s 已通过审核，待遇自认定之日起享受。"),
    "application_rejected": _("您的门特申请 %(number)s 未通过审核，原因可在“我的申请”查看。"),
}


def render_text(template_key: str, params: dict) -> str:
    template = TEMPLATES.get(template_key)
    if template is None:
        raise KeyError(f"unknown notification template {template_key!r}")
    return str(template) % params
