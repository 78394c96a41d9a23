"""Staff pages outside the admin's model views: second-factor enrollment, counter filing."""
from __future__ import annotations

import base64
import io

from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from reviews.security import staff_totp_activate, totp_authenticator_get

_ENROLL_SECRET = "reviews.totp_enroll_secret"


def _qr_data_uri(uri: str) -> str:
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(uri, box_size=5, border=2).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@staff_member_required
def totp_enroll(request):
    """Bind an authenticator app (TOTP). The secret lives in the session until it is proven."""
    if totp_authenticator_get(user=request.user) is not None:
        return redirect("admin:index")
    secret = request.session.get(_ENROLL_SECRET)
    if not secret:
        secret = request.session[_ENROLL_SECRET] = generate_totp_secret()
    if request.method == "POST":
        try:
            staff_totp_activate(request=request, user=request.user, secret=secret, code=request.POST.get("code", ""))
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            request.session.pop(_ENROLL_SECRET, None)
            messages.success(request, _("身份验证器已绑定。以后登录管理后台需输入其动态验证码。"))
            return redirect("admin:index")
    issuer = getattr(settings, "MFA_TOTP_ISSUER", "") or "门特服务"
    label = f"{issuer}:{request.user.get_username()}"
    uri = "otpauth://totp/" + label + "?" + urlencode({"secret": secret, "issuer": issuer})
    return render(
        request,
        "reviews/totp_enroll.html",
        {"secret": secret, "qr": _qr_data_uri(uri), "title": _("绑定身份验证器")},
    )


@staff_member_required
def counter_new(request):
    """Step 1: pick the disease (from the staff member's regions); step 2: the case and its scans."""
    from django.core.exceptions import PermissionDenied

    from catalog.models import Disease
    from reviews.counter import counter_application_file
    from reviews.forms import CounterForm
    from reviews.selectors import region_ids_for_staff

    if not request.user.has_perm("reviews.counter_file"):
        raise PermissionDenied
    scope = region_ids_for_staff(user=request.user)
    diseases = Disease.objects.select_related("region").order_by("region__code", "name")
    if scope is not None:
        diseases = diseases.filter(region_id__in=scope)
    disease = diseases.filter(pk=request.GET.get("disease") or 0).first()
    form = None
    if disease is not None:
        form = CounterForm(request.POST or None, request.FILES or None, disease=disease)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                application = counter_application_file(
                    staff=request.user,
                    full_name=data["full_name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    scheme=data["scheme"],
                    disease=disease,
                    diagnosis=data["diagnosis"],
                    diagnosing_institution=data["diagnosing_institution"],
                    diagnosis_date=data["diagnosis_date"],
                    designated_institution=data["designated_institution"],
                    files=form.files_by_slot(),
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.error_dict.items():
                        form.add_error(None if field == "__all__" or field not in form.fields else field, errors)
                else:
                    form.add_error(None, error)
            else:
                messages.success(
                    request, _("已代录并提交，受理编号 %(number)s；申请人将收到短信。") % {"number": application.acceptance_number}
                )
                return redirect("admin:applications_application_change", application.pk)
    return render(
        request,
        "reviews/counter_form.html",
        {"diseases": diseases, "disease": disease, "form": form, "title": _("窗口代录申请")},
    )
