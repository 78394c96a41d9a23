"""Import and export of a region's official disease list (CSV / XLSX) with django-import-export.

One file is one region's list: the region is chosen on the import form, never read from the file,
so a row can neither land in another region nor match another region's disease by code.
"""
from __future__ import annotations

import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from catalog.models import Disease, DiseaseCategory, Region, Scheme

SCHEME_SEPARATORS = re.compile(r"[,;|、，；\s]+")


class CategoryWidget(widgets.ForeignKeyWidget):
    """A category by its name or code, looked up only within the region being imported."""

    def __init__(self, region: Region | None):
        super().__init__(DiseaseCategory, field="name")
        self.region = region

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip() if isinstance(value, str) else value
        if not value:
            raise ValueError(_("病种类别不能为空"))
        try:
            return DiseaseCategory.objects.get(Q(name=value) | Q(code=value), region=self.region)
        except DiseaseCategory.DoesNotExist:
            raise ValueError(_("该地区没有病种类别“%(name)s”，请先在“病种类别”中添加") % {"name": value}) from None


class SchemesWidget(widgets.ManyToManyWidget):
    """Schemes by code or name, separated by commas, semicolons, | or 、."""

    def __init__(self):
        super().__init__(Scheme, field="code", separator="|")

    def clean(self, value, row=None, **kwargs):
        tokens = [t for t in SCHEME_SEPARATORS.split(str(value or "").strip()) if t]
        if not tokens:
            raise ValueError(_("至少填写一个参保类型"))
        schemes = list(Scheme.objects.filter(Q(code__in=tokens) | Q(name__in=tokens)))
        known = {s.code for s in schemes} | {s.name for s in schemes}
        unknown = [t for t in tokens if t not in known]
        if unknown:
            raise ValueError(_("未知的参保类型：%(names)s") % {"names": "、".join(unknown)})
        return schemes


class DiseaseResource(resources.ModelResource):
    region = fields.Field(attribute="region__code", column_name="region", readonly=True)
    category = fields.Field(attribute="category", column_name="category")
    schemes = fields.Field(attribute="schemes", column_name="schemes", widget=SchemesWidget(), m2m_add=False)

    class Meta:
        model = Disease
        fields = (
            "region", "code", "name", "category", "schemes", "icd10_hint", "entry_standard",
            "min_hospital_level", "validity_rule", "validity_months", "rereview_required",
            "cross_province_direct_settlement", "order", "source", "verified",
        )
        export_order = fields
        import_id_fields = ("code",)
        # full_clean() on every row: the model's choices and constraints reject bad values
        # (validity rule without months, duplicate names) with a message for that row.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, region: Region | None = None, **kwargs):
        super().__init__(**kwargs)
        self.region = region
        self.fields["category"].widget = CategoryWidget(region)

    def get_queryset(self):
        queryset = Disease.objects.select_related("region", "category").prefetch_related("schemes")
        return queryset.filter(region=self.region) if self.region else queryset

    def init_instance(self, row=None):
        return Disease(region=self.region)

    def before_import(self, dataset, **kwargs):
        if self.region is None:
            raise ValueError("an import needs the region it is for")

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # Schemes are saved after the row (many-to-many); check them now so a bad value is a
        # validation error on this row rather than a failure after saving.
        if "schemes" in row:
            try:
                self.fields["schemes"].clean(row)
            except ValueError as exc:
                errors["schemes"] = [str(exc)]
        # A file exported from another region must not be imported here by mistake.
        file_region = str(row.get("region") or "").strip()
        if file_region and file_region != self.region.code:
            errors.setdefault(NON_FIELD_ERRORS, []).append(
                _("此行属于地区 %(row)s，与所选地区 %(chosen)s 不符") % {"row": file_region, "chosen": self.region.code}
            )
        if not (instance.source or "").strip():
            instance.source = _("管理员导入：%(file)s") % {"file": kwargs.get("file_name") or "?"}
        if errors:
            raise ValidationError(errors)

    def dehydrate_category(self, disease: Disease) -> str:
        return disease.category.name

    def dehydrate_schemes(self, disease: Disease) -> str:
        return "|".join(s.code for s in disease.schemes.all())
