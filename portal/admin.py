"""Staff views of accounts. Identity and household rows are read-only here: they change only
through ``portal.services`` (the citizen's own pages), so the admin can look but not edit."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from applications.id_numbers import mask_id_number, mask_name
from portal.models import HouseholdMember, HouseholdProof, Identity, User
from portal.phone_numbers import phone_mask


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "masked_phone", "phone_verified", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "phone_verified")
    search_fields = ("username", "phone")
    fieldsets = (*DjangoUserAdmin.fieldsets, (_("手机号"), {"fields": ("phone", "phone_verified")}))

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return phone_mask(obj.phone) if obj.phone else "—"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    list_display = ("user", "masked_name", "masked_id_number", "region", "scheme", "verified_at", "provider")
    list_filter = ("provider", "region", "scheme")
    list_select_related = ("user", "person", "region", "scheme")
    search_fields = ("user__phone",)
    fields = ("user", "masked_name", "masked_id_number", "region", "scheme", "verified_at", "provider", "provider_reference")
    readonly_fields = fields

    @admin.display(description=_("姓名"))
    def masked_name(self, obj):
        return mask_name(obj.person.full_name)

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.person.id_number)


class HouseholdProofInline(admin.TabularInline):
    model = HouseholdProof
    fields = ("role", "original_name", "content_type", "size", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HouseholdMember)
class HouseholdMemberAdmin(ReadOnlyAdmin):
    list_display = ("account", "masked_name", "masked_id_number", "relationship", "proof_kind", "created_at")
    list_filter = ("relationship", "proof_kind")
    list_select_related = ("account", "person")
    search_fields = ("account__phone",)
    fields = ("account", "masked_name", "masked_id_number", "relationship", "proof_kind", "created_at")
    readonly_fields = fields
    inlines = [HouseholdProofInline]

    @admin.display(description=_("姓名"))
    def masked_name(self, obj):
        return mask_name(obj.person.full_name)

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.person.id_number)
