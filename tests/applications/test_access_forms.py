"""The citizen rule exists in two forms: the list (a UNION, for pages of cases) and the lookup of
one case by its key (an OR over one row, cheaper to plan). They must agree on every case."""
import pytest
from django.contrib.auth.models import AnonymousUser

from applications import selectors
from applications.models import Application, ApplicationStatus
from portal.models import HouseholdMember
from tests.applications.factories import ApplicationFactory
from tests.factories import PersonFactory, UserFactory
from tests.certifications.factories import citizen

pytestmark = pytest.mark.django_db


def test_the_lookup_by_key_and_the_list_agree_on_every_case():
    parent_user, parent = citizen()
    child_user, child = citizen()
    HouseholdMember.objects.create(account=child_user, person=parent, relationship="parent", proof_kind="hukou")
    stranger = PersonFactory()
    cases = [
        ApplicationFactory(applicant=child_user, patient=parent, submitted=True),  # child files for parent
        ApplicationFactory(applicant=child_user, patient=parent),  # child's draft for parent
        ApplicationFactory(applicant=parent_user, patient=parent, submitted=True),  # parent's own
        ApplicationFactory(applicant=parent_user, patient=parent),  # parent's own draft
        ApplicationFactory(applicant=UserFactory(), patient=parent, submitted=True),  # a third account, for parent
        ApplicationFactory(applicant=UserFactory(), patient=parent),  # a third account's draft for parent
        ApplicationFactory(applicant=UserFactory(), patient=stranger, submitted=True),
        ApplicationFactory(applicant=child_user, patient=stranger, submitted=True),  # filed for a non-member
    ]
    assert {c.status for c in cases} >= {ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED}
    for user in (parent_user, child_user, UserFactory(), AnonymousUser()):
        listed = set(selectors.application_list_for_citizen(user=user).values_list("pk", flat=True))
        own = set(selectors.application_list_for_applicant(user=user).values_list("pk", flat=True))
        for case in cases:
            try:
                selectors.application_get_for_citizen(user=user, pk=case.pk)
                found = True
            except Application.DoesNotExist:
                found = False
            assert found == (case.pk in listed), (user, case.pk)
            assert (case.pk in own) == (getattr(user, "pk", None) == case.applicant_id), (user, case.pk)
        assert own <= listed
    # Spot checks that the rule is the intended one, not only self-consistent.
    child_sees = set(selectors.application_list_for_citizen(user=child_user).values_list("pk", flat=True))
    assert child_sees == {cases[0].pk, cases[1].pk, cases[2].pk, cases[4].pk, cases[7].pk}
