"""The citizen's own pages under /me/: 我的, real-name identity, household members, proof files.

Views parse, call one service or selector, and render; anything not the caller's is a 404.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from applications.id_numbers import mask_id_number, mask_name
from portal.forms import HouseholdMemberForm, IdentityForm
from portal.identity_providers import identity_provider_get
from portal.models import HouseholdMember
from portal.phone_numbers import phone_mask
from portal.selectors import (
    household_member_get_for_account,
    household_member_list_for_account,
    household_proof_get_for_account,
    identity_get_for_user,
)
from portal.services import (
    IdentityCheckUnavailable,
    household_member_add,
    household_member_remove,
    identity_submit,
    identity_verify,
)


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def _identity_view_model(identity) -> dict | None:
    if identity is None:
        return None
    return {
        "name": mask_name(identity.person.full_name),
        "id_number": mask_id_number(identity.person.id_number),
        "region": identity.region,
        "scheme": identity.scheme,
        "verified": identity.is_verified,
        "verified_at": identity.verified_at,
    }


@login_required
def me_home(request: HttpRequest) -> HttpResponse:
    identity = identity_get_for_user(user=request.user)
    members = household_member_list_for_account(user=request.user)
    return render(
        request,
        "portal/me.html",
        {
            "identity": _identity_view_model(identity),
            "phone": phone_mask(request.user.phone),
            "has_password": request.user.has_usable_password(),
            "members": [
                {"name": mask_name(m.person.full_name), "relationship": m.get_relationship_display()} for m in members
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def identity_page(request: HttpRequest) -> HttpResponse:
    identity = identity_get_for_user(user=request.user)
    if identity is not None and identity.is_verified:
        return render(request, "portal/identity_done.html", {"identity": _identity_view_model(identity)})
    if request.method == "POST":
        form = IdentityForm(request.POST)
        if form.is_valid():
            try:
                identity = identity_submit(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                return redirect(identity_provider_get().start(identity=identity, request=request))
    else:
        initial = {}
        if identity is not None:
            # Only the citizen's own, unverified entry is shown back to them, and never the full ID.
            initial = {"full_name": identity.person.full_name, "region": identity.region, "scheme": identity.scheme}
        form = IdentityForm(initial=initial)
    return render(request, "portal/identity.html", {"form": form, "pending": _identity_view_model(identity)})


@login_required
def identity_face(request: HttpRequest) -> HttpResponse:
    """The development stand-in for the provider's face-check page."""
    identity = identity_get_for_user(user=request.user)
    if identity is None:
        return redirect("me:identity")
    if identity.is_verified:
        return redirect("me:home")
    provider = identity_provider_get()
    return render(
        request,
        "portal/identity_face.html",
        {"identity": _identity_view_model(identity), "provider": provider, "available": provider.is_available()},
    )


@login_required
@require_POST
def identity_check(request: HttpRequest) -> HttpResponse:
    """Where the face check reports back (the dev page posts here; a real provider's result too)."""
    try:
        result = identity_verify(user=request.user, data=request.POST)
    except IdentityCheckUnavailable:
        messages.error(request, _("实名核验服务暂不可用，请稍后再试或到医保经办窗口办理。"))
        return redirect("me:identity")
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("me:identity")
    if not result.passed:
        messages.error(request, result.message or _("人脸识别未通过，请重试。"))
        return redirect("me:identity_face")
    messages.success(request, _("实名认证已通过。"))
    return redirect("me:home")


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    members = household_member_list_for_account(user=request.user)
    rows = [
        {
            "id": m.pk,
            "name": mask_name(m.person.full_name),
            "id_number": mask_id_number(m.person.id_number),
            "relationship": m.get_relationship_display(),
            "proof_kind": m.get_proof_kind_display(),
            "proofs": list(m.proofs.all()),
        }
        for m in members
    ]
    return render(request, "portal/household_list.html", {"members": rows})


@login_required
@require_http_methods(["GET", "POST"])
def household_add(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = HouseholdMemberForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                household_member_add(account=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("已添加家庭成员。"))
                return redirect("me:household")
    else:
        form = HouseholdMemberForm()
    return render(request, "portal/household_add.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def household_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET asks for confirmation (a mis-tap must not drop a parent and their proof); POST removes."""
    if request.method == "GET":
        member = household_member_get_for_account(user=request.user, member_id=member_id)
        if member is None:
            raise Http404
        return render(
            request,
            "portal/household_remove.html",
            {"member_id": member.pk, "name": mask_name(member.person.full_name), "relationship": member.get_relationship_display()},
        )
    try:
        household_member_remove(account=request.user, member_id=member_id)
    except HouseholdMember.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("已移除该家庭成员。"))
    return redirect("me:household")


@login_required
def household_proof_file(request: HttpRequest, proof_id: int) -> FileResponse:
    proof = household_proof_get_for_account(user=request.user, proof_id=proof_id)
    if proof is None:
        raise Http404
    try:
        handle = proof.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=proof.content_type)
    # The stored type was decided from the bytes; forbid the browser from guessing another.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response
