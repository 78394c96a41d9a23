"""Real-name identity: submit, face check (development provider), and who may claim an ID number."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from applications.models import Person
from applications.selectors import person_find_by_id_number
from portal.models import Identity
from portal.selectors import identity_is_verified, person_list_for_account
from portal.services import identity_submit, identity_verify
from tests.factories import PersonFactory, RegionFactory, SchemeFactory, UserFactory, make_id_number
from tests.portal.factories import HouseholdMemberFactory, IdentityFactory

ID = "11010519491231002X"


@pytest.fixture
def region():
    return RegionFactory()


@pytest.fixture
def scheme():
    return SchemeFactory(code="employee_retired", name="职工医保（退休）")


def _submit_form(client, region, scheme, **overrides):
    data = {"full_name": "王秀英", "id_number": ID.lower(), "region": region.pk, "scheme": scheme.pk, **overrides}
    return client.post(reverse("me:identity"), data)


@pytest.mark.django_db
def test_identity_flow_over_http(client, region, scheme):
    user = UserFactory()
    client.force_login(user)
    assert "未认证" in client.get(reverse("me:home")).content.decode()

    response = _submit_form(client, region, scheme)
    assert response.status_code == 302
    assert response["Location"] == reverse("me:identity_face")
    assert identity_is_verified(user=user) is False
    face = client.get(reverse("me:identity_face")).content.decode()
    assert "110105********002X" in face and ID not in face

    response = client.post(reverse("me:identity_check"), {"outcome": "pass"})
    assert response.status_code == 302 and response["Location"] == reverse("me:home")
    assert identity_is_verified(user=user) is True
    identity = Identity.objects.get(user=user)
    assert identity.provider == "dev" and identity.provider_reference.startswith("dev-")
    person = person_find_by_id_number(id_number=ID)  # typed with a lowercase x
    assert person is not None and Person.objects.count() == 1
    assert (person.region, person.scheme) == (region, scheme)
    me = client.get(reverse("me:home")).content.decode()
    assert "已认证" in me and "王**" in me and ID not in me
    assert reverse("account_change_phone") in me and reverse("applications:list") in me
    assert user.phone[-4:] in me and user.phone not in me  # masked: 139****1234

    # Verified identities are not editable online.
    page = client.get(reverse("me:identity")).content.decode()
    assert "不能在线修改" in page
    response = _submit_form(client, region, scheme, full_name="王秀")
    assert "不能在线修改" in response.content.decode()


@pytest.mark.django_db
def test_failed_face_check_stays_unverified_with_a_message(client, region, scheme):
    user = UserFactory()
    client.force_login(user)
    _submit_form(client, region, scheme)
    response = client.post(reverse("me:identity_check"), {"outcome": "fail"}, follow=True)
    assert "人脸比对未通过" in response.content.decode()
    assert identity_is_verified(user=user) is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("11010519491231002", "应为 18 位"),
        ("11010519491231002Y", "前 17 位应为数字"),
        ("110105194902310021", "出生日期"),
        ("110105194912310021", "校验码"),
    ],
)
def test_identity_form_says_what_is_wrong_with_the_number(client, region, scheme, typed, message):
    client.force_login(UserFactory())
    response = _submit_form(client, region, scheme, id_number=typed)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_old_address_code_is_accepted(region, scheme):
    number = make_id_number(address="430521", birth="19600101", sequence=11)  # 邵东县, renamed 2019
    identity = identity_submit(user=UserFactory(), full_name="李四", id_number=number, region=region, scheme=scheme)
    assert identity.person.id_number == number


@pytest.mark.django_db
def test_existing_person_with_another_name_is_refused_without_revealing_it(region, scheme):
    PersonFactory(full_name="王秀英", id_number=ID)
    with pytest.raises(ValidationError) as caught:
        identity_submit(user=UserFactory(), full_name="王小明", id_number=ID, region=region, scheme=scheme)
    message = caught.value.message_dict["full_name"][0]
    assert message == "姓名与身份证号不一致，请核对后重新填写。"
    assert "王秀英" not in message and "王*" not in message
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_existing_person_with_same_name_is_reused(region, scheme):
    """A daughter added her mother first; the mother then signs up herself: still one person."""
    mother = PersonFactory(full_name="王秀英", id_number=ID, region=None, scheme=None)
    HouseholdMemberFactory(person=mother)
    identity = identity_submit(user=UserFactory(), full_name="王秀英", id_number=ID, region=region, scheme=scheme)
    assert identity.person == mother
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_number_verified_by_another_account_is_refused(region, scheme):
    IdentityFactory(person=PersonFactory(full_name="王秀英", id_number=ID), verified=True)
    with pytest.raises(ValidationError) as caught:
        identity_submit(user=UserFactory(), full_name="王秀英", id_number=ID, region=region, scheme=scheme)
    assert "已在另一个账户完成实名认证" in caught.value.message_dict["id_number"][0]


@pytest.mark.django_db
def test_two_pending_claims_only_the_first_to_verify_wins(region, scheme):
    first, second = UserFactory(), UserFactory()
    identity_submit(user=first, full_name="王秀英", id_number=ID, region=region, scheme=scheme)
    identity_submit(user=second, full_name="王秀英", id_number=ID, region=region, scheme=scheme)
    assert identity_verify(user=first, data={}).passed
    with pytest.raises(ValidationError) as caught:
        identity_verify(user=second, data={})
    assert "已在另一个账户完成实名认证" in caught.value.messages[0]
    assert identity_is_verified(user=second) is False


@pytest.mark.django_db
def test_database_refuses_a_second_verified_identity_for_one_person():
    person = PersonFactory()
    IdentityFactory(person=person, verified=True)
    with pytest.raises(IntegrityError):
        IdentityFactory(person=person, verified=True)


@pytest.mark.django_db
def test_unverified_claim_does_not_open_the_persons_cases(region, scheme):
    """Anyone can type a name and an ID number; only a passed face check grants access."""
    victim = PersonFactory(full_name="王秀英", id_number=ID)
    HouseholdMemberFactory(person=victim)  # the real daughter
    stranger = UserFactory()
    identity_submit(user=stranger, full_name="王秀英", id_number=ID, region=region, scheme=scheme)
    assert list(person_list_for_account(user=stranger)) == []
    # ... and the pending claim did not change the person's insurance details.
    before = victim.scheme_id
    assert before != scheme.pk
    victim.refresh_from_db()
    assert victim.scheme_id == before


@pytest.mark.django_db
def test_dev_provider_refuses_outside_development(client, settings, region, scheme):
    settings.IDENTITY_DEV_PROVIDER_ALLOWED = False
    user = UserFactory()
    client.force_login(user)
    _submit_form(client, region, scheme)
    assert "暂不可用" in client.get(reverse("me:identity_face")).content.decode()
    response = client.post(reverse("me:identity_check"), {"outcome": "pass"}, follow=True)
    assert response.status_code == 200
    assert "实名核验服务暂不可用" in response.content.decode()
    assert identity_is_verified(user=user) is False


@pytest.mark.django_db
def test_provider_is_chosen_by_setting(settings, region, scheme):
    settings.IDENTITY_PROVIDER = "tests.portal.test_identity.RefusingProvider"
    user = UserFactory()
    identity_submit(user=user, full_name="王秀英", id_number=ID, region=region, scheme=scheme)
    result = identity_verify(user=user, data={})
    assert not result.passed and result.message == "provider says no"


@pytest.mark.django_db
def test_identity_pages_need_login(client):
    for name in ("me:home", "me:identity", "me:identity_face", "me:household", "me:household_add"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_anonymous_is_never_verified():
    from django.contrib.auth.models import AnonymousUser

    assert identity_is_verified(user=AnonymousUser()) is False
    assert list(person_list_for_account(user=AnonymousUser())) == []


from portal.identity_providers import IdentityProvider, VerificationResult  # noqa: E402


class RefusingProvider(IdentityProvider):
    code = "refusing"

    def start(self, *, identity, request):
        return "/elsewhere/"

    def check(self, *, identity, data):
        return VerificationResult(passed=False, message="provider says no")


@pytest.mark.django_db
def test_id_numbers_never_reach_the_logs(client, region, scheme, caplog):
    import logging

    from tests.portal.uploads import png_file

    caplog.set_level(logging.DEBUG)
    user = UserFactory()
    client.force_login(user)
    _submit_form(client, region, scheme)
    client.post(reverse("me:identity_check"), {"outcome": "pass"})
    parent_id = make_id_number(address="430521", birth="19420305", sequence=44)
    client.post(
        reverse("me:household_add"),
        {"full_name": "王大妈", "id_number": parent_id, "relationship": "parent", "proof_kind": "hukou",
         "proof_files": [png_file()]},
    )
    assert identity_is_verified(user=user) and user.household.count() == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "identity verified" in logged  # the services do log, just not the numbers
    assert ID not in logged and ID.lower() not in logged and parent_id not in logged


def test_system_check_reports_a_broken_provider_setting(settings):
    from portal.checks import identity_provider_check

    assert identity_provider_check(None) == []
    settings.IDENTITY_PROVIDER = "portal.identity_providers.NoSuchProvider"
    assert [m.id for m in identity_provider_check(None)] == ["portal.E001"]
    settings.IDENTITY_PROVIDER = "portal.phone_numbers.phone_normalize"
    assert [m.id for m in identity_provider_check(None)] == ["portal.E001"]
