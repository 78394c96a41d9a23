"""Household members: add with proof files, one person across accounts, remove, private files."""
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse

from applications.models import Person
from applications.selectors import person_find_by_id_number
from portal.models import HouseholdMember, HouseholdProof, ProofKind, ProofRole, Relationship
from portal.selectors import person_list_for_account
from portal.services import household_member_add, household_member_remove
from tests.factories import PersonFactory, RegionFactory, SchemeFactory, UserFactory, make_id_number
from tests.portal.factories import HouseholdMemberFactory, IdentityFactory
from tests.portal.uploads import html_disguised_as_jpeg, jpeg_file, pdf_file, png_file

MOTHER_ID = make_id_number(address="430521", birth="19500307", sequence=22)  # old 邵东县 code


def _form(**overrides):
    data = {
        "full_name": "李桂兰",
        "id_number": MOTHER_ID,
        "relationship": Relationship.PARENT,
        "proof_kind": ProofKind.HUKOU,
        "proof_files": [png_file("hukou-1.png"), png_file("hukou-2.png")],
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_add_parent_with_hukou_pages_over_http(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("me:household_add")).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'accept="image/jpeg,image/png,application/pdf' in page

    response = client.post(reverse("me:household_add"), _form())
    assert response.status_code == 302 and response["Location"] == reverse("me:household")
    member = HouseholdMember.objects.get(account=user)
    assert member.person.id_number == MOTHER_ID
    proofs = list(member.proofs.all())
    assert [p.original_name for p in proofs] == ["hukou-1.png", "hukou-2.png"]
    for proof in proofs:
        # Random storage names: neither the file name nor the ID number leaks into the path.
        assert "hukou" not in proof.file.name and MOTHER_ID not in proof.file.name
        assert proof.content_type == "image/png" and default_storage.exists(proof.file.name)

    listing = client.get(reverse("me:household")).content.decode()
    assert "李**" in listing and "430521********" in listing and MOTHER_ID not in listing
    assert "李桂兰" not in listing


@pytest.mark.django_db
def test_disguised_file_is_refused_with_its_name_and_nothing_is_stored(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("me:household_add"), _form(proof_files=[png_file("ok.png"), html_disguised_as_jpeg("hukou.jpg")])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "hukou.jpg" in html and "网页或脚本文件" in html
    assert not HouseholdMember.objects.exists() and not HouseholdProof.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_authorization_letter_needs_the_agents_id(client):
    user = UserFactory()
    client.force_login(user)
    data = _form(relationship=Relationship.OTHER, proof_kind=ProofKind.AUTHORIZATION, proof_files=[pdf_file()])
    response = client.post(reverse("me:household_add"), data)
    assert response.status_code == 200
    assert "请同时上传您（代办人）的身份证照片" in response.content.decode()

    data = _form(
        relationship=Relationship.OTHER,
        proof_kind=ProofKind.AUTHORIZATION,
        proof_files=[pdf_file()],
        agent_id_files=[jpeg_file("front.jpg"), jpeg_file("back.jpg")],
    )
    response = client.post(reverse("me:household_add"), data)
    assert response.status_code == 302
    member = HouseholdMember.objects.get(account=user)
    roles = sorted(member.proofs.values_list("role", "content_type"))
    assert roles == [
        (ProofRole.AGENT_ID, "image/jpeg"),
        (ProofRole.AGENT_ID, "image/jpeg"),
        (ProofRole.RELATIONSHIP, "application/pdf"),
    ]


@pytest.mark.django_db
def test_non_relative_must_use_an_authorization_letter():
    with pytest.raises(ValidationError) as caught:
        household_member_add(account=UserFactory(), **_form(relationship=Relationship.OTHER))
    assert "授权委托书" in caught.value.message_dict["proof_kind"][0]


@pytest.mark.django_db
def test_proof_is_required():
    with pytest.raises(ValidationError) as caught:
        household_member_add(account=UserFactory(), **_form(proof_files=[]))
    assert "请上传证明材料" in caught.value.message_dict["proof_files"][0]


@pytest.mark.django_db
def test_invalid_id_number_gets_its_specific_message():
    with pytest.raises(ValidationError) as caught:
        household_member_add(account=UserFactory(), **_form(id_number=MOTHER_ID[:-1] + ("0" if MOTHER_ID[-1] != "0" else "1")))
    assert "校验码" in caught.value.message_dict["id_number"][0]


@pytest.mark.django_db
def test_a_person_added_by_two_accounts_is_one_person():
    daughter, son = UserFactory(), UserFactory()
    first = household_member_add(account=daughter, **_form())
    second = household_member_add(account=son, **_form(id_number=MOTHER_ID.lower()))
    assert first.person_id == second.person_id
    assert Person.objects.count() == 1 and person_find_by_id_number(id_number=MOTHER_ID) == first.person
    assert list(person_list_for_account(user=daughter)) == [first.person]
    assert list(person_list_for_account(user=son)) == [first.person]


@pytest.mark.django_db
def test_second_account_with_another_name_is_refused():
    household_member_add(account=UserFactory(), **_form())
    with pytest.raises(ValidationError) as caught:
        household_member_add(account=UserFactory(), **_form(full_name="李桂芳"))
    assert caught.value.message_dict["full_name"] == ["姓名与身份证号不一致，请核对后重新填写。"]


@pytest.mark.django_db
def test_same_member_twice_and_self_are_refused():
    user = UserFactory()
    household_member_add(account=user, **_form())
    with pytest.raises(ValidationError) as caught:
        household_member_add(account=user, **_form())
    assert "已在您的家庭成员列表中" in caught.value.message_dict["id_number"][0]

    me = IdentityFactory(user=UserFactory(), verified=True)
    with pytest.raises(ValidationError) as caught:
        household_member_add(
            account=me.user, **_form(full_name=me.person.full_name, id_number=me.person.id_number)
        )
    assert "您本人的身份证号" in caught.value.message_dict["id_number"][0]


@pytest.mark.django_db
def test_insurance_details_fill_gaps_but_never_overwrite():
    region, scheme = RegionFactory(), SchemeFactory(code="resident", name="城乡居民医保")
    member = household_member_add(account=UserFactory(), region=region, scheme=scheme, **_form())
    assert (member.person.region, member.person.scheme) == (region, scheme)
    other_scheme = SchemeFactory(code="employee_retired", name="职工医保（退休）")
    household_member_add(account=UserFactory(), region=region, scheme=other_scheme, **_form())
    member.person.refresh_from_db()
    assert member.person.scheme == scheme


@pytest.mark.django_db(transaction=True)
def test_remove_deletes_link_and_files_but_keeps_the_person(client):
    user = UserFactory()
    member = household_member_add(account=user, **_form())
    names = list(member.proofs.values_list("file", flat=True))
    client.force_login(user)
    confirm = client.get(reverse("me:household_remove", args=[member.pk]))
    assert confirm.status_code == 200 and "确定要移除 李**" in confirm.content.decode()
    assert HouseholdMember.objects.filter(pk=member.pk).exists()  # asking removes nothing
    response = client.post(reverse("me:household_remove", args=[member.pk]))
    assert response.status_code == 302
    assert not HouseholdMember.objects.filter(pk=member.pk).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert Person.objects.filter(pk=member.person_id).exists()
    assert list(person_list_for_account(user=user)) == []


@pytest.mark.django_db
def test_other_accounts_cannot_remove_or_read(client):
    owner, other = UserFactory(), UserFactory()
    member = household_member_add(account=owner, **_form())
    proof = member.proofs.first()
    client.force_login(other)
    assert client.get(reverse("me:household_remove", args=[member.pk])).status_code == 404
    assert client.post(reverse("me:household_remove", args=[member.pk])).status_code == 404
    assert client.get(reverse("me:household_proof", args=[proof.pk])).status_code == 404
    assert HouseholdMember.objects.filter(pk=member.pk).exists()
    with pytest.raises(HouseholdMember.DoesNotExist):
        household_member_remove(account=other, member_id=member.pk)


@pytest.mark.django_db
def test_owner_reads_proof_file_with_safe_headers(client):
    owner = UserFactory()
    member = household_member_add(account=owner, **_form(proof_files=[pdf_file("letter.pdf")]))
    proof = member.proofs.get()
    client.force_login(owner)
    response = client.get(reverse("me:household_proof", args=[proof.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


@pytest.mark.django_db
def test_anonymous_gets_login_not_the_file(client):
    member = household_member_add(account=UserFactory(), **_form())
    response = client.get(reverse("me:household_proof", args=[member.proofs.first().pk]))
    assert response.status_code == 302


@pytest.mark.django_db
def test_person_list_for_account_is_own_verified_person_plus_household():
    user = UserFactory()
    own = IdentityFactory(user=user, verified=True).person
    parent = HouseholdMemberFactory(account=user).person
    HouseholdMemberFactory()  # someone else's member
    IdentityFactory(verified=True)  # someone else's identity
    stranger_person = PersonFactory()
    result = list(person_list_for_account(user=user).order_by("pk"))
    assert result == sorted([own, parent], key=lambda p: p.pk)
    assert stranger_person not in result
    # Shared by two accounts and linked twice: still listed once.
    HouseholdMemberFactory(person=parent)
    assert person_list_for_account(user=user).count() == 2


@pytest.mark.django_db
def test_person_list_for_account_excludes_unverified_own_person():
    user = UserFactory()
    IdentityFactory(user=user)
    assert list(person_list_for_account(user=user)) == []


@pytest.mark.django_db
def test_at_most_ten_proof_files_per_member():
    with pytest.raises(ValidationError) as caught:
        household_member_add(account=UserFactory(), **_form(proof_files=[png_file(f"p{n}.png") for n in range(11)]))
    assert caught.value.message_dict["proof_files"] == ["每位家庭成员最多上传 10 个文件。"]
    assert not HouseholdProof.objects.exists()
