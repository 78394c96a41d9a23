"""Citizen pages: parse the request, call one selector or service, render. Anything outside the
account's own persons answers 404 (never 403), so the existence of a record is not revealed."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from applications.models import Application, Certification
from applications.selectors import person_find_by_id_number
from catalog.models import MedicalInstitution
from catalog.selectors import institution_list
from certifications import selectors, services
from certifications.dates import local_today
from certifications.forms import HospitalFilterForm, PersonLookupForm, ReconsiderationForm, RemoteCareForm
from certifications.models import RemoteCareRegistration
from portal.pagination import page_get
from portal.selectors import person_list_for_account

# The first-application wizard lives in the applications area; its start page is its index.
NEW_APPLICATION_URL = "/applications/"


def _certification_or_404(request: HttpRequest, pk: int) -> Certification:
    try:
        return selectors.certification_get_for_account(user=request.user, pk=pk)
    except Certification.DoesNotExist:
        raise Http404 from None


def _person_sections(request: HttpRequest, persons) -> list[dict]:
    """Each person with their first ``CARDS_PER_PERSON`` cards and how many they hold in all."""
    today = local_today()
    certifications = selectors.certification_list_first_per_person(
        user=request.user, person_ids=[p.pk for p in persons], per_person=CARDS_PER_PERSON, today=today
    )
    views = selectors.certification_view_list(certifications=certifications, today=today)
    sections = []
    for person in persons:
        own = [v for v in views if v.certification.person_id == person.pk]
        sections.append({"person": person, "views": own, "held": own[0].certification.held if own else 0})
    return sections


# A family holds a handful of people; a hospital's 代办 account can hold dozens, each with several
# certifications: their cards come ten people at a time, at most three cards each (live ones
# first), and a person's own page lists all of theirs, ten at a time.
PERSONS_PER_PAGE = 10
CARDS_PER_PERSON = 3
CARDS_PER_PAGE = 10


@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = page_get(
        person_list_for_account(user=request.user).order_by("pk"), number=request.GET.get("page"), per_page=PERSONS_PER_PAGE
    )
    persons = list(page.object_list)
    rejected = []
    for application in selectors.application_list_rejected_rows_for_account(user=request.user, limit=20):
        last_day = selectors.reconsideration_last_day(application=application)
        if last_day and local_today() <= last_day and not application.children.all():
            rejected.append({"application": application, "last_day": last_day})
    return render(request, "certifications/index.html", {
        "sections": _person_sections(request, persons), "rejected": rejected, "lookup_form": PersonLookupForm(),
        "page": page,
    })


@login_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_list_for_account(user=request.user).filter(pk=person_id).first()
    if person is None:
        raise Http404
    today = local_today()
    page = page_get(
        selectors.certification_list_for_person(user=request.user, person_id=person.pk, today=today),
        number=request.GET.get("page"), per_page=CARDS_PER_PAGE,
    )
    views = selectors.certification_view_list(certifications=page.object_list, today=today)
    return render(request, "certifications/index.html", {
        "sections": [{"person": person, "views": views}], "single": True, "page": page,
    })


@login_required
@require_http_methods(["POST"])
def household_lookup(request: HttpRequest) -> HttpResponse:
    """替他人申请: the household member's name and ID number lead to their certifications."""
    form = PersonLookupForm(request.POST)
    if form.is_valid():
        person = person_find_by_id_number(id_number=form.cleaned_data["id_number"])
        if (person is not None and person.full_name == form.cleaned_data["full_name"].strip()
                and person_list_for_account(user=request.user).filter(pk=person.pk).exists()):
            return redirect("certifications:person", person_id=person.pk)
    # One message for "no such person", "wrong name" and "not your household": nothing leaks.
    messages.error(request, _("未找到该家庭成员的门特资格。请核对姓名和身份证号，或先在“家庭成员”中添加。"))
    return redirect("certifications:index")


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    certification = _certification_or_404(request, pk)
    return render(request, "certifications/detail.html", {
        "view": selectors.certification_view(certification=certification),
        "history": selectors.hospital_change_history(certification=certification),
        "remote_list": selectors.remote_care_list_for_certification(certification=certification),
        "new_application_url": NEW_APPLICATION_URL,
    })


