"""Account-area factories: real-name identities and household members (traits by state)."""
import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from portal.models import HouseholdMember, HouseholdProof, Identity, ProofKind, Relationship
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


class HouseholdProofFactory(factory.django.DjangoModelFactory):
    """A proof page as listed; only the stored name is set (no file is written)."""

    class Meta:
        model = HouseholdProof

    member = factory.SubFactory(HouseholdMemberFactory)
    file = factory.Sequence(lambda n: f"household/proof-{n}.png")
    original_name = factory.Sequence(lambda n: f"户口本第{n}页.png")
    content_type = "image/png"
    size = 1024
    sha256 = "0" * 64
