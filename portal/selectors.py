"""Who an account may act for. The one place that answers it; access selectors build on it."""
from __future__ import annotations

from django.db.models import QuerySet

from applications.models import Person


def person_list_for_account(*, user) -> QuerySet[Person]:
    """The account holder's own person (once verified or not) plus their household members."""
    if not user.is_authenticated:
        return Person.objects.none()
    from django.db.models import Q

    return Person.objects.filter(Q(identities__user=user) | Q(household_links__account=user)).distinct()