@login_required
@require_http_methods(["GET", "POST"])
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    certification = _certification_or_404(request, pk)
    view = selectors.certification_view(certification=certification)
    slots = selectors.renewal_materials_for(disease=certification.disease)
    error = None
    if request.method == "POST":
        try:
            application = services.renewal_request(
                certification=certification, user=request.user,
                files={slot.code: request.FILES.get(slot.code) for slot in slots},
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("已提交，受理编号 %(number)s。审核结果将以短信通知。") % {"number": application.acceptance_number})
            return redirect("certifications:detail", pk=certification.pk)
    return render(request, "certifications/renew.html", {
        "view": view, "slots": slots, "error": error, "new_application_url": NEW_APPLICATION_URL,
        "window_open": any(a.code == view.renewal_kind and a.available for a in view.actions),
    })


@login_required
@require_http_methods(["GET", "POST"])
def hospital(request: HttpRequest, pk: int) -> HttpResponse:
    certification = _certification_or_404(request, pk)
    if request.method == "POST":
        institution = MedicalInstitution.objects.filter(pk=request.POST.get("institution") or 0).first()
        if institution is None:
            messages.error(request, _("请选择一家定点医疗机构。"))
        else:
            try:
                services.hospital_change(certification=certification, institution=institution, user=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("定点医疗机构已变更为 %(name)s。") % {"name": institution.name})
                return redirect("certifications:detail", pk=certification.pk)
        return redirect("certifications:hospital", pk=certification.pk)
    designated = institution_list(region=certification.region, designated=True)
    districts = sorted({d for d in designated.values_list("district", flat=True) if d})
    filters = HospitalFilterForm(request.GET or None, districts=districts)
    level = district = None
    if filters.is_valid():
        level, district = filters.cleaned_data["level"], filters.cleaned_data["district"] or None
    return render(request, "certifications/hospital.html", {
        "view": selectors.certification_view(certification=certification),
        "filters": filters,
        "institutions": institution_list(region=certification.region, designated=True, level=level, district=district),
        "history": selectors.hospital_change_history(certification=certification),
    })


@login_required
@require_http_methods(["GET", "POST"])
def remote_care(request: HttpRequest, pk: int) -> HttpResponse:
    certification = _certification_or_404(request, pk)
    form = RemoteCareForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.remote_care_register(
                certification=certification, user=request.user, kind=data["kind"], reason=data["reason"],
                province=data["province"], city=data["city"], start_date=data["start_date"],
                end_date=data["end_date"], proof=data["proof"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("异地就医备案已提交。"))
            return redirect("certifications:detail", pk=certification.pk)
    return render(request, "certifications/remote_care.html", {
        "view": selectors.certification_view(certification=certification), "form": form,
    })


@login_required
@require_POST
def remote_care_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        registration = selectors.remote_care_get_for_account(user=request.user, pk=pk)
    except RemoteCareRegistration.DoesNotExist:
        raise Http404 from None
    try:
        services.remote_care_cancel(registration=registration, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("异地就医备案已取消。"))
    return redirect("certifications:detail", pk=registration.certification_id)


@login_required
def remote_care_proof(request: HttpRequest, pk: int) -> HttpResponse:
    """The proof document, streamed only to the accounts that may see the certification."""
    try:
        registration = selectors.remote_care_get_for_account(user=request.user, pk=pk)
    except RemoteCareRegistration.DoesNotExist:
        raise Http404 from None
    response = FileResponse(registration.proof.open("rb"), content_type=registration.proof_content_type or "application/octet-stream")
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def reconsider(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = selectors.application_get_rejected_for_account(user=request.user, pk=pk)
    except Application.DoesNotExist:
        raise Http404 from None
    form = ReconsiderationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.reconsideration_request(application=application, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("复议申请已受理，受理编号 %(number)s，将在 5 个工作日内办结。") % {"number": case.acceptance_number})
            return redirect("certifications:index")
    return render(request, "certifications/reconsider.html", {
        "application": application, "form": form,
        "last_day": selectors.reconsideration_last_day(application=application),
        "existing": selectors.reconsideration_existing(application=application),
        "today": local_today(),
    })
