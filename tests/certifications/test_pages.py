import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from catalog.models import ReimbursementPolicy
from certifications import services
from certifications.models import RemoteCareKind
from tests.certifications.factories import CertificationFactory, citizen, household_member, png_upload
from tests.factories import InstitutionFactory

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(day: str, time: str = "10:00"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


@pytest.fixture
def registration(certification, owner):
    user, _ = owner
    with at("2026-03-01"):
        return services.remote_care_register(
            certification=certification, user=user, kind=RemoteCareKind.TEMPORARY, reason="referral",
            province="广东省", city="广州市", start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 9, 1),
            proof=png_upload(),
        )


def test_other_accounts_get_404_everywhere(client, certification, registration):
    stranger, _ = citizen()
    client.force_login(stranger)
    urls = [
        reverse("certifications:detail", args=[certification.pk]),
        reverse("certifications:renew", args=[certification.pk]),
        reverse("certifications:hospital", args=[certification.pk]),
        reverse("certifications:remote_care", args=[certification.pk]),
        reverse("certifications:remote_care_proof", args=[registration.pk]),
        reverse("certifications:person", args=[certification.person_id]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("certifications:remote_care_cancel", args=[registration.pk])).status_code == 404
    assert certification.opsp_dise_name not in client.get(reverse("certifications:index")).content.decode()


def test_anonymous_is_sent_to_login(client, certification):
    response = client.get(reverse("certifications:detail", args=[certification.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_unverified_identity_sees_nothing(client, certification, owner):
    user, _ = owner
    user.identity.verified_at = None
    user.identity.save(update_fields=["verified_at"])
    client.force_login(user)
    assert client.get(reverse("certifications:detail", args=[certification.pk])).status_code == 404


def test_owner_sees_status_dates_hospital_and_honest_policy(client, certification, owner):
    user, _ = owner
    with at("2026-06-01"):
        client.force_login(user)  # sessions expire: log in at the travelled time
        page = client.get(reverse("certifications:detail", args=[certification.pk])).content.decode()
    assert "有效" in page and "2026-12-31" in page
    assert "将于 2026-12-01 开放" in page  # the extension window date
    assert "暂无官方数据" in page
    assert "尚未选择" in page


def test_expiring_and_unverified_policy_are_labelled(client, certification, owner):
    user, _ = owner
    ReimbursementPolicy.objects.create(region=certification.region, disease=certification.disease,
                                       scheme=certification.scheme, ratio=Decimal("0.800"), deductible=Decimal("300"))
    with at("2026-12-01"):
        client.force_login(user)  # sessions expire: log in at the travelled time
        page = client.get(reverse("certifications:detail", args=[certification.pk])).content.decode()
    assert "即将到期" in page
    assert "80%" in page and "300" in page
    assert "示例数据" in page
    assert reverse("certifications:renew", args=[certification.pk]) in page


def test_after_enddate_the_page_says_apply_anew(client, certification, owner):
    user, _ = owner
    with at("2027-01-02"):
        client.force_login(user)  # sessions expire: log in at the travelled time
        page = client.get(reverse("certifications:renew", args=[certification.pk])).content.decode()
    assert "不能再延期" in page and "重新申请资格认定" in page
    assert 'type="file"' not in page


def test_household_member_found_by_name_and_id_number(client, region, owner):
    user, _ = owner
    member = household_member(account=user)
    cert = CertificationFactory(application__patient=member, application__region=region)
    client.force_login(user)
    response = client.post(reverse("certifications:household_lookup"),
                           {"full_name": member.full_name, "id_number": member.id_number})
    assert response["Location"] == reverse("certifications:person", args=[member.pk])
    assert cert.opsp_dise_name in client.get(response["Location"]).content.decode()
    # Wrong name, or a person outside the household: the same neutral answer.
    outsider, _ = citizen()
    for data in ({"full_name": "错名", "id_number": member.id_number},
                 {"full_name": outsider.identity.person.full_name, "id_number": outsider.identity.person.id_number}):
        response = client.post(reverse("certifications:household_lookup"), data, follow=True)
        assert "未找到该家庭成员" in response.content.decode()


def test_extension_through_http(client, certification, owner):
    user, _ = owner
    with at("2026-12-05"):
        client.force_login(user)  # sessions expire: log in at the travelled time
        response = client.post(reverse("certifications:renew", args=[certification.pk]), {"id_photo": png_upload()})
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
    assert "已提交，正在审核" in page


def test_refused_hospital_change_says_when(client, certification, owner):
    user, _ = owner
    a, b, c = (InstitutionFactory(region=certification.region) for _ in range(3))
    client.force_login(user)
    url = reverse("certifications:hospital", args=[certification.pk])
    with at("2026-04-01"):
        client.post(url, {"institution": a.pk})
        client.post(url, {"institution": b.pk})
        page = client.post(url, {"institution": c.pk}, follow=True).content.decode()
    assert "2027-01-01" in page and "每年最多可变更 1 次" in page


def test_hospital_filters_by_level_and_district(client, certification, owner):
    user, _ = owner
    InstitutionFactory(region=certification.region, name="甲区三级医院", level=3, district="甲区")
    InstitutionFactory(region=certification.region, name="乙区二级医院", level=2, district="乙区")
    InstitutionFactory(region=certification.region, name="非定点医院", level=2, district="乙区", designated=False)
    client.force_login(user)
    url = reverse("certifications:hospital", args=[certification.pk])
    page = client.get(url, {"level": 2, "district": "乙区"}).content.decode()
    assert "乙区二级医院" in page and "甲区三级医院" not in page and "非定点医院" not in page


def test_proof_download_for_the_owner_only_and_private(client, registration, owner):
    user, _ = owner
    client.force_login(user)
    response = client.get(reverse("certifications:remote_care_proof", args=[registration.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_remote_care_form_shows_six_month_error(client, certification, owner):
    user, _ = owner
    with at("2026-03-01"):
        client.force_login(user)  # sessions expire: log in at the travelled time
        page = client.post(reverse("certifications:remote_care", args=[certification.pk]), {
            "kind": "temporary", "reason": "referral", "province": "广东省", "city": "广州市",
            "start_date": "2026-03-01", "end_date": "2026-06-01", "proof": png_upload(),
        }).content.decode()
    assert "不少于 6 个月" in page and "2026-09-01" in page


def test_household_page_queries_do_not_grow_per_certification(client, region, owner, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, person = owner
    first = CertificationFactory(application__patient=person, application__region=region)
    client.force_login(user)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("certifications:index"))
    for _ in range(3):
        CertificationFactory(application__patient=person, application__region=region, application__disease=first.disease)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(reverse("certifications:index")).content.decode()
    # Three cards a person on the overview, and the way to all four.
    assert page.count('class="card cert-card"') == 3
    assert "查看此人全部 4 项门特资格" in page and reverse("certifications:person", args=[person.pk]) in page
