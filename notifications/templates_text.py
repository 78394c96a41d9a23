"""Citizen-facing texts per template key. Short, Chinese, with the acceptance number and the next
step; never a full ID number or a diagnosis. SMS providers only send pre-approved templates, so the
keys here map 1:1 to the provider template codes configured in the environment, and the order of
the ``%(name)s`` placeholders is the order of a Tencent template's ``{1}``, ``{2}`` ...

Placeholders are limited to ``ALLOWED_FIELDS``: none of them can carry a diagnosis or an ID number.
"""
from __future__ import annotations

import functools
import re

from django.utils import translation
from django.utils.translation import gettext_lazy as _

TEMPLATES: dict[str, str] = {
    "login_code": _("您的登录验证码为 %(code)s，5 分钟内有效。请勿告诉他人。"),
    "application_submitted": _("您的门特申请已受理，受理编号 %(number)s。可在“我的申请”查看进度。"),
    "supplement_requested": _("您的门特申请 %(number)s 需补正材料，请登录“我的申请”查看一次性告知清单并补传。"),
    "application_resubmitted": _("您的门特申请 %(number)s 补正材料已收到，审核时限重新计算。"),
    "application_approved": _("您的门特申请 %(number)s 已通过审核，待遇自认定之日起享受。"),
    "application_rejected": _("您的门特申请 %(number)s 未通过审核，原因可在“我的申请”查看。"),
    "application_withdrawn": _("您的门特申请 %(number)s 已撤回。如需办理可重新申请。"),
    "certification_expiring": _("您的门特待遇（受理编号 %(number)s）将于 %(end_date)s 到期，请在到期前登录申请延期。"),
    "extension_submitted": _("您的门特延期申请已受理，受理编号 %(number)s。可在“我的申请”查看进度。"),
    "extension_decided": _("您的门特延期申请 %(number)s 已办结，请登录“我的申请”查看结果。"),
    "extension_approved": _("您的门特延期申请 %(number)s 已通过，待遇有效期至 %(end_date)s。"),
    "extension_rejected": _("您的门特延期申请 %(number)s 未通过，原因可在“我的申请”查看。"),
    "certification_expired": _("您的门特待遇（受理编号 %(number)s）已于 %(end_date)s 到期。如需继续享受，请重新申请认定。"),
    "remote_care_approved": _("您的门特异地就医备案（受理编号 %(number)s）已通过，可在备案地联网定点医院直接结算。"),
    "remote_care_rejected": _("您的门特异地就医备案（受理编号 %(number)s）未通过，原因请登录“我的门特资格”查看。"),
    "remote_care_expired": _("您的门特临时异地就医备案（受理编号 %(number)s）已于 %(end_date)s 到期，如仍需请重新备案。"),
    "reviews_overdue_digest": _("您所在机构有 %(count)s 件门特申请已超过审核时限，请登录审核工作台处理。"),
    # Sent instead of a code when enumeration prevention hides whether a number is registered.
    "login_unknown_account": _("本手机号尚未注册门特服务，所以没有登录验证码。如需办理，请在登录页点“用手机号注册”。非本人操作请忽略。"),
    "signup_account_exists": _("本手机号已注册过门特服务，无需再注册，请在登录页用短信验证码直接登录。非本人操作请忽略。"),
}

# Short headings for the message centre (the SMS itself has none).
TITLES: dict[str, str] = {
    "login_code": _("登录验证码"),
    "application_submitted": _("申请已受理"),
    "supplement_requested": _("需补正材料"),
    "application_resubmitted": _("补正材料已收到"),
    "application_approved": _("审核通过"),
    "application_rejected": _("审核未通过"),
    "application_withdrawn": _("申请已撤回"),
    "certification_expiring": _("待遇即将到期"),
    "extension_submitted": _("延期申请已受理"),
    "extension_decided": _("延期申请已办结"),
    "extension_approved": _("延期申请通过"),
    "extension_rejected": _("延期申请未通过"),
    "certification_expired": _("待遇已到期"),
    "remote_care_approved": _("异地就医备案通过"),
    "remote_care_rejected": _("异地就医备案未通过"),
    "remote_care_expired": _("异地就医备案到期"),
    "reviews_overdue_digest": _("超时待审提醒"),
    "login_unknown_account": _("手机号尚未注册"),
    "signup_account_exists": _("手机号已注册"),
}

# Reminders, not results: always held during quiet hours, whatever the caller passes as ``urgent``
# (a nightly job at 00:20 must not wake anyone with an expiry notice).
REMINDERS = frozenset({"certification_expiring", "certification_expired", "remote_care_expired", "reviews_overdue_digest"})

# Every placeholder a template may use. A disease name or an ID number has no field to travel in.
ALLOWED_FIELDS = frozenset({"code", "number", "end_date", "count"})

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# 18-character resident ID number (or 17 digits + X) anywhere in a value.
_ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def template_fields(template_key: str) -> list[str]:
    """The placeholders of a template in the order they appear in the Chinese text (the order of a
    Tencent template's positional variables; a translation may reorder them, the SMS may not)."""
    return list(_source_fields(template_key))


@functools.cache
def _source_fields(template_key: str) -> tuple[str, ...]:
    # The Chinese source of a template does not change while the process runs; switching the
    # language off to read it was most of the message centre's text rendering (20 per page).
    with translation.override(None):
        source = str(_template(template_key))
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(source)))


def template_params(template_key: str, params: dict) -> dict[str, str]:
    """The params a template needs, as strings, with anything looking like an ID number masked.

    Raises ``KeyError`` for an unknown template and ``ValueError`` for a missing placeholder key:
    both are programming errors that must surface in the caller's tests, not at 3 a.m. in a worker.
    """
    fields = template_fields(template_key)
    missing = [name for name in fields if params.get(name) is None]
    if missing:
        raise ValueError(f"template {template_key!r} needs {missing}")
    return {name: _ID_NUMBER.sub(_mask_id, str(params[name])) for name in fields}


def render_text(template_key: str, params: dict) -> str:
    return str(_template(template_key)) % template_params(template_key, params)


def render_title(template_key: str) -> str:
    return str(TITLES.get(template_key, _("通知")))


def _template(template_key: str):
    template = TEMPLATES.get(template_key)
    if template is None:
        raise KeyError(f"unknown notification template {template_key!r}")
    return template


def _mask_id(match: re.Match) -> str:
    value = match.group(0)
    return value[:3] + "*" * 11 + value[-4:]
