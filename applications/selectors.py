"""Reads of the applications app. Access rules live here, in named selectors."""
from __future__ import annotations

from applications.id_numbers import normalize_id_number
from applications.models import Person


def person_find_by_id_number(*, id_number: str) -> Person | None:
    """The one way to find a person by resident ID number.

    Callers never filter on ``id_number`` themselves: at-rest encryption replaces the plain column
    with a keyed hash, and only this function has to change.
    """
    return Person.objects.filter(id_number=normalize_id_number(id_number)).first()
