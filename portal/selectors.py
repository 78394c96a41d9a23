"""Reads of the citizen's account: who an account may act for, identity, household.

``person_list_for_account`` is the base of every citizen access rule; the other selectors
return ``None`` for anything that is not the caller's, so views answer 404.
"""
from __future__ import annotations

from django.db.models import QuerySet

from applications.models import Person
from portal.models import HouseholdMember, HouseholdProof, Identity


def person_list_for_account(*, user) -> QuerySet[Person]:
    """The people this account may see and act for: its own person and its household members.

    The own person counts only once the real-name check passed: anyone can *type* someone else's
    name and ID number, and an unverified claim must never open that person's cases.
    (An unverified account drafts for itself through ``identity_get_for_user(...).person``.)
    """
    if not user.is_authenticated:
        return Person.objects.none()
    return Person.objects.filter(pk__in=_person_ids(user=user))


def _person_ids(*, user) -> QuerySet:
    # A UNION of two indexed lookups, not an OR across two joined tables: with the OR PostgreSQL
    # joins every person with every identity and household row (seconds at a million people).
    own = Identity.objects.filter(user=user, verified_at__isnull=False).values_list("person_id", flat=True)
    household = HouseholdMember.objects.filter(account=user).values_list("person_id", flat=True)
    return own.union(household)


def person_ids_for_account(*, user) -> list[int]:
    """The ids of ``person_list_for_account``, read now (one query): the same rule, for filters
    that take a list (``patient_id__in=``) instead of nesting the rule's query in theirs."""
    if not user.is_authenticated:
        return []
    from applications import citizen_sql

    if citizen_sql.prepared_reads_available():
        # The same UNION as a prepared statement: building the queryset cost four times its query.
        return citizen_sql.person_ids(user_id=user.pk)
    return list(_person_ids(user=user))


def identity_get_for_user(*, user) -> Identity | None:
    if not user.is_authenticated:
        return None
    return Identity.objects.select_related("person", "region", "scheme").filter(user=user).first()


def identity_is_verified(*, user) -> bool:
    """Whether the account passed the real-name check (needed to submit; drafts are allowed without)."""
    if not user.is_authenticated:
        return False
    return Identity.objects.filter(user=user, verified_at__isnull=False).exists()


def household_member_list_for_account(*, user) -> QuerySet[HouseholdMember]:
    if not user.is_authenticated:
        return HouseholdMember.objects.none()
    return (
        HouseholdMember.objects.filter(account=user)
        .select_related("person", "person__region", "person__scheme")
        .prefetch_related("proofs")
        .order_by("created_at", "pk")
    )


def household_member_get_for_account(*, user, member_id: int) -> HouseholdMember | None:
    return household_member_list_for_account(user=user).filter(pk=member_id).first()


def household_proof_get_for_account(*, user, proof_id: int) -> HouseholdProof | None:
    """A proof file, only for the account that uploaded it (the household member's own account)."""
    if not user.is_authenticated:
        return None
    return HouseholdProof.objects.select_related("member").filter(pk=proof_id, member__account=user).first()
