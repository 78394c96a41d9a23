"""Citizen pages: the wizard, uploads, submit, receipt, "我的申请", and the public lookup.

Views parse input, call one service, render. Every object is reached through the access selectors
(``application_get_for_citizen`` / ``application_get_for_applicant``); anything else is a 404.
"""
from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from applications import selectors, services
from applications.consent import CURRENT_VERSION, consent_text
from applications.forms import DiseaseForm, DiseaseInfoForm, PatientForm, SubmitForm, TrackForm, WithdrawForm
from applications.id_numbers import mask_id_number, mask_name
from applications.image_processing import blur_threshold
from applications.lifecycle import WITHDRAWABLE
from applications.models import Application, ApplicationStatus, UploadedMaterial
from applications.upload_handlers import SizeLimitUploadHandler
from catalog.models import Disease, Scheme
from portal.pagination import page_get, page_read
from portal.page_memo import memo_render


def _step_titles():
    return [(1, _("选择患者")), (2, _("地区与病种")), (3, _("疾病信息")), (4, _("上传材料")), (5, _("确认提交"))]


def _get_own(request: HttpRequest, pk: int) -> Application:
    try:
        return selectors.application_get_for_applicant(user=request.user, pk=pk)
    except Application.DoesNotExist:
        raise Http404 from None


def _get_visible(request: HttpRequest, pk: int) -> Application:
    try:
        return selectors.application_get_for_citizen(user=request.user, pk=pk)
    except Application.DoesNotExist:
        raise Http404 from None


def _get_draft(request: HttpRequest, pk: int) -> Application | None:
    application = _get_own(request, pk)
    return application if application.status == ApplicationStatus.DRAFT else None


