"""Staff views of remote-care registrations, hospital changes and follow-up materials.

Every change goes through ``certifications.services`` (admin actions), never a model save.
"""
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from certifications import services
from certifications.models import CertificationEvent, HospitalChange, RemoteCareRegistration, RemoteCareStatus


def staff_region_scope(request, queryset, *, region_field: str):
    """Limit a queryset to the regions the staff member serves, through the reviews area's scope
    selector (``reviews.selectors.region_ids_for_staff``: None = every region, [] = none)."""
    from reviews.selectors import region_ids_for_staff

    region_ids = region_ids_for_staff(user=request.user)
    if region_ids is None:
        return queryset
    return queryset.filter(**{f"{region_field}__in": region_ids})


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RemoteCareRegistration)
class RemoteCareRegistrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "certification", "kind", "province", "city", "start_date", "end_date", "status", "filed_at")
    list_filter = ("status", "kind", "region")
    list_select_related = ("certification",)
    search_fields = ("province", "city")
    actions = ("approve", "reject")
    readonly_fields = ("certification", "region", "kind", "reason", "province", "city", "start_date", "end_date",
                       "proof_link", "status", "filed_by", "filed_at", "decided_by", "decided_at", "decision_note")

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        return staff_region_scope(request, super().get_queryset(request), region_field="region")

    def get_urls(self):
        from django.urls import path

        return [
            path("<int:pk>/proof/", self.admin_site.admin_view(self.proof_view), name="certifications_remotecare_proof"),
        ] + super().get_urls()

    def proof_view(self, request, pk: int):
        """The proof file, for staff whose region scope includes the registration."""
        from django.http import FileResponse, Http404

        registration = self.get_queryset(request).filter(pk=pk).first()
        if registration is None or not self.has_view_permission(request, registration):
            raise Http404
        response = FileResponse(registration.proof.open("rb"), content_type=registration.proof_content_type or "application/octet-stream")
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("证明材料"))
    def proof_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        return format_html('<a href="{}">{}</a>', reverse("admin:certifications_remotecare_proof", args=[obj.pk]), obj.proof_name or _("查看"))

    def _decide(self, request, queryset, *, approve: bool):
        done = 0
        for registration in queryset.filter(status=RemoteCareStatus.PENDING):
            try:
                # A refusal needs a reason; the bulk action records the standard one.
                services.remote_care_decide(registration=registration, user=request.user, approve=approve,
                                            note="" if approve else str(_("证明材料不符合要求，请重新提交。")))
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已处理 %(count)s 条备案。") % {"count": done})

    @admin.action(description=_("通过所选备案"))
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("不通过所选备案"))
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def get_actions(self, request):
        # Actions are decisions, not edits: staff who may view the queue may decide.
        actions = super().get_actions(request)
        return actions if request.user.is_staff else {}


@admin.register(HospitalChange)
class HospitalChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("certification", "from_institution", "to_institution", "year", "changed_at")
    list_filter = ("year",)
    list_select_related = ("certification", "from_institution", "to_institution")

    def get_queryset(self, request):
        return staff_region_scope(request, super().get_queryset(request), region_field="certification__region")


@admin.register(CertificationEvent)
class CertificationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("certification", "kind", "actor", "created_at")
    list_filter = ("kind",)
    list_select_related = ("certification", "actor")

    def get_queryset(self, request):
        return staff_region_scope(request, super().get_queryset(request), region_field="certification__region")
