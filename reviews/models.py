"""Who reviews: organisations, their regions, staff membership, and the experts' opinions.

Roles (reviewer, medical expert, supervisor) are Django groups (``reviews.roles``); what a staff
member may *see* is decided by the organisation's regions, in ``reviews.selectors``.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import MedicalInstitution, Region, ReviewerKind


class ReviewingOrganisation(models.Model):
    """An insurance agency office (经办机构) or a designated hospital that reviews cases."""

    name = models.CharField(_("机构名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=ReviewerKind.choices, default=ReviewerKind.AGENCY)
    institution = models.ForeignKey(
        MedicalInstitution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("对应医疗机构"),
        help_text=_("定点医院承担认定时填写"),
    )
    regions = models.ManyToManyField(Region, related_name="reviewing_organisations", verbose_name=_("负责地区"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("审核机构")
        verbose_name_plural = _("审核机构")
        # Custom permissions carried by the role groups (see reviews.roles).
        permissions = [
            ("decide_application", _("可以作出审核决定")),
            ("decide_escalated", _("可以裁定专家意见不一致的申请")),
            ("record_expert_opinion", _("可以填写专家意见")),
            ("reveal_id_number", _("可以查看完整身份证号")),
            ("export_queue", _("可以导出审核队列")),
            ("view_dashboard", _("可以查看监督看板")),
            ("counter_file", _("可以窗口代录申请")),
        ]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """A staff account belongs to one organisation; its regions are the staff member's scope."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_membership", verbose_name=_("账户")
    )
    organisation = models.ForeignKey(
        ReviewingOrganisation, on_delete=models.PROTECT, related_name="members", verbose_name=_("审核机构")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("机构人员")
        verbose_name_plural = _("机构人员")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"


class Recommendation(models.TextChoices):
    APPROVE = "approve", _("同意认定")
    REJECT = "reject", _("不同意认定")


class ExpertOpinion(models.Model):
    """One medical expert's opinion in one review round.

    ``round_started_at`` is the case's ``clock_started_at`` when the opinion was given: after a
    supplement the clock restarts and earlier opinions no longer count toward agreement.
    """

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="expert_opinions"
    )
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("专家"))
    round_started_at = models.DateTimeField()
    recommendation = models.CharField(_("意见"), max_length=10, choices=Recommendation.choices)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("专家意见")
        verbose_name_plural = _("专家意见")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "expert", "round_started_at"], name="expert_opinion_once_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.expert} · {self.get_recommendation_display()}"
