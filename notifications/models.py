"""The outbox: a notification is a row first (written in the same transaction as its cause),
a Celery task second. This app is a leaf: it imports no domain app.

Life of an SMS row: pending → sending (claimed, attempts + 1) → sent; a failed attempt goes to
failed with ``not_before`` set by exponential backoff, and after the last attempt to dead. An
in-site (inbox) row is delivered by being written, so it is created as sent. See
``notifications/README.md``.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    INBOX = "inbox", _("站内消息")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败（将重试）")
    DEAD = "dead", _("最终失败")


class Notification(models.Model):
    event_key = models.CharField(_("事件"), max_length=120)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("接收方"), max_length=64, help_text=_("手机号或账户 ID"))
    # No index of its own: notification_inbox_idx leads with the user. Every status change of a row
    # (claimed, sent) writes an entry into each index, so an index no query needs is pure write load.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications",
        db_index=False,
    )
    template_key = models.CharField(_("模板"), max_length=60)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    urgent = models.BooleanField(_("紧急"), default=True, help_text=_("非紧急提醒在夜间（21:00–08:00）暂缓发送"))
    status = models.CharField(
        _("状态"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    provider = models.CharField(_("通道商"), max_length=30, blank=True)
    provider_message_id = models.CharField(_("通道商消息 ID"), max_length=100, blank=True)
    not_before = models.DateTimeField(_("最早发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # Sent to the provider with every attempt (Aliyun OutId, Tencent SessionContext): the one key
    # by which we can later ask the provider "did you already get this?" before sending again.
    reference = models.UUIDField(_("发送流水号"), default=uuid.uuid4, unique=True, editable=False)
    # True from the moment a provider call starts until the provider answers: a crash, a timeout or
    # a killed worker leaves it set, and the next attempt must look the reference up first.
    delivery_uncertain = models.BooleanField(
        _("结果待核实"), default=False, help_text=_("上次发送结果未知；重发前先向通道商查询")
    )

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(fields=["event_key", "channel", "recipient"], name="notification_once_per_event")
        ]
        indexes = [
            # Only rows not yet sent: the sweep and the admin's "needs attention" look for those, and
            # a row that is sent leaves the index instead of adding an entry to it.
            models.Index(fields=["status", "created_at"], name="notification_sweep_idx", condition=~Q(status=NotificationStatus.SENT)),
            models.Index(fields=["user", "channel", "-created_at"], name="notification_inbox_idx"),
            # Per-number limits count a recipient's recent rows before every provider call.
            models.Index(fields=["recipient", "channel", "created_at"], name="notification_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_key} → {self.get_channel_display()} ({self.get_status_display()})"


class DevSms(models.Model):
    """What the development gateway 'sent': read by /dev/outbox/ and by tests."""

    phone = models.CharField(max_length=20)
    template_key = models.CharField(max_length=60)
    text = models.TextField()
    params = models.JSONField(default=dict)
    message_id = models.CharField(max_length=40)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Declared here rather than as unique=True / db_index=True, which on PostgreSQL also build a
        # second (LIKE-prefix) index per column that no query uses and every send would write.
        constraints = [models.UniqueConstraint(fields=["message_id"], name="devsms_message_id_unique")]
        indexes = [models.Index(fields=["reference"], name="devsms_reference_idx")]
        verbose_name = _("开发短信")
        verbose_name_plural = _("开发短信")
