"""Input parsing for the citizen's application pages. Forms validate shapes; rules live in services."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.consent import CURRENT_VERSION
from applications.id_numbers import mask_id_number, mask_name, normalize_id_number


class PatientChoiceField(forms.ModelChoiceField):
    own_person = None
    relationships: dict = {}

    def label_from_instance(self, person):
        if self.own_person is not None and person.pk == self.own_person.pk:
            who = _("本人")
        else:
            who = f"{_('家庭成员')} · {self.relationships[person.pk]}" if person.pk in self.relationships else _("家庭成员")
        return f"{mask_name(person.full_name)}（{who}，{mask_id_number(person.id_number)}）"


class PatientForm(forms.Form):
    patient = PatientChoiceField(queryset=None, widget=forms.RadioSelect, label=_("为谁申请"), empty_label=None)

    def __init__(self, *args, patients, own_person, relationships=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients
        self.fields["patient"].own_person = own_person
        self.fields["patient"].relationships = relationships or {}


class DiseaseForm(forms.Form):
    region = forms.ModelChoiceField(queryset=None, label=_("参保地区"), empty_label=None)
    scheme = forms.ModelChoiceField(queryset=None, label=_("参保类型"), empty_label=None)
    disease = forms.ModelChoiceField(queryset=None, label=_("申请病种"), required=False, empty_label=_("请选择病种"))

    def __init__(self, *args, regions, schemes, diseases, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["scheme"].queryset = schemes
        self.fields["disease"].queryset = diseases
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.BooleanField(label=criterion.text, required=False)

    def self_check(self) -> dict[str, bool]:
        return {str(c.pk): bool(self.cleaned_data.get(f"criterion_{c.pk}")) for c in self.criteria}

    def criterion_fields(self):
        return [self[f"criterion_{c.pk}"] for c in self.criteria]


class InstitutionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, institution):
        return f"{institution.name}（{institution.level_label}）"


class DiseaseInfoForm(forms.Form):
    diagnosis = forms.CharField(
        label=_("诊断"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("按诊断证明书填写，例如：2型糖尿病"),
    )
    diagnosing_institution = InstitutionChoiceField(queryset=None, label=_("诊断医院"), empty_label=_("请选择"))
    diagnosis_date = forms.DateField(label=_("诊断日期"), widget=forms.DateInput(attrs={"type": "date"}))
    designated_institution = InstitutionChoiceField(
        queryset=None, label=_("定点医疗机构"), required=False, empty_label=_("暂不选择"),
        help_text=_("认定通过后在此医院门诊就医结算；每年可变更一次"),
    )

    def __init__(self, *args, institutions, designated, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["diagnosing_institution"].queryset = institutions
        self.fields["designated_institution"].queryset = designated
        self.fields["diagnosis_date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_diagnosis_date(self):
        value = self.cleaned_data["diagnosis_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("诊断日期不能晚于今天。"))
        return value


class SubmitForm(forms.Form):
    consent = forms.BooleanField(label=_("我已阅读并同意上述医疗健康信息处理授权"), required=False)
    consent_version = forms.CharField(widget=forms.HiddenInput, initial=CURRENT_VERSION)

    def agreed_version(self) -> str | None:
        if self.is_valid() and self.cleaned_data["consent"]:
            return self.cleaned_data["consent_version"]
        return None


class TrackForm(forms.Form):
    acceptance_number = forms.CharField(
        label=_("受理编号"), max_length=24, widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "430500-20261122-000017"})
    )
    id_number = forms.CharField(
        label=_("患者身份证号"), max_length=18, min_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def clean_id_number(self):
        return normalize_id_number(self.cleaned_data["id_number"])

    def clean_acceptance_number(self):
        return self.cleaned_data["acceptance_number"].strip()


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因（可不填）"), max_length=300, required=False)
