"""Scope: every admin URL this app exposes, probed across regions. A 六盘水 reviewer never sees a
许昌 case, not even by typing its URL."""
import pytest
from django.urls import reverse

from reviews import services
from tests.reviews.factories import material, staff_user, submitted_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(liupanshui, xuchang, xc_reviewer):
    lps_case = submitted_application(region_obj=liupanshui)
    xc_case = submitted_application(region_obj=xuchang)
    xc_doc = material(application=xc_case)
    xc_done = submitted_application(region_obj=xuchang)
    services.application_approve(application_id=xc_done.pk, user=xc_reviewer)
    return {"lps": lps_case, "xc": xc_case, "xc_doc": xc_doc, "xc_done": xc_done}


def _listed(client, **params):
    response = client.get(reverse("admin:applications_application_changelist"), params)
    assert response.status_code == 200
    return {app.pk for app in response.context["cl"].result_list}


def test_queue_lists_only_own_region(mfa_login, lps_reviewer, cases):
    client = mfa_login(lps_reviewer)
    assert _listed(client) == {cases["lps"].pk}
    body = client.get(reverse("admin:applications_application_changelist")).content.decode()
    assert cases["lps"].acceptance_number in body and cases["xc"].acceptance_number not in body
    # Neither filtering on the other region's id nor searching its acceptance number shows it.
    assert _listed(client, region=cases["xc"].region_id) == set()
    assert _listed(client, q=cases["xc"].acceptance_number) == set()


@pytest.mark.parametrize("name", ["change", "history"])
def test_change_and_history_of_other_region_reveal_nothing(mfa_login, lps_reviewer, cases, name):
    client = mfa_login(lps_reviewer)
    response = client.get(reverse(f"admin:applications_application_{name}", args=[cases["xc"].pk]))
    assert response.status_code in (302, 404)
    assert cases["xc"].acceptance_number.encode() not in response.content
    assert cases["xc"].patient.full_name[1:].encode() not in response.content


def test_posting_a_decision_to_another_regions_case_changes_nothing(mfa_login, lps_reviewer, cases):
    client = mfa_login(lps_reviewer)
    url = reverse("admin:applications_application_change", args=[cases["xc"].pk])
    for action in ("claim", "approve", "reveal"):
        response = client.post(url, {"action": action})
        assert response.status_code in (302, 404)
        assert cases["xc"].patient.id_number.encode() not in response.content
    cases["xc"].refresh_from_db()
    assert cases["xc"].status == "submitted" and not cases["xc"].events.exists()


def test_material_file_of_other_region_is_404(mfa_login, lps_reviewer, xc_reviewer, cases):
    url = reverse("admin:reviews_material", args=[cases["xc"].pk, cases["xc_doc"].pk])
    assert mfa_login(lps_reviewer).get(url).status_code == 404
    # The owner region's reviewer gets the file, inline.
    response = mfa_login(xc_reviewer).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # Asking for the file through a case of one's own region does not help either.
    assert mfa_login(lps_reviewer).get(
        reverse("admin:reviews_material", args=[cases["lps"].pk, cases["xc_doc"].pk])
    ).status_code in (302, 404)


def test_export_contains_only_own_region_with_masked_ids(mfa_login, lps_reviewer, cases):
    response = mfa_login(lps_reviewer).get(reverse("admin:reviews_export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert cases["lps"].acceptance_number in body
    assert cases["xc"].acceptance_number not in body and cases["xc_done"].acceptance_number not in body
    assert cases["lps"].patient.id_number not in body
    assert cases["lps"].patient.id_number[-4:] in body  # masked form keeps the last four


def test_dashboard_counts_only_own_region(mfa_login, lps_org, cases):
    supervisor = staff_user(organisation=lps_org, roles=("门特主管",), username="lps_sup")
    body = mfa_login(supervisor).get(reverse("admin:reviews_dashboard")).content.decode()
    assert "许昌" not in body
    assert 'data-testid="open-now">1<' in body


def test_certifications_of_other_region_are_hidden(mfa_login, lps_reviewer, xc_reviewer, cases):
    cert = cases["xc_done"].certification
    client = mfa_login(lps_reviewer)
    listing = client.get(reverse("admin:applications_certification_changelist")).content.decode()
    assert cert.opsp_dise_name not in listing
    response = client.get(reverse("admin:applications_certification_change", args=[cert.pk]))
    assert response.status_code in (302, 404) and cert.opsp_dise_name.encode() not in response.content
    assert cert.opsp_dise_name in mfa_login(xc_reviewer).get(
        reverse("admin:applications_certification_changelist")).content.decode()


def test_superuser_sees_every_region(mfa_login, cases):
    admin_user = staff_user(superuser=True, roles=(), username="root")
    body = mfa_login(admin_user).get(reverse("admin:applications_application_changelist")).content.decode()
    assert cases["lps"].acceptance_number in body and cases["xc"].acceptance_number in body


def test_staff_without_organisation_sees_nothing(mfa_login, cases):
    loner = staff_user(organisation=None, username="loner")
    body = mfa_login(loner).get(reverse("admin:applications_application_changelist")).content.decode()
    assert cases["lps"].acceptance_number not in body and cases["xc"].acceptance_number not in body


def test_citizen_cannot_reach_any_staff_url(client, cases):
    citizen = cases["xc"].applicant
    client.force_login(citizen)
    for url in (
        reverse("admin:applications_application_changelist"),
        reverse("admin:applications_application_change", args=[cases["xc"].pk]),
        reverse("admin:reviews_material", args=[cases["xc"].pk, cases["xc_doc"].pk]),
        reverse("admin:reviews_export"),
        reverse("admin:reviews_dashboard"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_delete_and_add_urls_are_closed(mfa_login, xc_reviewer, cases):
    client = mfa_login(xc_reviewer)
    response = client.get(reverse("admin:applications_application_delete", args=[cases["xc"].pk]))
    assert response.status_code in (302, 403, 404)
    assert client.get(reverse("admin:applications_application_add")).status_code == 403
    cases["xc"].refresh_from_db()


def test_supervisor_sees_only_organisations_of_own_regions(mfa_login, lps_org, xc_org, cases):
    supervisor = staff_user(organisation=lps_org, roles=("门特主管",), username="lps_sup2")
    body = mfa_login(supervisor).get(reverse("admin:reviews_reviewingorganisation_changelist")).content.decode()
    assert lps_org.name in body and xc_org.name not in body
    response = mfa_login(supervisor).get(reverse("admin:reviews_reviewingorganisation_change", args=[xc_org.pk]))
    assert response.status_code in (302, 404) and xc_org.name.encode() not in response.content
