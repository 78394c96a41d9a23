"""The standard lists staff pick from when deciding (the free text adds the case's specifics)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class RejectionReason(models.TextChoices):
    NOT_IN_CATALOG = "not_in_catalog", _("所患疾病不在本地区门特病种目录内")
    CRITERIA_NOT_MET = "criteria_not_met", _("未达到该病种的准入标准")
    HOSPITAL_LEVEL = "hospital_level", _("诊断医院级别不符合要求")
    SCHEME_NOT_ELIGIBLE = "scheme_not_eligible", _("参保类型不适用该病种")
    NOT_INSURED = "not_insured", _("未在本统筹区参保或参保状态异常")
    ALREADY_CERTIFIED = "already_certified", _("已有该病种的有效门特资格")
    MATERIALS_FALSE = "materials_false", _("材料不真实或与患者本人不符")
    OTHER = "other", _("其他")

