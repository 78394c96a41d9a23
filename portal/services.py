"""Writes of the citizen's account: real-name identity and household members.

One resident ID number is one ``Person`` row, shared by everyone who has to do with that person
(the person's own account, a daughter's household list, ...). Lookups go through
``applications.selectors.person_find_by_id_number`` only. Messages never reveal anything about
a record the caller does not already know.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Person
from applications.selectors import person_find_by_id_number
from applications.uploads import UploadRejected, upload_inspect
from portal.auth_backends import own_person_forget
from portal.id_validation import id_number_clean
from portal.identity_providers import VerificationResult, identity_provider_get
from portal.models import HouseholdMember, HouseholdProof, Identity, ProofKind, ProofRole, Relationship

logger = logging.getLogger(__name__)

MAX_PROOF_FILES = 10


def _name_clean(value: str) -> str:
    # Names of some ethnic groups contain a middle dot, typed in several ways.
    name = " ".join((value or "").split()).replace("•", "·").replace("．", "·")
    if not name:
        raise ValidationError({"full_name": _("请填写姓名（与身份证一致）。")})
    if len(name) > 50:
        raise ValidationError({"full_name": _("姓名过长，请核对。")})
    return name


def _id_clean(value: str) -> str:
    try:
        return id_number_clean(value)
    except ValidationError as error:
        raise ValidationError({"id_number": error.messages}) from None


def _name_mismatch() -> ValidationError:
    # Same words whether the number is new or known: never confirm whose number it is.
    return ValidationError({"full_name": _("姓名与身份证号不一致，请核对后重新填写。")})


def person_get_or_create(*, full_name: str, id_number: str, region=None, scheme=None) -> Person:
    """The one Person for this ID number, created if new; refuses a different name."""
    person = person_find_by_id_number(id_number=id_number)
    if person is None:
        try:
            with transaction.atomic():
                person = Person.objects.create(full_name=full_name, id_number=id_number, region=region, scheme=scheme)
        except IntegrityError:
            # Someone created the same person a moment ago: use that row.
            person = person_find_by_id_number(id_number=id_number)
            if person is None:
                raise
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.full_name != full_name:
        raise _name_mismatch()
    return person


@transaction.atomic
def identity_submit(*, user, full_name: str, id_number: str, region=None, scheme=None) -> Identity:
    """Record who the account holder says they are; the face check (``identity_verify``) follows.

    Refused: a malformed ID number (specific message), a name that does not match an existing
    record, an ID number already verified by another account, and any change once verified.
    """
    identity = Identity.objects.select_for_update().filter(user=user).first()
    if identity is not None and identity.is_verified:
        raise ValidationError(_("您的实名信息已核验通过，不能在线修改；如需更正请携带身份证到医保经办窗口办理。"))
    full_name = _name_clean(full_name)
    id_number = _id_clean(id_number)
    if region is None:
        raise ValidationError({"region": _("请选择参保地。")})
    if scheme is None:
        raise ValidationError({"scheme": _("请选择参保类型。")})

    person = person_get_or_create(full_name=full_name, id_number=id_number)
    if Identity.objects.filter(person=person, verified_at__isnull=False).exclude(user=user).exists():
        raise ValidationError(
            {"id_number": _("该身份证号已在另一个账户完成实名认证。如非本人操作，请携带身份证到医保经办窗口处理。")}
        )
    if HouseholdMember.objects.filter(account=user, person=person).exists():
        raise ValidationError({"id_number": _("该身份证号已在您的家庭成员中，不能同时作为本人实名信息。")})

    if identity is None:
        identity = Identity.objects.create(user=user, person=person, region=region, scheme=scheme)
    else:
        identity.person, identity.region, identity.scheme = person, region, scheme
        identity.provider, identity.provider_reference = "", ""
        identity.save(update_fields=["person", "region", "scheme", "provider", "provider_reference"])
    own_person_forget(user=user)  # the rest of this request sees the new person
    logger.info("identity submitted user=%s", user.pk)
    return identity


class IdentityCheckUnavailable(Exception):
    """The configured face-check provider cannot be used here (e.g. the dev provider in production)."""


@transaction.atomic
def identity_verify(*, user, data: Mapping[str, str]) -> VerificationResult:
    """Judge the face check's outcome with the configured provider and record a pass.

    Idempotent: an identity that is already verified stays verified. The person row is locked so
    that two accounts proving the same ID number at once cannot both succeed (the database
    constraint ``identity_verified_once`` backs this up).
    """
    identity = Identity.objects.select_for_update().filter(user=user).first()
    if identity is None:
        raise ValidationError(_("请先填写实名信息。"))
    if identity.is_verified:
        return VerificationResult(passed=True, reference=identity.provider_reference)
    provider = identity_provider_get()
    if not provider.is_available():
        raise IdentityCheckUnavailable(provider.code)
    person = Person.objects.select_for_update().get(pk=identity.person_id)
    if Identity.objects.filter(person=person, verified_at__isnull=False).exclude(pk=identity.pk).exists():
        raise ValidationError(
            _("该身份证号已在另一个账户完成实名认证。如非本人操作，请携带身份证到医保经办窗口处理。")
        )
    result = provider.check(identity=identity, data=data)
    if not result.passed:
        logger.info("identity check failed user=%s provider=%s", user.pk, provider.code)
        return result

    identity.verified_at = timezone.now()
    identity.provider = provider.code
    identity.provider_reference = result.reference[:100]
    identity.save(update_fields=["verified_at", "provider", "provider_reference"])
    # The person has now proven who they are: their declared insurance wins over what a relative
    # may have entered when adding them as a household member.
    person.region_id, person.scheme_id = identity.region_id, identity.scheme_id
    person.save(update_fields=["region", "scheme"])
    logger.info("identity verified user=%s provider=%s", user.pk, provider.code)
    return result


def _inspect_all(files: Sequence, field: str) -> list:
    """Check every file and report every refusal at once, each naming its file."""
    inspected, problems = [], []
    for upload in files:
        try:
            inspected.append((upload, upload_inspect(upload)))
        except UploadRejected as rejection:
            problems.extend(rejection.messages)
    if problems:
        raise ValidationError({field: problems})
    return inspected


@transaction.atomic
def household_member_add(
    *,
    account,
    full_name: str,
    id_number: str,
    relationship: str,
    proof_kind: str,
    proof_files: Sequence = (),
    agent_id_files: Sequence = (),
    region=None,
    scheme=None,
) -> HouseholdMember:
    """Add someone this account may apply for, with the proof of the relationship.

    户口本 / 出生证明 pages prove family ties; with an authorization letter (授权委托书) the agent
    also uploads their own ID card. Files are checked by content (``applications.uploads``) and
    stored privately under random names.
    """
    errors: dict[str, list[str]] = {}
    try:
        full_name = _name_clean(full_name)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        id_number = _id_clean(id_number)
    except ValidationError as error:
        errors.update(error.message_dict)
    if relationship not in Relationship.values:
        errors["relationship"] = [_("请选择与您的关系。")]
    if proof_kind not in ProofKind.values:
        errors["proof_kind"] = [_("请选择证明材料类型。")]
    elif relationship == Relationship.OTHER and proof_kind != ProofKind.AUTHORIZATION:
        errors["proof_kind"] = [_("非亲属代办需上传授权委托书。")]
    if not proof_files:
        errors["proof_files"] = [_("请上传证明材料（户口本、出生证明或授权委托书的照片或扫描件）。")]
    if proof_kind == ProofKind.AUTHORIZATION and not agent_id_files:
        errors["agent_id_files"] = [_("使用授权委托书时，请同时上传您（代办人）的身份证照片。")]
    if len(proof_files) + len(agent_id_files) > MAX_PROOF_FILES:
        errors["proof_files"] = [_("每位家庭成员最多上传 %(count)d 个文件。") % {"count": MAX_PROOF_FILES}]
    checked: dict[str, list] = {}
    for field, files in (("proof_files", proof_files), ("agent_id_files", agent_id_files)):
        try:
            checked[field] = _inspect_all(files, field)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.message_dict[field])
    if errors:
        raise ValidationError(errors)

    own = Identity.objects.filter(user=account).values_list("person_id", flat=True).first()
    person = person_get_or_create(full_name=full_name, id_number=id_number, region=region, scheme=scheme)
    if person.pk == own:
        raise ValidationError({"id_number": _("这是您本人的身份证号，无需添加为家庭成员。")})
    if HouseholdMember.objects.filter(account=account, person=person).exists():
        raise ValidationError({"id_number": _("该成员已在您的家庭成员列表中。")})
    # Fill the insurance details only where nobody (above all the person themself) has yet.
    changed = []
    if region is not None and person.region_id is None:
        person.region, changed = region, [*changed, "region"]
    if scheme is not None and person.scheme_id is None:
        person.scheme, changed = scheme, [*changed, "scheme"]
    if changed:
        person.save(update_fields=changed)

    member = HouseholdMember.objects.create(
        account=account, person=person, relationship=relationship, proof_kind=proof_kind
    )
    stored: list[str] = []
    try:
        for role, field in ((ProofRole.RELATIONSHIP, "proof_files"), (ProofRole.AGENT_ID, "agent_id_files")):
            for upload, info in checked[field]:
                proof = HouseholdProof(
                    member=member,
                    role=role,
                    original_name=info.original_name,
                    content_type=info.content_type,
                    size=info.size,
                    sha256=info.sha256,
                )
                upload.seek(0)
                proof.file.save(f"proof.{info.extension}", upload, save=False)
                stored.append(proof.file.name)
                proof.save()
    except BaseException:
        # Storage is not transactional: files written before the failure would be orphans.
        for name in stored:
            default_storage.delete(name)
        raise
    logger.info("household member added account=%s member=%s", account.pk, member.pk)
    return member


@transaction.atomic
def household_member_remove(*, account, member_id: int) -> None:
    """Remove a household member of this account and their proof files. The person row stays:
    it may be another account's household member, or have applications."""
    member = HouseholdMember.objects.select_for_update().filter(pk=member_id, account=account).first()
    if member is None:
        raise HouseholdMember.DoesNotExist
    names = list(member.proofs.values_list("file", flat=True))
    member.delete()

    def delete_files() -> None:
        for name in names:
            default_storage.delete(name)

    # Only once the rows are gone for good; a rollback must not leave rows without files.
    transaction.on_commit(delete_files)
    logger.info("household member removed account=%s member=%s", account.pk, member_id)


def session_clear_expired() -> int:
    """Delete the sessions past their expiry (what ``manage.py clearsessions`` does), in Django's
    own table too (``portal.sessions`` says why it may still hold some), and say how many: each
    row names its account, so none is kept once it can no longer sign anybody in."""
    from django.contrib.sessions.models import Session as DjangoSession

    from portal.models import Session

    now = timezone.now()
    return sum(model.objects.filter(expire_date__lt=now).delete()[0] for model in (Session, DjangoSession))
