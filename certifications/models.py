"""Life after approval: designated-hospital history, remote-care registrations (异地就医备案)
and an append-only event log per certification.

The certification record itself (``applications.Certification``) belongs to the shared contract;
this app only moves it through ``certifications.services``.
"""
from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from applications.models import Certification
from catalog.models import MedicalInstitution


def _private_path(prefix: str, filename: str) -> str:
    # Random names: the citizen's file name may contain their name or ID number.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"{prefix}/{uuid.uuid4().hex}{suffix}"


def remote_care_proof_path(instance: "RemoteCareRegistration", filename: str) -> str:
    return _private_path(f"remote-care/{instance.certification_id}", filename)


class CertificationEventKind(models.TextChoices):
    RENEWAL_REQUESTED = "renewal_requested", _("申请延期/复审")
    RENEWAL_REMINDED = "renewal_reminded", _("到期提醒")
    EXTENDED = "extended", _("有效期延长")
    EXPIRED = "expired", _("资格到期")
    HOSPITAL_CHANGED = "hospital_changed", _("变更定点医疗机构")
    REMOTE_CARE_FILED = "remote_care_filed", _("提交异地就医备案")
    REMOTE_CARE_APPROVED = "remote_care_approved", _("异地就医备案通过")
    REMOTE_CARE_REJECTED = "remote_care_rejected", _("异地就医备案未通过")
    REMOTE_CARE_CANCELLED = "remote_care_cancelled", _("取消异地就医备案")
    REMOTE_CARE_EXPIRED = "remote_care_expired", _("异地就医备案到期")


class CertificationEvent(models.Model):
    """Append-only trail of a certification. ``key`` makes periodic work idempotent: a sweep that
    runs twice for the same certification and date hits the unique constraint and does nothing."""

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=30, choices=CertificationEventKind.choices)
    key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("资格记录")
        verbose_name_plural = _("资格记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.created_at:%Y-%m-%d %H:%M}"


class HospitalChange(models.Model):
    """One choice of designated hospital. The first choice (no ``from_institution``) is not a
    change and does not count against the yearly limit."""

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="hospital_changes")
    from_institution = models.ForeignKey(
        MedicalInstitution, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("原定点")
    )
    to_institution = models.ForeignKey(
        MedicalInstitution, on_delete=models.PROTECT, related_name="+", verbose_name=_("新定点")
    )
    # The calendar year in Asia/Shanghai, stored so the yearly count is one indexed filter.
    year = models.PositiveSmallIntegerField(_("年度"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("变更时间"))

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["certification", "year"], name="hospital_change_year_idx")]
        verbose_name = _("定点变更记录")
        verbose_name_plural = _("定点变更记录")

    @property
    def counts_as_change(self) -> bool:
        return self.from_institution_id is not None


class RemoteCareKind(models.TextChoices):
    LONG_TERM = "long_term", _("异地长期居住")
    TEMPORARY = "temporary", _("临时外出就医")


class RemoteCareReason(models.TextChoices):
    RETIRED = "retired", _("异地安置退休")
    LIVING = "living", _("异地长期居住")
    WORKING = "working", _("常驻异地工作")
    REFERRAL = "referral", _("异地转诊就医")
    OTHER_TEMPORARY = "other_temporary", _("其他临时外出就医")


LONG_TERM_REASONS = frozenset({RemoteCareReason.RETIRED, RemoteCareReason.LIVING, RemoteCareReason.WORKING})


class RemoteCareStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("已备案")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已到期")


REMOTE_CARE_OPEN = frozenset({RemoteCareStatus.PENDING, RemoteCareStatus.ACTIVE})


class RemoteCareRegistration(models.Model):
    """异地就医备案 for one certification. Long-term ones have no end date (valid until cancelled);
    temporary ones last at least six months (checked in the service: calendar months)."""

    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="remote_care")
    region = models.ForeignKey("catalog.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("参保地"))
    kind = models.CharField(_("备案类型"), max_length=20, choices=RemoteCareKind.choices)
    reason = models.CharField(_("备案原因"), max_length=20, choices=RemoteCareReason.choices)
    province = models.CharField(_("就医省份"), max_length=20)
    city = models.CharField(_("就医城市"), max_length=30)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    proof = models.FileField(_("证明材料"), upload_to=remote_care_proof_path, max_length=200)
    proof_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    proof_content_type = models.CharField(max_length=60, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=RemoteCareStatus.choices, default=RemoteCareStatus.PENDING)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人"))
    filed_at = models.DateTimeField(_("提交时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("审核人")
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("终止时间"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("异地就医备案")
        verbose_name_plural = _("异地就医备案")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="long_term") & Q(end_date__isnull=True))
                | (Q(kind="temporary") & Q(end_date__isnull=False) & Q(end_date__gt=models.F("start_date"))),
                name="remote_care_end_matches_kind",
            ),
            # At most one pending or active registration per certification.
            models.UniqueConstraint(
                fields=["certification"],
                condition=Q(status__in=["pending", "active"]),
                name="remote_care_one_open_per_certification",
            ),
        ]
        indexes = [models.Index(fields=["status", "end_date"], name="remote_care_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.province}{self.city} ({self.get_status_display()})"
