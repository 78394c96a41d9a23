"""Account-area factories: real-name identities and household members (traits by state)."""
import factory
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
