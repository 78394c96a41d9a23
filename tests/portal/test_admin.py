import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.portal.factories import HouseholdMemberFactory, IdentityFactory
from tests.reviews.conftest import mfa_login  # noqa: F401 - staff sign in with password + TOTP


@pytest.mark.django_db
def test_admin_lists_accounts_with_masked_personal_data(mfa_login):
    client = mfa_login(UserFactory(staff=True, is_superuser=True, username="boss"))
    identity = IdentityFactory(verified=True)
    member = HouseholdMemberFactory(account=identity.user)
    for name, obj in (("identity", identity), ("householdmember", member)):
        listing = client.get(reverse(f"admin:portal_{name}_changelist"))
        assert listing.status_code == 200
        html = listing.content.decode()
        assert obj.person.id_number not in html and obj.person.full_name not in html
        detail = client.get(reverse(f"admin:portal_{name}_change", args=[obj.pk]))
        assert detail.status_code == 200 and obj.person.id_number not in detail.content.decode()
        # Read-only: changes go through the citizen's services, never the admin.
        assert client.post(reverse(f"admin:portal_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    users = client.get(reverse("admin:portal_user_changelist") + "?q=" + identity.user.phone)
    assert users.status_code == 200 and identity.user.username in users.content.decode()
