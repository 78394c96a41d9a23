"""Parsing only: the rules live in certifications.services."""
from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import HospitalLevel
from certifications.models import RemoteCareKind, RemoteCareReason


class PersonLookupForm(forms.Form):
    full_name = forms.CharField(label=_("患者姓名"), max_length=50)
    id_number = forms.CharField(label=_("患者身份证号"), max_length=20)


class HospitalFilterForm(forms.Form):
    level = forms.TypedChoiceField(label=_("级别"), required=False, coerce=int, empty_value=None,
                                   choices=[("", _("全部级别"))] + list(HospitalLevel.choices))
    district = forms.ChoiceField(label=_("区县"), required=False, choices=[("", _("全部区县"))])

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", _("全部区县"))] + [(d, d) for d in districts]


class RemoteCareForm(forms.Form):
    kind = forms.ChoiceField(label=_("备案类型"), choices=RemoteCareKind.choices, widget=forms.RadioSelect)
    reason = forms.ChoiceField(label=_("备案原因"), choices=RemoteCareReason.choices)
    province = forms.CharField(label=_("就医省份"), max_length=20)
    city = forms.CharField(label=_("就医城市"), max_length=30)
    start_date = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("临时外出就医必填，至少 6 个月；长期居住无需填写（取消前一直有效）。"))
    proof = forms.FileField(label=_("证明材料"), help_text=_("居住证、工作证明、退休安置证明或转诊证明；JPG、PNG 或 PDF，不超过 10 MB。"))


class ReconsiderationForm(forms.Form):
    reason = forms.CharField(label=_("复议理由"), widget=forms.Textarea(attrs={"rows": 5}), max_length=1000)
