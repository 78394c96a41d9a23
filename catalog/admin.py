"""The staff UI for the catalog. The official list of a region comes in through the import
(preview first, then confirm; all or nothing); everything else is reference data edited here."""
from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm, ImportForm

from catalog.models import (
    Disease,
    DiseaseCategory,
    EntryCriterion,
    MedicalInstitution,
    ReimbursementPolicy,
    Region,
    RequiredMaterial,
    Scheme,
    ServiceSettings,
)
from catalog.resources import DiseaseResource


class CategoryLabelsMixin:
    """A category's label names its region: every category dropdown loads the regions with the
    categories (else each option costs a query)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":
            kwargs.setdefault("queryset", DiseaseCategory.objects.select_related("region"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceSettingsInline(admin.StackedInline):
    model = ServiceSettings
    can_delete = False
    extra = 0


class CategoryInline(admin.TabularInline):
    model = DiseaseCategory
    extra = 0
    fields = ("code", "name", "declared_count", "order", "source", "verified")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region")  # each row's label names it


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "province", "city", "declared_count", "verified")
    list_filter = ("province", "verified")
    search_fields = ("code", "province", "city")
    list_select_related = ("settings",)
    inlines = (ServiceSettingsInline, CategoryInline)

    @admin.display(description=_("官方病种数"))
    def declared_count(self, region: Region):
        settings = getattr(region, "settings", None)
        return settings.declared_disease_count if settings else None


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(admin.ModelAdmin):
    list_display = ("region", "review_deadline_days", "review_deadline_note", "reviewer_kind", "expert_review",
                    "declared_disease_count", "verified")
    list_filter = ("reviewer_kind", "expert_review", "verified")
    search_fields = ("region__city", "region__code")
    list_select_related = ("region",)


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "fund", "order")
    search_fields = ("code", "name")


@admin.register(DiseaseCategory)
class DiseaseCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "region", "declared_count", "order", "verified")
    list_filter = ("region", "verified")
    search_fields = ("name", "code")
    list_select_related = ("region",)


class EntryCriterionInline(admin.TabularInline):
    model = EntryCriterion
    extra = 0
    fields = ("order", "text", "source", "verified")


class RequiredMaterialInline(admin.TabularInline):
    model = RequiredMaterial
    extra = 0
    fields = ("order", "code", "name", "description", "issuer_min_level", "recency_months", "required", "source", "verified")


class CategoryListFilter(admin.RelatedFieldListFilter):
    """The stock category filter, with each category's region (part of its label) read in the
    same query instead of one query per category."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        categories = DiseaseCategory.objects.select_related("region")
        if ordering:
            categories = categories.order_by(*ordering)
        return [(category.pk, str(category)) for category in categories]


class RegionImportForm(ImportForm):
    region = forms.ModelChoiceField(label=_("导入到地区"), queryset=Region.objects.all())


class RegionConfirmImportForm(ConfirmImportForm):
    region = forms.ModelChoiceField(queryset=Region.objects.all(), widget=forms.HiddenInput())


@admin.register(Disease)
class DiseaseAdmin(CategoryLabelsMixin, ImportExportModelAdmin):
    list_display = ("name", "code", "region", "category", "cross_province_direct_settlement", "illustrative", "verified")
    list_filter = (
        "region", ("category", CategoryListFilter), "verified", "cross_province_direct_settlement", "validity_rule",
        "schemes",
    )
    search_fields = ("name", "code", "icd10_hint")
    # A category's label names its region.
    list_select_related = ("region", "category", "category__region")
    filter_horizontal = ("schemes",)
    inlines = (EntryCriterionInline, RequiredMaterialInline)
    resource_classes = (DiseaseResource,)
    import_form_class = RegionImportForm
    confirm_form_class = RegionConfirmImportForm

    @admin.display(boolean=True, description=_("示例数据"))
    def illustrative(self, disease: Disease) -> bool:
        return disease.is_illustrative

    # --- import: the region comes from the form; every step is all or nothing -------------
    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        region = getattr(form, "cleaned_data", {}).get("region") if form is not None else None
        return {"region": region} if region else {}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["region"] = import_form.cleaned_data["region"].pk
        return initial

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        # The confirm step re-runs the import for real; a row that became invalid since the
        # preview must roll the whole file back, not be skipped silently.
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return kwargs

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            self.message_user(request, _("导入失败，未写入任何数据：文件中有错误的行，请修正后重新导入。"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:catalog_disease_import"))
        return super().process_result(result, request)


@admin.register(EntryCriterion)
class EntryCriterionAdmin(admin.ModelAdmin):
    list_display = ("text", "disease", "order", "verified")
    list_filter = ("disease__region", "verified")
    search_fields = ("text", "disease__name")
    list_select_related = ("disease",)


@admin.register(RequiredMaterial)
class RequiredMaterialAdmin(admin.ModelAdmin):
    list_display = ("name", "disease", "issuer_min_level", "recency_months", "required", "verified")
    list_filter = ("disease__region", "required", "issuer_min_level", "verified")
    search_fields = ("name", "code", "disease__name")
    list_select_related = ("disease",)


@admin.register(ReimbursementPolicy)
class ReimbursementPolicyAdmin(CategoryLabelsMixin, admin.ModelAdmin):
    list_display = ("region", "scheme", "disease", "category", "deductible", "ratio", "annual_cap", "verified")
    list_filter = ("region", "scheme", "verified")
    search_fields = ("disease__name", "category__name", "region__city")
    list_select_related = ("region", "scheme", "disease", "category", "category__region")


@admin.register(MedicalInstitution)
class MedicalInstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "level", "grade", "district", "designated", "may_review", "verified")
    list_filter = ("region", "level", "designated", "may_review", "verified")
    search_fields = ("name", "district")
    list_select_related = ("region",)
