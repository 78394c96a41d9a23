"""Field-level encryption: the field's conversions, rotation, keyed hashes, a real table."""
import secrets

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models

from portal import crypto

ID = "11010519491231002X"


@pytest.fixture
def keys(monkeypatch):
    old, new = Fernet.generate_key().decode(), secrets.token_urlsafe(40)  # a Fernet key and a passphrase
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", old)
    monkeypatch.setenv("FIELD_HASH_KEY", "h" * 40)
    return old, new


def test_field_round_trip_and_no_plaintext_in_the_stored_value(keys):
    field = crypto.EncryptedTextField()
    stored = field.get_prep_value(ID)
    assert stored.startswith(crypto.PREFIX) and ID not in stored
    # Randomised: the same number encrypts differently each time (no frequency analysis).
    assert field.get_prep_value(ID) != stored
    assert field.from_db_value(stored, None, connection) == ID
    assert field.to_python(stored) == ID
    assert field.to_python(ID) == ID
    assert field.get_prep_value(stored) == stored  # never double-encrypted
    assert field.get_prep_value(None) is None and field.get_prep_value("") == ""
    assert field.from_db_value(None, None, connection) is None


def test_unicode_diagnosis_round_trips(keys):
    field = crypto.EncryptedTextField()
    text = "2型糖尿病伴多个并发症，二级医院诊断"
    assert field.from_db_value(field.get_prep_value(text), None, connection) == text


def test_legacy_plaintext_is_read_as_is_and_flagged_for_encryption(keys):
    assert crypto.decrypt(ID) == ID
    assert crypto.needs_reencryption(ID)


def test_rotation_new_key_first_old_values_still_readable(keys, monkeypatch):
    old, new = keys
    stored_old = crypto.encrypt(ID)
    assert not crypto.needs_reencryption(stored_old)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{new},{old}")
    assert crypto.decrypt(stored_old) == ID
    assert crypto.needs_reencryption(stored_old)
    rotated = crypto.reencrypt(stored_old)
    assert not crypto.needs_reencryption(rotated)
    # Once re-encrypted, the old key can be dropped.
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", new)
    assert crypto.decrypt(rotated) == ID
    with pytest.raises(ValueError) as excinfo:
        crypto.decrypt(stored_old)
    assert ID not in str(excinfo.value)


def test_short_passphrase_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", "short")
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_lookup_hash_is_keyed_and_normalised(keys, monkeypatch):
    digest = crypto.id_number_hash(ID)
    assert len(digest) == 64
    assert crypto.id_number_hash(" 11010519491231002x ") == digest
    assert crypto.id_number_hash("11010519491231003X") != digest
    import hashlib

    assert digest != hashlib.sha256(ID.encode()).hexdigest()  # not guessable without the key
    monkeypatch.setenv("FIELD_HASH_KEY", "k" * 40)
    assert crypto.id_number_hash(ID) != digest


def test_dev_defaults_are_detected(monkeypatch):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("FIELD_HASH_KEY", raising=False)
    assert crypto.keys_are_dev_defaults()
    assert crypto.decrypt(crypto.encrypt(ID)) == ID  # the embedded default still works


@pytest.fixture
def probe_model(db):
    """A throwaway model with an encrypted field, on a real PostgreSQL table.

    The table is created inside the test's transaction (PostgreSQL DDL is transactional, so it
    rolls back) and the model is removed from the app registry afterwards, so no migration or
    other test ever sees it.
    """

    class CryptoProbe(models.Model):
        secret = crypto.EncryptedTextField(
            blank=True, hash_field="secret_hash", hash_normalizer="applications.id_numbers.normalize_id_number"
        )
        secret_hash = models.CharField(max_length=64, null=True, unique=True)
        note = models.CharField(max_length=20, default="")

        class Meta:
            app_label = "portal"
            db_table = "ops_test_crypto_probe"

    with connection.schema_editor() as editor:
        editor.create_model(CryptoProbe)
    yield CryptoProbe
    del apps.all_models["portal"]["cryptoprobe"]
    apps.clear_cache()


