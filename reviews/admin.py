"""The staff UI: the review queue, the decision page, the dashboard and the CSV export.

Every queryset starts from ``reviews.selectors.application_list_for_staff``; every change calls a
service in ``reviews.services`` and reports its ``ValidationError`` with ``message_user``.
"""
from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin

from applications.id_numbers import mask_id_number, mask_name
from applications.models import Application, Certification
from catalog.models import Disease, Region
from catalog.working_days import calendar_warning_years
from reviews import dashboard, services
from reviews.forms import DecisionForms
from reviews.models import ReviewingOrganisation, StaffMembership
from reviews.selectors import (
    DEADLINE_LABELS,
    DeadlineState,
    application_filter_deadline,
    application_list_for_staff,
    deadline_state,
    expert_opinion_list_current,
    region_ids_for_staff,
    staff_list_for_application,
)


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` + 1 rows (``COUNT(*)`` over a ``LIMIT`` subquery), never the table.

    The queue only needs "more than ten thousand" to be true, not the exact figure; the last
    pages beyond the cap are reached by narrowing the filters.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()


class RegionScopeFilter(admin.SimpleListFilter):
    title = gettext_lazy("地区")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        region_ids = region_ids_for_staff(user=request.user)
        regions = Region.objects.all() if region_ids is None else Region.objects.filter(pk__in=region_ids)
        return [(r.pk, str(r)) for r in regions]

    def queryset(self, request, queryset):
        return queryset.filter(region_id=self.value()) if self.value() else queryset


class DiseaseScopeFilter(admin.SimpleListFilter):
    """Diseases of the staff member's regions, read from the catalog (not a DISTINCT over cases)."""

    title = gettext_lazy("病种")
    parameter_name = "disease"

    def lookups(self, request, model_admin):
        region_ids = region_ids_for_staff(user=request.user)
        diseases = Disease.objects.select_related("region")
        if region_ids is not None:
            diseases = diseases.filter(region_id__in=region_ids)
        return [(d.pk, f"{d.name}（{d.region.city}）") for d in diseases]

    def queryset(self, request, queryset):
        return queryset.filter(disease_id=self.value()) if self.value() else queryset


class DeadlineFilter(admin.SimpleListFilter):
    title = gettext_lazy("时限")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [(state.value, DEADLINE_LABELS[state]) for state in DeadlineState]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            state = DeadlineState(self.value())
        except ValueError:
            return queryset
        return application_filter_deadline(queryset=queryset, state=state)


class AssigneeFilter(admin.SimpleListFilter):
    title = gettext_lazy("经办人")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", gettext_lazy("分配给我")), ("none", gettext_lazy("未分配"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


class AssignActionForm(ActionForm):
    assignee = forms.CharField(label=gettext_lazy("分配给（用户名）"), required=False, max_length=150)


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = (
        "acceptance_number",
        "patient_masked",
        "disease",
        "region_city",
        "submitted_on",
        "due_on",
        "deadline_badge",
        "assignee",
        "status",
    )
    list_display_links = ("acceptance_number",)
    list_filter = ("status", RegionScopeFilter, DiseaseScopeFilter, DeadlineFilter, AssigneeFilter)
    list_select_related = ("patient", "disease", "region", "assignee")
    search_fields = ("acceptance_number",)
    search_help_text = gettext_lazy("按受理编号查询（完整编号或前缀）")
    date_hierarchy = "submitted_at"
    ordering = ("due_at", "pk")
    list_per_page = 100
    show_full_result_count = False
    # Facet counts run one COUNT per filter option over the whole queue: not on a large table.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    actions = ("claim_selected", "release_selected", "assign_selected", "export_selected_csv")
    action_form = AssignActionForm
    change_form_template = "admin/reviews/application_review.html"

    class Media:
        css = {"all": ("reviews/admin.css",)}

    # --- scope ------------------------------------------------------------------------------

    def get_queryset(self, request):
        # The admin never sees a row the scope selector does not return: lists, change views,
        # actions, downloads and exports all pass through here or through the selector directly.
        return application_list_for_staff(user=request.user)

    def get_changelist(self, request, **kwargs):
        return ReviewQueueChangeList

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        # Acceptance numbers only (exact or prefix): an ID number typed here finds nothing.
        return queryset.filter(Q(acceptance_number=term) | Q(acceptance_number__startswith=term)), False

    def has_add_permission(self, request):
        return False  # staff file for walk-in citizens through the counter form (reviews.views)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("reviews.decide_application"):
            for name in ("claim_selected", "release_selected", "assign_selected"):
                actions.pop(name, None)
        if not request.user.has_perm("reviews.export_queue"):
            actions.pop("export_selected_csv", None)
        return actions

    # --- columns ----------------------------------------------------------------------------
    # A page lists 100 cases: per-row work is multiplied by 100, so the columns below are plain
    # strings. Django's own checkbox column builds and renders a form widget through the template
    # engine per row (a quarter of the page's time in the profile, bench/RESULTS.md).

    def action_checkbox(self, obj):  # the header cell comes from Django, by this name
        # What two format_html calls gave (5 % of a 100-row page): the same escaping, written out.
        label = _("Select this object for an action - {}").format(escape(str(obj)))
        return mark_safe(
            f'<input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{escape(obj.pk)}" class="action-select"'
            f' aria-label="{label}">'
        )

    @admin.display(description=Application._meta.get_field("submitted_at").verbose_name, ordering="submitted_at")
    def submitted_on(self, obj):
        return _local_minute(obj.submitted_at)

    @admin.display(description=Application._meta.get_field("due_at").verbose_name, ordering="due_at")
    def due_on(self, obj):
        return _local_minute(obj.due_at)

    @admin.display(description=gettext_lazy("患者"), ordering="patient__full_name")
    def patient_masked(self, obj):
        return mask_name(obj.patient.full_name) if obj.patient_id else "—"

    @admin.display(description=gettext_lazy("地区"), ordering="region__code")
    def region_city(self, obj):
        return obj.region.city if obj.region_id else "—"

    @admin.display(description=gettext_lazy("时限状态"))
    def deadline_badge(self, obj):
        state = deadline_state(application=obj, now=self._now)
        if state is None:
            return "—"
        return format_html('<span class="review-badge review-badge--{}">{}</span>', state.value, state.label)

    @cached_property
    def _now(self):
        return timezone.now()

    def changelist_view(self, request, extra_context=None):
        # One "now" per page so every badge on it agrees.
        self.__dict__.pop("_now", None)
        extra_context = extra_context or {}
        if request.method == "GET":
            for year in calendar_warning_years():
                self.message_user(request, _calendar_warning(year), messages.WARNING)
        extra_context["can_dashboard"] = request.user.has_perm("reviews.view_dashboard")
        extra_context["can_export"] = request.user.has_perm("reviews.export_queue")
        extra_context["can_counter"] = request.user.has_perm("reviews.counter_file")
        self.change_list_template = "admin/reviews/application_change_list.html"
        return super().changelist_view(request, extra_context=extra_context)

    # --- bulk actions -----------------------------------------------------------------------

    def _run_bulk(self, request, queryset, call, done_message):
        done = 0
        for application_id in queryset.values_list("pk", flat=True):
            try:
                call(application_id)
                done += 1
            except (ValidationError, PermissionDenied, Application.DoesNotExist) as error:
                self.message_user(request, _error_text(error, application_id), messages.WARNING)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("领取所选申请"))
    def claim_selected(self, request, queryset):
        self._run_bulk(
            request, queryset,
            lambda pk: services.application_claim(application_id=pk, user=request.user),
            _("已领取 %(count)s 件申请。"),
        )

    @admin.action(description=gettext_lazy("退回所选申请到队列"))
    def release_selected(self, request, queryset):
        self._run_bulk(
            request, queryset,
            lambda pk: services.application_release(application_id=pk, user=request.user),
            _("已退回 %(count)s 件申请。"),
        )

    @admin.action(description=gettext_lazy("分配所选申请"))
    def assign_selected(self, request, queryset):
        from django.contrib.auth import get_user_model

        username = (request.POST.get("assignee") or "").strip()
        assignee = get_user_model().objects.filter(username=username, is_staff=True, is_active=True).first()
        if assignee is None:
            self.message_user(request, _("请在“分配给”中填写有效的工作人员用户名。"), messages.ERROR)
            return
        self._run_bulk(
            request, queryset,
            lambda pk: services.application_assign(application_id=pk, assignee=assignee, actor=request.user),
            _("已分配 %(count)s 件申请。"),
        )

    @admin.action(description=gettext_lazy("导出所选申请（CSV，身份证号已脱敏）"))
    def export_selected_csv(self, request, queryset):
        return _csv_response(queryset)

    # --- custom views -----------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="reviews_dashboard"),
            path("export.csv", wrap(self.export_view), name="reviews_export"),
            path(
                "<int:object_id>/materials/<int:material_id>/",
                wrap(xframe_options_sameorigin(self.material_view)),
                name="reviews_material",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The filtered queue as CSV: the same filters and search as the list, through its scope."""
        if not request.user.has_perm("reviews.export_queue"):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return _csv_response(changelist.get_queryset(request))

    def material_view(self, request, object_id: int, material_id: int):
        """One uploaded file, for staff who may see the case (inline: images and embedded PDFs)."""
        from reviews.materials import material_list_current

        application = self.get_queryset(request).filter(pk=object_id).first()
        if application is None or not self.has_view_permission(request, application):
            raise Http404
        material = material_list_current(application=application).filter(pk=material_id).first()
        if material is None:
            material = application.materials.filter(pk=material_id).first()
        if material is None:
            raise Http404
        response = FileResponse(material.file.open("rb"), content_type=material.content_type)
        response["Content-Disposition"] = "inline"
        # The file is shown inside the review page's frame and must not run anything itself.
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; frame-ancestors 'self'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def dashboard_view(self, request):
        if not request.user.has_perm("reviews.view_dashboard"):
            raise PermissionDenied
        data = dashboard.dashboard_build(cases=self.get_queryset(request))
        context = {
            **self.admin_site.each_context(request),
            "title": _("监督看板"),
            "opts": self.model._meta,
            "data": data,
            "calendar_warning_years": calendar_warning_years(),
        }
        return TemplateResponse(request, "admin/reviews/dashboard.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The decision page: summary, materials beside the entry standard, decision forms."""
        application = self.get_object(request, object_id)
        if application is None or not self.has_view_permission(request, application):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        revealed_id = None
        forms_ = DecisionForms(application=application, user=request.user, data=request.POST or None)
        if request.method == "POST":
            action = request.POST.get("action", "")
            try:
                result = forms_.run(action)
            except (ValidationError, PermissionDenied, Application.DoesNotExist) as error:
                self.message_user(request, _error_text(error, application.pk), messages.ERROR)
                return HttpResponseRedirect(request.path)
            if action == "reveal":
                revealed_id = result
            elif result is not None:
                self.message_user(request, result, messages.SUCCESS)
                return HttpResponseRedirect(request.path)
            application = self.get_object(request, object_id)
        return self._render_review(request, application, forms_, revealed_id)

    def _render_review(self, request, application, forms_, revealed_id):
        from reviews.materials import material_list_current

        materials = list(material_list_current(application=application))
        if application.disease_id:
            required = list(application.disease.materials.all())
            names = {m.code: m.name for m in required}
            for item in materials:
                item.slot_name = names.get(item.slot, item.slot)
            criteria = list(application.disease.criteria.all())
        else:
            required, criteria = [], []
        events = application.events.select_related("actor").order_by("created_at", "pk")
        context = {
            **self.admin_site.each_context(request),
            "title": str(application),
            "opts": self.opts,
            "original": application,
            "application": application,
            "patient_name": mask_name(application.patient.full_name) if application.patient_id else "",
            "patient_id_masked": mask_id_number(application.patient.id_number) if application.patient_id else "",
            "revealed_id": revealed_id,
            "deadline": deadline_state(application=application),
            "materials": materials,
            "required_materials": required,
            "criteria": criteria,
            "forms": forms_,
            "opinions": list(expert_opinion_list_current(application=application)),
            "events": events,
            "assignable": staff_list_for_application(application=application),
            "has_view_permission": True,
            "is_open": application.status in ("submitted", "in_review", "escalated"),
            "expert_review": bool(getattr(application.region, "settings", None) and application.region.settings.expert_review),
            "media": self.media,
        }
        return TemplateResponse(request, self.change_form_template, context)


def _calendar_warning(year: int) -> str:
    return _(
        "%(year)s 年的节假日安排尚未录入：办结期限暂按周一至周五计算。"
        "请在“节假日安排”中录入国务院公布的放假和调休日期。"
    ) % {"year": year}


def _error_text(error, application_id) -> str:
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    if isinstance(error, Application.DoesNotExist):
        return _("申请 %(id)s 不存在或不在您的办理范围内。") % {"id": application_id}
    return _("您没有执行此操作的权限。")


CSV_HEADER = (
    "受理编号", "状态", "地区", "病种", "患者", "身份证号（脱敏）", "提交时间", "办结期限", "时限状态", "经办人", "渠道",
)


class _Echo:
    def write(self, value):
        return value


class ReviewQueueChangeList(ChangeList):
    """The queue's list, with each row's link built from one reversal a page.

    Django reverses every row's change URL and, on a filtered page, resolves it again against the
    whole URLconf to append the filters (``add_preserved_filters``): 18 % of a filtered 100-row
    page in the profile (bench/RESULTS.md). Here Django's own two functions run once, on a URL with
    a placeholder for the key, and each row only puts its key in; the links are the same strings
    (tests/reviews/test_queue_rows.py).
    """

    _PK_PLACEHOLDER = "queuerowkeyplaceholder"  # letters only: admin's quote() leaves it as it is

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        row_url = add_preserved_filters(
            {"preserved_filters": self.preserved_filters, "opts": self.opts}, super().url_for_result(_KeyOnly(self))
        )
        self._row_url_parts = row_url.split(self._PK_PLACEHOLDER)
        # The links carry the filters already: the template tag then has nothing to resolve.
        # (items_for_result is the only reader of the attribute; the page's other links take the
        # filters from the view's context.)
        self.preserved_filters = ""

    def url_for_result(self, result):
        before, after = self._row_url_parts
        return f"{before}{quote(getattr(result, self.pk_attname))}{after}"

    def get_queryset(self, request, exclude_parameters=None):
        # The list never shows the diagnosis or the ID number: not decrypting them for every row,
        # nor building the joined rows' other columns. (The CSV export asks for everything again
        # with defer(None); an action's queryset starts from here.)
        return super().get_queryset(request, exclude_parameters).only(*_QUEUE_COLUMNS)


# What the list reads: the case's own columns but the diagnosis, and of each joined row only what
# a column shows (the person's masked name, the disease's and assignee's names, the city). A new
# column reading another joined field must be added here, or each row loads it with a query of its
# own (tests/test_admin_query_counts.py fails then).
_QUEUE_COLUMNS = (
    *(f.name for f in Application._meta.concrete_fields if f.name != "diagnosis"),
    "patient__full_name", "disease__name", "region__city", "assignee__username",
)


class _KeyOnly:
    """Stands in for a row when the row URL is reversed once (``ReviewQueueChangeList``)."""

    def __init__(self, changelist: ChangeList):
        setattr(self, changelist.pk_attname, ReviewQueueChangeList._PK_PLACEHOLDER)


def _local_minute(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _csv_response(queryset):
    """Stream the rows (a large export never sits in memory); ID numbers only masked."""
    # defer(None): the changelist's queryset skips the ID number, which the export prints masked.
    rows = queryset.defer(None).select_related("patient", "disease", "region", "assignee").order_by("pk")
    now = timezone.now()

    def generate():
        writer = csv.writer(_Echo())
        yield "\ufeff"  # Excel opens UTF-8 Chinese correctly only with a BOM
        yield writer.writerow(CSV_HEADER)
        for app in rows.iterator(chunk_size=500):
            state = deadline_state(application=app, now=now)
            yield writer.writerow(
                (
                    app.acceptance_number or "",
                    app.get_status_display(),
                    app.region.city if app.region_id else "",
                    app.disease.name if app.disease_id else "",
                    mask_name(app.patient.full_name) if app.patient_id else "",
                    mask_id_number(app.patient.id_number) if app.patient_id else "",
                    timezone.localtime(app.submitted_at).strftime("%Y-%m-%d %H:%M") if app.submitted_at else "",
                    timezone.localtime(app.due_at).strftime("%Y-%m-%d %H:%M") if app.due_at else "",
                    state.label if state else "",
                    app.assignee.username if app.assignee_id else "",
                    app.get_entry_channel_display(),
                )
            )

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="review-queue-{timezone.localdate():%Y%m%d}.csv"'
    return response


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ("opsp_dise_name", "person", "region", "scheme", "begndate", "enddate", "status")
    list_filter = ("status", "region")
    list_select_related = ("person", "region", "scheme")
    readonly_fields = tuple(f.name for f in Certification._meta.fields)
    show_full_result_count = False
    paginator = CappedCountPaginator

    def get_queryset(self, request):
        # A certification is visible exactly when its application is.
        visible = application_list_for_staff(user=request.user).values("pk")
        return super().get_queryset(request).filter(application_id__in=visible)

    def has_add_permission(self, request):
        return False  # created only by the approve service

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(ReviewingOrganisation)
class ReviewingOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "region_list")
    list_filter = ("kind",)
    filter_horizontal = ("regions",)
    inlines = (StaffMembershipInline,)

    def get_queryset(self, request):
        organisations = super().get_queryset(request).prefetch_related("regions")
        region_ids = region_ids_for_staff(user=request.user)
        if region_ids is None:
            return organisations
        # A supervisor sees the organisations working in their own regions, not the whole country.
        return organisations.filter(regions__in=region_ids).distinct()

    @admin.display(description=gettext_lazy("负责地区"))
    def region_list(self, obj):
        return "、".join(r.city for r in obj.regions.all())


# Staff sign in with a second factor and a lockout (reviews.security); ``login_form`` is the
# AdminSite's documented hook for this, so the shared site object needs no subclass.
from reviews.security import StaffLoginForm  # noqa: E402

admin.site.login_form = StaffLoginForm


# --- staff-entered holidays for years chinesecalendar does not know yet -----------------------
from catalog.models import CalendarDay  # noqa: E402
from catalog.working_days import YearSource, year_source  # noqa: E402


class CalendarDayAdmin(admin.ModelAdmin):
    """Where a supervisor enters next year's 放假 and 调休 days once the State Council publishes
    them (see catalog.working_days); the list warns while a year still runs on plain weekdays."""

    list_display = ("date", "weekday", "is_workday", "name", "source")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)

    @admin.display(description=gettext_lazy("星期"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for year in calendar_warning_years():
                self.message_user(request, _calendar_warning(year), messages.WARNING)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        if year_source(obj.date.year) is YearSource.PACKAGE:
            # The package already knows this year; a row here would be ignored (working_days).
            self.message_user(request, _("该年份的节假日已由系统日历提供，本条记录不会生效。"), messages.WARNING)
        super().save_model(request, obj, form, change)


# The catalog area may register it first; one registration is enough.
if not admin.site.is_registered(CalendarDay):
    admin.site.register(CalendarDay, CalendarDayAdmin)
