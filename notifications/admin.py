"""Staff view of the outbox: delivery status per notification, dead rows one click away, resend
through the service. Phone numbers are masked in lists; rows are read-only (services write)."""
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext

from notifications.models import DevSms, Notification, NotificationStatus
from notifications.phones import phone_mask
from notifications.services import notification_resend


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("需处理")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return (("dead", _("最终失败")), ("uncertain", _("结果待核实")))

    def queryset(self, request, queryset):
        if self.value() == "dead":
            return queryset.filter(status=NotificationStatus.DEAD)
        if self.value() == "uncertain":
            return queryset.filter(delivery_uncertain=True)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "template_key",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "delivery_uncertain",
        "provider",
        "sent_at",
        "short_error",
    )
    list_filter = (NeedsAttentionFilter, "status", "channel", "template_key", "provider")
    search_fields = ("recipient", "event_key", "=provider_message_id", "=reference")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("resend",)
    readonly_fields = (
        "event_key",
        "channel",
        "masked_recipient",
        "user",
        "template_key",
        "params",
        "urgent",
        "status",
        "attempts",
        "delivery_uncertain",
        "last_error",
        "provider",
        "provider_message_id",
        "reference",
        "not_before",
        "created_at",
        "claimed_at",
        "sent_at",
        "read_at",
    )
    exclude = ("recipient",)

    @admin.display(description=_("接收方"), ordering="recipient")
    def masked_recipient(self, obj: Notification) -> str:
        return phone_mask(obj.recipient)

    @admin.display(description=_("最近错误"))
    def short_error(self, obj: Notification) -> str:
        return (obj.last_error[:60] + "…") if len(obj.last_error) > 60 else obj.last_error

    @admin.action(
        description=_("重新发送所选的失败短信（待核实的请先在通道商后台确认未发出）"), permissions=["resend"]
    )
    def resend(self, request, queryset):
        done, refused = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                notification_resend(notification_id=pk, by=request.user)
                done += 1
            except ValidationError as exc:
                refused.append(f"#{pk}: {' '.join(exc.messages)}")
        if done:
            self.message_user(
                request, gettext("已重新排队 %(count)s 条短信。") % {"count": done}, messages.SUCCESS
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Read-only: a form save would overwrite status fields a worker may be updating. Changes
        # go through services (the resend action).
        return False

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("notifications.change_notification")


@admin.register(DevSms)
class DevSmsAdmin(admin.ModelAdmin):
    list_display = ("created_at", "masked_phone", "template_key", "text")
    search_fields = ("phone", "reference")
    readonly_fields = ("phone", "template_key", "text", "params", "message_id", "reference", "created_at")

    @admin.display(description=_("手机号"), ordering="phone")
    def masked_phone(self, obj: DevSms) -> str:
        return phone_mask(obj.phone)

    def has_add_permission(self, request):
        return False
