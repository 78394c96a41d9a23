"""Forms of the decision page. They parse input and call exactly one service each."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import Application, MaterialVerdict
from reviews import services
from reviews.materials import material_list_current
from reviews.models import Recommendation
from reviews.reasons import RejectionReason


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("不通过原因"), choices=RejectionReason.choices)
    note = forms.CharField(label=gettext_lazy("具体说明（申请人可见）"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class OpinionForm(forms.Form):
    recommendation = forms.ChoiceField(label=gettext_lazy("专家意见"), choices=Recommendation.choices)
    note = forms.CharField(label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SupplementForm(forms.Form):
    """One verdict field per current document, plus free-text extra items (one per line)."""

    extra_items = forms.CharField(
        label=gettext_lazy("另需补充的材料（每行一项）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    note = forms.CharField(label=gettext_lazy("给申请人的说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.materials = list(materials)
        verdict_choices = [c for c in MaterialVerdict.choices if c[0] != MaterialVerdict.PENDING]
        for material in self.materials:
            self.fields[f"verdict_{material.pk}"] = forms.ChoiceField(
                label=material.original_name,
                choices=verdict_choices,
                initial=material.verdict if material.verdict != MaterialVerdict.PENDING else MaterialVerdict.ACCEPTED,
            )
            self.fields[f"verdict_note_{material.pk}"] = forms.CharField(required=False, max_length=300)

    def verdict_rows(self):
        return [(m, self[f"verdict_{m.pk}"], self[f"verdict_note_{m.pk}"]) for m in self.materials]


class DecisionForms:
    """All the forms of one decision page, and the dispatch from a submitted ``action``."""

    def __init__(self, *, application: Application, user, data=None):
        self.application = application
        self.user = user
        self.data = data
        self.reject = RejectForm(data, prefix="reject")
        self.opinion = OpinionForm(data, prefix="opinion")
        self.supplement = SupplementForm(
            data, prefix="supplement", materials=material_list_current(application=application)
        )

    def _valid(self, form) -> dict:
        if not form.is_valid():
            # Name the field: the messages are shown at the top of the page, not beside it.
            raise ValidationError([
                f"{form.fields[name].label}：{error}" if name in form.fields else error
                for name, errors in form.errors.items()
                for error in errors
            ])
        return form.cleaned_data

    def run(self, action: str):
        """Call the service for ``action``; returns a success message (or the revealed ID)."""
        pk, user = self.application.pk, self.user
        if action == "claim":
            services.application_claim(application_id=pk, user=user)
            return _("已领取，开始审核。")
        if action == "release":
            services.application_release(application_id=pk, user=user)
            return _("已退回队列。")
        if action == "reveal":
            return services.application_reveal_id_number(application_id=pk, user=user)
        if action == "approve":
            services.application_approve(application_id=pk, user=user)
            return _("已审核通过，门特资格已生成。")
        if action == "reject":
            data = self._valid(self.reject)
            services.application_reject(application_id=pk, user=user, reason=data["reason"], note=data["note"])
            return _("已作出不通过决定。")
        if action == "supplement":
            data = self._valid(self.supplement)
            verdicts = {m.pk: data[f"verdict_{m.pk}"] for m in self.supplement.materials}
            notes = {m.pk: data[f"verdict_note_{m.pk}"] for m in self.supplement.materials}
            services.application_request_supplement(
                application_id=pk,
                user=user,
                verdicts=verdicts,
                verdict_notes=notes,
                extra_items=data["extra_items"].splitlines(),
                note=data["note"],
            )
            return _("已一次性告知申请人补正。")
        if action == "opinion":
            data = self._valid(self.opinion)
            services.expert_opinion_record(
                application_id=pk, expert=user, recommendation=data["recommendation"], note=data["note"]
            )
            return _("专家意见已记录。")
        raise ValidationError(_("未知操作。"))


class CounterForm(forms.Form):
    """Counter filing for a walk-in citizen; one file field per required material of the disease."""

    full_name = forms.CharField(label=gettext_lazy("患者姓名"), max_length=50)
    id_number = forms.CharField(label=gettext_lazy("患者身份证号"), max_length=18)
    phone = forms.CharField(label=gettext_lazy("申请人手机号（接收短信）"), max_length=20)
    scheme = forms.ModelChoiceField(label=gettext_lazy("参保类型"), queryset=None)
    diagnosis = forms.CharField(label=gettext_lazy("诊断"), max_length=500)
    diagnosing_institution = forms.ModelChoiceField(label=gettext_lazy("诊断医院"), queryset=None)
    diagnosis_date = forms.DateField(label=gettext_lazy("诊断日期"), widget=forms.DateInput(attrs={"type": "date"}))
    designated_institution = forms.ModelChoiceField(
        label=gettext_lazy("定点医疗机构"), queryset=None, required=False
    )

    def __init__(self, *args, disease, **kwargs):
        from catalog.models import MedicalInstitution

        super().__init__(*args, **kwargs)
        self.disease = disease
        self.fields["scheme"].queryset = disease.schemes.all()
        institutions = MedicalInstitution.objects.filter(region=disease.region)
        self.fields["diagnosing_institution"].queryset = institutions
        self.fields["designated_institution"].queryset = institutions.filter(designated=True)
        self.slots = list(disease.materials.all())
        for material in self.slots:
            self.fields[f"file_{material.code}"] = forms.FileField(
                label=material.name, required=False, help_text=material.description
            )

    def clean_id_number(self):
        from applications.id_numbers import id_number_problem, normalize_id_number

        value = normalize_id_number(self.cleaned_data["id_number"])
        if id_number_problem(value):
            raise ValidationError(_("身份证号不正确，请核对。"))
        return value

    def files_by_slot(self) -> dict:
        return {m.code: self.files.getlist(f"file_{m.code}") for m in self.slots if self.files.getlist(f"file_{m.code}")}
