"""Account-area factories: real-name identities and household members (traits by state)."""
import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from portal.models import HouseholdMember, Identity, ProofKind, Relationship
from tests.factories import PersonFactory, RegionFactory, SchemeFactory, UserFactory


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    user = factory.SubFactory(UserFactory)
    person = factory.SubFactory(PersonFactory)
    region = factory.SubFactory(RegionFactory)
    scheme = factory.SubFactory(SchemeFactory)
    provider = ""

    class Params:
        verified = factory.Trait(
            verified_at=factory.LazyFunction(timezone.now),
            provider="dev",
            provider_reference=factory.Sequence(lambda n: f"dev-test-{n}"),
        )


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    account = factory.SubFactory(UserFactory)
    person = factory.SubFactory(PersonFactory)
    relationship = Relationship.PARENT
    proof_kind = ProofKind.HUKOU


class EmailAddressFactory(factory.django.DjangoModelFactory):
    """allauth's e-mail row (the portal signs in by phone; the admin still lists these)."""

    class Meta:
        model = EmailAddress

    user = factory.SubFactory(UserFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    verified = True
    primary = True
