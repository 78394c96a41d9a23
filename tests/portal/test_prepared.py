"""portal.prepared.instance: rows made into the instances ``Model.from_db`` makes."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_init

from applications.models import Application, ApplicationEvent, Person, UploadedMaterial
from portal import prepared
from portal.models import User
from tests.applications.factories import ApplicationFactory, UploadedMaterialFactory
from tests.certifications.factories import citizen

pytestmark = pytest.mark.django_db


def _row(model, pk, deferred=frozenset()):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(prepared.select_columns(model, 't', deferred))} FROM {table} t WHERE t.id = %s", [pk])
        return cursor.fetchone()


def _as_from_db(model, deferred, row):
    # The ORM's own converters for each loaded column, then Model.from_db.
    names, values = [], []
    for f, value in zip(prepared.loaded_fields(model, deferred), row):
        column = f.get_col(model._meta.db_table)
        for func in connection.ops.get_db_converters(column) + f.get_db_converters(connection):
            value = func(value, column, connection)
        names.append(f.attname)
        values.append(value)
    return model.from_db(connection.alias, names, values)


def _same(built, expected):
    assert type(built) is type(expected)
    assert {k: v for k, v in built.__dict__.items() if k != "_state"} == {
        k: v for k, v in expected.__dict__.items() if k != "_state"
    }
    assert (built._state.db, built._state.adding) == (expected._state.db, expected._state.adding) == ("default", False)
    assert built.get_deferred_fields() == expected.get_deferred_fields()


def test_each_model_read_is_the_instance_from_db_makes():
    user, me = citizen()
    application = ApplicationFactory(applicant=user, patient=me, submitted=True)
    material = UploadedMaterialFactory(application=application)
    event = ApplicationEvent.objects.filter(application=application).first()
    cases = [(Application, application.pk, frozenset()), (Application, application.pk, frozenset({"diagnosis"})),
             (Person, me.pk, frozenset()), (Person, me.pk, frozenset({"id_number"})),
             (UploadedMaterial, material.pk, frozenset()), (User, user.pk, frozenset())]
    if event is not None:
        cases.append((ApplicationEvent, event.pk, frozenset()))
    for model, pk, deferred in cases:
        row = _row(model, pk, deferred)
        built = prepared.instance(model, deferred, row)
        _same(built, _as_from_db(model, deferred, row))
        fresh = model.objects.get(pk=pk)
        for name in {f.attname for f in prepared.loaded_fields(model, deferred)}:
            assert getattr(built, name) == getattr(fresh, name), (model, name)
    # Behaves as a loaded instance: a deferred field is read on access, a save updates the row.
    built = prepared.instance(Person, frozenset({"id_number"}), _row(Person, me.pk, frozenset({"id_number"})))
    assert built.id_number == me.id_number
    built.full_name = "新名字"
    built.save(update_fields=["full_name"])
    assert Person.objects.get(pk=me.pk).full_name == "新名字"


def test_a_model_with_a_post_init_receiver_is_made_by_from_db():
    user, _ = citizen()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=User)
    try:
        built = prepared.instance(User, frozenset(), _row(User, user.pk))
    finally:
        post_init.disconnect(receiver, sender=User)
    assert seen == [user.pk] and built.pk == user.pk
