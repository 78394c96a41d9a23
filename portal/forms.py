"""Forms of the citizen's account pages: they parse input; the rules live in portal.services."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Region, Scheme
from portal.models import ProofKind, Relationship

_ACCEPT = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (a phone lets the citizen pick or photograph several pages)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": _ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _id_number_widget() -> forms.TextInput:
    # Not inputmode=numeric: the last character may be X.
    return forms.TextInput(
        attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "maxlength": "22"}
    )


class IdentityForm(forms.Form):
    full_name = forms.CharField(
        label=_("姓名"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(
        label=_("身份证号"), max_length=22, widget=_id_number_widget(), help_text=_("18 位，最后一位可能是 X")
    )
    region = forms.ModelChoiceField(
        label=_("参保地"), queryset=Region.objects.all(), empty_label=_("请选择"),
        help_text=_("以医保参保关系所在地为准，不一定是身份证上的地址"),
    )
    scheme = forms.ModelChoiceField(label=_("参保类型"), queryset=Scheme.objects.all(), empty_label=_("请选择"))


class HouseholdMemberForm(forms.Form):
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=22, widget=_id_number_widget())
    relationship = forms.ChoiceField(
        label=_("与您的关系"), choices=[("", _("请选择")), *Relationship.choices]
    )
    region = forms.ModelChoiceField(
        label=_("参保地（可选）"), queryset=Region.objects.all(), required=False, empty_label=_("暂不填写")
    )
    scheme = forms.ModelChoiceField(
        label=_("参保类型（可选）"), queryset=Scheme.objects.all(), required=False, empty_label=_("暂不填写")
    )
    proof_kind = forms.ChoiceField(
        label=_("关系证明"), choices=ProofKind.choices, widget=forms.RadioSelect, initial=ProofKind.HUKOU
    )
    proof_files = MultipleFileField(
        label=_("证明材料照片或扫描件"),
        help_text=_("户口本请拍首页和本人页；JPG、PNG 或 PDF，单个文件不超过 10 MB"),
    )
    agent_id_files = MultipleFileField(
        label=_("代办人（您本人）身份证照片"), help_text=_("仅使用授权委托书时需要：身份证正反面")
    )
