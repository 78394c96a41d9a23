import pytest

from applications.id_numbers import is_valid_id_number
from tests.factories import PersonFactory, make_id_number


def test_generated_id_numbers_are_valid():
    assert all(is_valid_id_number(make_id_number(sequence=n)) for n in range(200))


@pytest.mark.django_db
def test_person_factory_makes_distinct_valid_people():
    people = PersonFactory.create_batch(5)
    assert len({p.id_number for p in people}) == 5
    assert all(is_valid_id_number(p.id_number) for p in people)