def _error_messages(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


def _wizard(request, application, step, template, context):
    context.update({"application": application, "step": step, "steps": _step_titles()})
    return render(request, template, context)


# --- "我的申请" --------------------------------------------------------------------------------

APPLICATIONS_PER_PAGE = 20


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    # A page at a time: an account applying for a whole family (or a hospital's 代办 account)
    # must not get a page the size of its history.
    page = page_get(
        selectors.application_list_for_citizen_summaries(user=request.user), number=request.GET.get("page"),
        per_page=APPLICATIONS_PER_PAGE,
    )
    # Built only when the page is rendered: a page kept for the same rows is served without it.
    return memo_render(
        request, "applications/list.html",
        lambda: {"applications": selectors.application_rows(applications=page.object_list), "page": page},
        read=page_read(page),
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    own = selectors.account_person(user=request.user)
    form = PatientForm(
        request.POST or None,
        patients=selectors.patient_list_for_account(user=request.user),
        own_person=own,
        relationships=selectors.household_relationship_labels(user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create_draft(user=request.user, patient=form.cleaned_data["patient"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("applications:step", pk=application.pk, step=2)
    return _wizard(request, None, 1, "applications/step_patient.html", {"form": form, "own_person": own})


@login_required
def application_step(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    application = _get_draft(request, pk)
    if application is None:
        return redirect("applications:detail", pk=pk)
    handlers = {1: _step_patient, 2: _step_disease, 3: _step_info, 4: _step_materials, 5: _step_review}
    if step not in handlers:
        raise Http404
    return handlers[step](request, application)


def _step_patient(request, application):
    own = selectors.account_person(user=request.user)
    form = PatientForm(
        request.POST or None,
        initial={"patient": application.patient_id},
        patients=selectors.patient_list_for_account(user=request.user),
        own_person=own,
        relationships=selectors.household_relationship_labels(user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.application_set_patient(application=application, user=request.user, patient=form.cleaned_data["patient"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("applications:step", pk=application.pk, step=2)
    return _wizard(request, application, 1, "applications/step_patient.html", {"form": form, "own_person": own})


def _step_disease(request, application):
    regions = selectors.region_list_for_wizard()
    schemes = Scheme.objects.order_by("order", "code")
    data = request.POST if request.method == "POST" else request.GET
    region_id = data.get("region") or application.region_id or (regions.first().pk if regions.exists() else None)
    scheme_id = data.get("scheme") or application.scheme_id or (schemes.first().pk if schemes.exists() else None)
    region = regions.filter(pk=region_id).first() if str(region_id).isdigit() else None
    scheme = schemes.filter(pk=scheme_id).first() if str(scheme_id).isdigit() else None
    diseases = selectors.disease_list_for_application(region=region, scheme=scheme) if region else Disease.objects.none()
    disease_id = data.get("disease") if "disease" in data else application.disease_id
    disease = diseases.filter(pk=disease_id).prefetch_related("criteria", "materials").first() if str(disease_id or "").isdigit() else None
    criteria = list(disease.criteria.all()) if disease else []
    initial = {"region": region, "scheme": scheme, "disease": disease}
    for key, answer in (application.self_check or {}).items():
        initial[f"criterion_{key}"] = answer.get("answer") if isinstance(answer, dict) else bool(answer)
    bound = request.method == "POST" and "save" in request.POST
    form = DiseaseForm(
        request.POST if bound else None, initial=initial, regions=regions, schemes=schemes, diseases=diseases, criteria=criteria
    )
    checklist_unseen = bool(criteria) and request.POST.get("criteria_for") != str(disease.pk if disease else "")
    if bound and form.is_valid():
        if form.cleaned_data["disease"] is None:
            form.add_error("disease", _("请选择病种。"))
        elif checklist_unseen:
            # The disease changed on this submit (no JS): show its checklist before moving on.
            messages.info(request, _("请对照该病种的准入条件自查后，再点“保存并下一步”。"))
        else:
            try:
                services.application_set_disease(
                    application=application,
                    region=form.cleaned_data["region"],
                    scheme=form.cleaned_data["scheme"],
                    disease=form.cleaned_data["disease"],
                    self_check=form.self_check(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("applications:step", pk=application.pk, step=3)
    return _wizard(
        request, application, 2, "applications/step_disease.html",
        {"form": form, "disease": disease, "region": region, "scheme": scheme},
    )


def _step_info(request, application):
    if application.region_id is None or application.disease_id is None:
        messages.warning(request, _("请先选择地区和病种。"))
        return redirect("applications:step", pk=application.pk, step=2)
    institutions = selectors.institution_list_for_application(region=application.region)
    designated = selectors.institution_list_for_application(region=application.region, designated_only=True)
    form = DiseaseInfoForm(
        request.POST or None,
        initial={
            "diagnosis": application.diagnosis,
            "diagnosing_institution": application.diagnosing_institution_id,
            "diagnosis_date": application.diagnosis_date,
            "designated_institution": application.designated_institution_id,
        },
        institutions=institutions,
        designated=designated,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.application_set_disease_info(application=application, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("applications:step", pk=application.pk, step=4)
    level_warning = None
    institution = application.diagnosing_institution
    if institution is not None and institution.level < application.disease.min_hospital_level:
        level_warning = _level_warning(application)
    return _wizard(request, application, 3, "applications/step_info.html", {"form": form, "level_warning": level_warning})


def _level_warning(application) -> str:
    return _("“%(hospital)s”为%(level)s医院，该病种要求%(required)s及以上医院的诊断，审核时可能需要补充材料。") % {
        "hospital": application.diagnosing_institution.name,
        "level": application.diagnosing_institution.get_level_display(),
        "required": application.disease.get_min_hospital_level_display(),
    }


def _slot_rows(application, slots, materials):
    by_slot: dict[str, list[UploadedMaterial]] = {}
    for material in materials:
        by_slot.setdefault(material.slot, []).append(material)
    threshold = blur_threshold()
    rows = []
    for slot in slots:
        files = by_slot.get(slot["code"], [])
        for material in files:
            material.blurry = material.sharpness is not None and material.sharpness < threshold
        rows.append({**slot, "files": files})
    return rows


def _step_materials(request, application):
    own = selectors.account_person_id(user=request.user)
    slots = selectors.material_slots(application=application, own_person_id=own)
    materials = selectors.material_rows(application=application)
    return _wizard(
        request, application, 4, "applications/step_materials.html",
        {
            "slots": _slot_rows(application, slots, materials),
            "max_files": services.upload_max_files(),
            "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
            "file_count": len(materials),
        },
    )


def _step_review(request, application):
    own = selectors.account_person_id(user=request.user)
    slots = selectors.material_slots(application=application, own_person_id=own)
    materials = selectors.material_rows(application=application)
    missing = selectors.application_missing_items(application=application, user=request.user)
    level_warning = None
    if application.diagnosing_institution_id and application.disease_id:
        if application.diagnosing_institution.level < application.disease.min_hospital_level:
            level_warning = _level_warning(application)
    return _wizard(
        request, application, 5, "applications/step_review.html",
        {
            "slots": _slot_rows(application, slots, materials),
            "missing": missing,
            "form": SubmitForm(initial={"consent_version": CURRENT_VERSION}),
            "consent_text": consent_text(),
            "verified": selectors.account_is_verified(user=request.user),
            "level_warning": level_warning,
            "masked_name": mask_name(application.patient.full_name) if application.patient_id else "",
            "masked_id": mask_id_number(application.patient.id_number) if application.patient_id else "",
        },
    )


@login_required
@require_POST
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_own(request, pk)
    form = SubmitForm(request.POST)
    try:
        application = services.application_submit(
            application=application, user=request.user, consent_version=form.agreed_version()
        )
    except ValidationError as error:
        for message in _error_messages(error):
            messages.error(request, message)
        return redirect("applications:step", pk=pk, step=5)
    return redirect("applications:receipt", pk=application.pk)


@login_required
@require_POST
def application_discard(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_own(request, pk)
    try:
        services.application_draft_discard(application=application, user=request.user)
    except ValidationError as error:
        for message in _error_messages(error):
            messages.error(request, message)
        return redirect("applications:detail", pk=pk)
    messages.success(request, _("草稿已删除。"))
    return redirect("applications:list")


# --- uploads -----------------------------------------------------------------------------------

def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("x-requested-with") == "XMLHttpRequest"


@csrf_exempt  # only so the size handler is installed before the body is read; checked below
@login_required
@require_POST
def material_upload(request: HttpRequest, pk: int) -> HttpResponse:
    size_limit = SizeLimitUploadHandler(request)
    request.upload_handlers.insert(0, size_limit)
    return _material_upload(request, pk, size_limit)


@csrf_protect
def _material_upload(request: HttpRequest, pk: int, size_limit: SizeLimitUploadHandler) -> HttpResponse:
    """One slot, one or more files. Each file is checked on its own: a bad one does not stop the
    good ones, and every refusal names its file."""
    application = _get_own(request, pk)
    slot = request.POST.get("slot", "")
    files = request.FILES.getlist("files")
    errors: list[str] = [
        _("文件“%(name)s”未能上传：%(reason)s")
        % {"name": name, "reason": _("超过单个文件上限 %(limit)s") % {"limit": filesizeformat(size_limit.limit)}}
        for name in size_limit.skipped
    ]
    added: list[UploadedMaterial] = []
    if not files and not errors:
        errors.append(_("请选择要上传的文件。"))
    for upload in files:
        try:
            added.append(services.material_add(application=application, user=request.user, slot=slot, file=upload))
        except ValidationError as error:
            errors.extend(_error_messages(error))
    if _wants_json(request):
        return JsonResponse(
            {"ok": not errors, "errors": errors, "added": [m.original_name for m in added]},
            status=200 if added or not errors else 400,
        )
    for message in errors:
        messages.error(request, message)
    if added:
        messages.success(request, _("已上传 %(count)d 个文件。") % {"count": len(added)})
    return redirect(_back_to_materials(application))


def _back_to_materials(application: Application) -> str:
    if application.status == ApplicationStatus.DRAFT:
        return reverse("applications:step", kwargs={"pk": application.pk, "step": 4}) + "#materials"
    return reverse("applications:detail", kwargs={"pk": application.pk}) + "#supplement"


@login_required
@require_POST
def material_delete(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    application = _get_own(request, pk)
    try:
        material = selectors.material_get_for_citizen(user=request.user, application_pk=application.pk, pk=material_pk)
    except UploadedMaterial.DoesNotExist:
        raise Http404 from None
    try:
        services.material_remove(material=material, user=request.user)
    except ValidationError as error:
        for message in _error_messages(error):
            messages.error(request, message)
    return redirect(_back_to_materials(application))


@login_required
def material_file(request: HttpRequest, pk: int, material_pk: int, variant: str = "file") -> HttpResponse:
    """The only way a stored file leaves the server: access-checked, never cached, sandboxed."""
    try:
        material = selectors.material_get_for_citizen(user=request.user, application_pk=pk, pk=material_pk)
    except UploadedMaterial.DoesNotExist:
        raise Http404 from None
    stored = material.thumbnail if variant == "thumb" else material.file
    if not stored:
        raise Http404
    content_type = "image/jpeg" if variant == "thumb" else material.content_type
    response = FileResponse(stored.open("rb"), content_type=content_type)
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(False, material.original_name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a file were misjudged, it cannot run script in the portal's origin.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


# --- detail, receipt, withdraw, supplement -----------------------------------------------------

@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        page = selectors.application_page_for_citizen(user=request.user, pk=pk)
    except Application.DoesNotExist:
        raise Http404 from None
    if page.status == ApplicationStatus.DRAFT:
        return redirect("applications:step", pk=pk, step=page.application.wizard_step or 1)
    # Built only when the page is rendered: a page kept for the same rows is served without it.
    return memo_render(request, "applications/detail.html", partial(_detail_context, request, page), read=page.read)


def _detail_context(request: HttpRequest, page: selectors.CasePage) -> dict:
    application, events, materials = page.application, page.events, page.materials
    own = selectors.account_person_id(user=request.user)
    slots = selectors.material_slots(application=application, own_person_id=own)
    known = {s["code"] for s in slots}
    extra = sorted({m.slot for m in materials if m.slot not in known})
    names = selectors.material_slot_names(slots=slots)
    for code in extra:
        slots.append({"code": code, "name": names.get(code, _("其他补正材料")), "description": "", "required": False})
    is_applicant = application.applicant_id == request.user.pk
    supplement = None
    if application.status == ApplicationStatus.SUPPLEMENT_REQUESTED:
        # From the timeline and files just read: no statement of their own.
        event = selectors.supplement_request_event(application=application, events=events)
        allowed = selectors.supplement_slots(application=application, events=events, materials=materials)
        supplement = {
            "event": event,
            "items": (event.data.get("items", []) if event else []),
            "slots": [{"code": code, "name": names.get(code, _("其他补正材料"))} for code in sorted(allowed)],
        }
    return {
        "application": application,
        "events": events,
        "slots": _slot_rows(application, slots, materials),
        "is_applicant": is_applicant,
        "can_withdraw": is_applicant and application.status in WITHDRAWABLE,
        "supplement": supplement if is_applicant else None,
        "withdraw_form": WithdrawForm(),
        "masked_name": mask_name(application.patient.full_name),
        "masked_id": mask_id_number(application.patient.id_number),
    }


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_own(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.application_withdraw(application=application, user=request.user, reason=reason)
    except ValidationError as error:
        for message in _error_messages(error):
            messages.error(request, message)
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("applications:detail", pk=pk)


@login_required
@require_POST
def application_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_own(request, pk)
    try:
        services.application_resubmit(application=application, user=request.user)
    except ValidationError as error:
        for message in _error_messages(error):
            messages.error(request, message)
        return redirect(reverse("applications:detail", kwargs={"pk": pk}) + "#supplement")
    messages.success(request, _("补正材料已提交，审核时限重新计算。"))
    return redirect("applications:detail", pk=pk)


def _receipt_context(request, application):
    own = selectors.account_person_id(user=request.user)
    names = selectors.material_slot_names(slots=selectors.material_slots(application=application, own_person_id=own))
    materials = [(names.get(m.slot, m.slot), m.original_name) for m in selectors.material_rows(application=application)]
    status_url = request.build_absolute_uri(reverse("track") + f"?number={application.acceptance_number}")
    return materials, status_url


@login_required
def application_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_visible(request, pk)
    if not application.acceptance_number:
        raise Http404
    materials, status_url = _receipt_context(request, application)
    import base64

    from applications.receipts import qr_png

    return render(
        request,
        "applications/receipt.html",
        {
            "application": application,
            "materials": materials,
            "status_url": status_url,
            "qr_data": base64.b64encode(qr_png(status_url)).decode(),
            "masked_name": mask_name(application.patient.full_name),
            "masked_id": mask_id_number(application.patient.id_number),
        },
    )


@login_required
def application_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_visible(request, pk)
    if not application.acceptance_number:
        raise Http404
    from applications.receipts import receipt_pdf

    materials, status_url = _receipt_context(request, application)
    response = HttpResponse(receipt_pdf(application=application, materials=materials, status_url=status_url), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{application.acceptance_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- public lookup -----------------------------------------------------------------------------

def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it,
    # and the proxy setup (which sets REMOTE_ADDR correctly) belongs to deployment.
    return request.META.get("REMOTE_ADDR", "unknown")


def _track_rate_limited(request: HttpRequest) -> bool:
    limit = int(getattr(settings, "TRACK_RATE_LIMIT", 10))
    window = int(getattr(settings, "TRACK_RATE_WINDOW_SECONDS", 600))
    key = f"track-rate:{_client_ip(request)}"
    try:
        cache.add(key, 0, timeout=window)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001 - a cache outage must not open or close the lookup for all
        return False
    return count > limit


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Status by acceptance number AND the patient's ID number. The answer is identical whether
    the number is unknown or the ID does not match, so the page cannot be used to probe either."""
    result = None
    not_found = False
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if _track_rate_limited(request):
            status = 429
            minutes = max(1, int(getattr(settings, "TRACK_RATE_WINDOW_SECONDS", 600)) // 60)
            form.add_error(None, _("查询过于频繁，请 %(minutes)d 分钟后再试。") % {"minutes": minutes})
        elif form.is_valid():
            application = selectors.application_find_for_tracking(
                acceptance_number=form.cleaned_data["acceptance_number"], id_number=form.cleaned_data["id_number"]
            )
            # The ID number is not echoed back into the page (shared screens, browser history).
            form = TrackForm(initial={"acceptance_number": form.cleaned_data["acceptance_number"]})
            if application is None:
                not_found = True
            else:
                result = {
                    "number": application.acceptance_number,
                    "status": application.get_status_display(),
                    "status_code": application.status,
                    "masked_name": mask_name(application.patient.full_name),
                }
    else:
        form = TrackForm(initial={"acceptance_number": request.GET.get("number", "")[:24]})
    return render(request, "applications/track.html", {"form": form, "result": result, "not_found": not_found}, status=status)
