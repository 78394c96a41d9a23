"""The generator makes a consistent dataset: every reference resolves (it loads with foreign-key
triggers off), statuses, times, numbers and certifications agree with the lifecycle, ID numbers
are valid, and the same seed gives the same rows. Tiny scale; no timing is asserted."""
import datetime as dt
import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from applications.id_numbers import is_valid_id_number
from applications.lifecycle import OPEN_FOR_REVIEW
from applications.models import Application, ApplicationEvent, Certification, Person
from applications.selectors import person_find_by_id_number
from bench.generate import ensure_catalog, generate, id_number_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # COPY and session_replication_role are PostgreSQL's (the bench never runs on SQLite).
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator loads with PostgreSQL COPY"),
]

AS_OF = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
TABLES = [
    "applications_application", "applications_applicationevent", "applications_certification",
    "applications_uploadedmaterial", "applications_acceptancecounter", "applications_person", "portal_user",
    "portal_identity", "portal_householdmember", "notifications_notification",
]


def _quiet(*args):
    pass


def _orphans() -> list[str]:
    """Every foreign key of every table, checked with a join (the loader bypassed the checks)."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT cl.relname, a.attname, rc.relname, ra.attname
            FROM pg_constraint k
            JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class rc ON rc.oid = k.confrelid
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
            WHERE k.contype = 'f' AND cl.relnamespace = 'public'::regnamespace
            """
        )
        for table, column, ref_table, ref_column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t LEFT JOIN "{ref_table}" r ON r."{ref_column}" = t."{column}" '
                f'WHERE t."{column}" IS NOT NULL AND r."{ref_column}" IS NULL'
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column} -> {ref_table}")
    return found


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for row in Application.objects.order_by("pk").values_list(
        "pk", "status", "kind", "parent_id", "applicant_id", "patient_id", "disease_id", "acceptance_number",
        "submitted_at", "due_at", "decided_at",
    ):
        digest.update(repr(row).encode())
    for row in ApplicationEvent.objects.order_by("pk").values_list("application_id", "kind", "created_at"):
        digest.update(repr(row).encode())
    for row in Person.objects.order_by("pk").values_list("id_number", "full_name"):
        digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture
def dataset():
    assert ensure_catalog(prefer_loader=False) in ("minimal", "existing")
    return generate(applications=200, seed=7, as_of=AS_OF, log=_quiet)


def test_every_reference_resolves_and_counts_add_up(dataset):
    assert _orphans() == []
    assert dataset["applications"] == Application.objects.count() == 200
    assert dataset["events"] == ApplicationEvent.objects.count()
    assert Certification.objects.count() == Application.objects.filter(status="approved").count() > 0
    assert dataset["hot_accounts"] >= 1
    # The sequences continue after the copied ids: the ORM can still insert.
    user = get_user_model().objects.create(username="after-copy")
    assert user.pk > dataset["users"]


def test_cases_follow_the_lifecycle(dataset):
    decided = Application.objects.filter(status__in=["approved", "rejected", "withdrawn"]).count()
    assert decided > 150  # skewed to decided
    for app in Application.objects.prefetch_related("events"):
        events = list(app.events.all())
        times = [e.created_at for e in events]
        assert times == sorted(times), app.pk
        assert events[0].kind == "created"
        if app.status == "draft":
            assert app.acceptance_number is None and app.submitted_at is None and len(events) == 1
            continue
        assert app.acceptance_number and app.acceptance_number.startswith(app.region.code)
        assert 2 <= len(events) <= 7
        assert events[-1].to_status == app.status or app.status == "in_review"
        if app.status in OPEN_FOR_REVIEW:
            assert app.due_at is not None and app.decided_at is None
        if app.status == "supplement_requested":
            assert app.due_at is None and app.clock_started_at is None
        if app.decided_at is not None:
            assert app.submitted_at <= app.decided_at <= AS_OF + dt.timedelta(days=30)
        if app.parent_id:
            assert app.parent.created_at < app.created_at and app.parent.status in ("approved", "rejected")


def test_generated_messages_render(dataset):
    from notifications.models import Notification
    from notifications.templates_text import render_text

    messages = list(Notification.objects.all())
    assert messages
    for message in messages:
        assert render_text(message.template_key, message.params)


def test_people_have_valid_unique_id_numbers(dataset):
    numbers = list(Person.objects.values_list("id_number", flat=True))
    assert len(numbers) == len(set(numbers)) == dataset["persons"]
    assert all(is_valid_id_number(n) for n in numbers)
    # Stored the way the model stores them (encrypted, with the keyed lookup hash when it has one):
    # the one lookup the portal allows finds each person.
    person = Person.objects.order_by("pk").last()
    assert person_find_by_id_number(id_number=person.id_number).pk == person.pk


def test_id_numbers_are_one_to_one():
    numbers = {id_number_for(i, "430502") for i in range(0, 60_000, 7)}
    assert len(numbers) == len(range(0, 60_000, 7))


def test_same_seed_same_rows(dataset):
    first = _fingerprint()
    with connection.cursor() as cursor:
        existing = [t for t in TABLES if t in connection.introspection.table_names(cursor)]
        cursor.execute(f"TRUNCATE {', '.join(existing)} RESTART IDENTITY CASCADE")
    generate(applications=200, seed=7, as_of=AS_OF, log=_quiet)
    assert _fingerprint() == first