def _raw(model):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {model._meta.db_table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_real_table_round_trip_and_rotate_command(keys, monkeypatch, probe_model):
    old, new = keys
    first = probe_model.objects.create(secret=ID)
    probe_model.objects.create(secret="")
    with connection.cursor() as cursor:  # a legacy row from before encryption
        cursor.execute(f"INSERT INTO {probe_model._meta.db_table} (secret, note) VALUES (%s, 'legacy')", ["2型糖尿病"])
    assert probe_model.objects.get(pk=first.pk).secret == ID
    raw = _raw(probe_model)
    assert ID not in raw[0] and raw[0].startswith(crypto.PREFIX) and raw[1] == "" and raw[2] == "2型糖尿病"

    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{new},{old}")
    call_command("reencrypt_fields", "--model", "portal.cryptoprobe", "--dry-run", stdout=(out := __import__("io").StringIO()))
    assert "2 row(s) to re-encrypt" in out.getvalue()
    assert _raw(probe_model) == raw  # dry run changed nothing

    call_command("reencrypt_fields", "--model", "portal.cryptoprobe", "--batch-size", "1", stdout=(out := __import__("io").StringIO()))
    assert "2 row(s) re-encrypted" in out.getvalue()
    after = _raw(probe_model)
    assert after[1] == "" and all(value.startswith(crypto.PREFIX) for value in (after[0], after[2]))
    assert not any(crypto.needs_reencryption(value) for value in (after[0], after[2]))

    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", new)  # old key dropped: everything still reads
    assert [row.secret for row in probe_model.objects.order_by("id")] == [ID, "", "2型糖尿病"]


def test_text_that_merely_starts_with_the_marker_is_encrypted(keys):
    field = crypto.EncryptedTextField()
    sneaky = crypto.PREFIX + "not-a-token"
    stored = field.get_prep_value(sneaky)
    assert stored != sneaky and field.from_db_value(stored, None, connection) == sneaky


def test_companion_hash_is_written_on_save_and_finds_the_row(keys, probe_model):
    person = probe_model.objects.create(secret=ID.lower())
    assert person.secret_hash == crypto.id_number_hash(ID)
    assert probe_model.objects.get(secret_hash=crypto.id_number_hash(f" {ID} ")).pk == person.pk
    # Filtering on the encrypted column itself never matches (randomised ciphertext).
    assert not probe_model.objects.filter(secret=ID.lower()).exists()
    other = "43050219900101123X"
    person.secret = other
    person.save(update_fields=["secret", "secret_hash"])
    assert probe_model.objects.get(secret_hash=crypto.id_number_hash(other)).pk == person.pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret, secret_hash FROM {probe_model._meta.db_table}")
        stored, stored_hash = cursor.fetchone()
    assert other not in stored and stored_hash == crypto.id_number_hash(other)


def test_deconstruct_keeps_the_companion_options():
    field = crypto.EncryptedCharField(max_length=18, hash_field="id_number_hash", hash_normalizer="x.y")
    _, path, _, kwargs = field.deconstruct()
    assert path == "portal.crypto.EncryptedCharField"
    assert kwargs["hash_field"] == "id_number_hash" and kwargs["hash_normalizer"] == "x.y"


def test_rehash_after_changing_the_hash_key(keys, monkeypatch, probe_model):
    import io

    person = probe_model.objects.create(secret=ID)
    monkeypatch.setenv("FIELD_HASH_KEY", "n" * 40)
    assert not probe_model.objects.filter(secret_hash=crypto.id_number_hash(ID)).exists()
    out = io.StringIO()
    call_command("reencrypt_fields", "--model", "portal.cryptoprobe", "--rehash", stdout=out)
    assert "1 hash(es) recomputed" in out.getvalue()
    assert probe_model.objects.get(secret_hash=crypto.id_number_hash(ID)).pk == person.pk


def test_rotation_on_the_real_person_and_application_tables(keys, monkeypatch, db):
    """The lead's switch (applications.models): Person.id_number and Application.diagnosis."""
    import io

    from applications.models import Person
    from applications.selectors import person_find_by_id_number
    from tests.applications.factories import ApplicationFactory

    old, new = keys
    if not isinstance(Person._meta.get_field("id_number"), crypto.EncryptedTextField):
        pytest.skip("Person.id_number is not an encrypted field in this tree")
    application = ApplicationFactory(diagnosis="2型糖尿病")
    person = application.patient
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM applications_person WHERE id = %s", [person.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith(crypto.PREFIX) and person.id_number not in stored

    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{new},{old}")
    out = io.StringIO()
    call_command("reencrypt_fields", "--model", "applications.person", "--model", "applications.application", stdout=out)
    assert "applications.Person.id_number: 1 row(s) re-encrypted" in out.getvalue()
    assert "applications.Application.diagnosis: 1 row(s) re-encrypted" in out.getvalue()
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", new)
    assert person_find_by_id_number(id_number=person.id_number).pk == person.pk
    application.refresh_from_db()
    assert application.diagnosis == "2型糖尿病"
