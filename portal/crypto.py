"""Field-level encryption for personal data at rest, and keyed hashes to look it up.

A database dump, a replica or a backup must not show resident ID numbers or diagnoses in clear.
Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, random IV, so two rows with the
same number look different) under keys from ``FIELD_ENCRYPTION_KEYS``: comma-separated, newest
first. The newest key encrypts; any listed key decrypts. Rotation = prepend a new key, deploy,
run ``manage.py reencrypt_fields``, then drop the old key (docs/OPERATIONS.md).

Because ciphertexts are randomised, equality lookups use a separate column holding
``lookup_hash(value)``: HMAC-SHA256 under ``FIELD_HASH_KEY``. Without that key a dump cannot be
brute-forced against the (small) space of valid ID numbers, as a plain SHA-256 could.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.module_loading import import_string

# Stored values start with this marker; a value without it is legacy plaintext from before the
# switch to encryption (the data migration encrypts those, and reading one still works).
PREFIX = "enc1:"

# The embedded default (`make run`, tests) must run without configuration. These fixed keys
# are public: portal/settings/production.py refuses to start unless both variables are set, and
# ``keys_are_dev_defaults`` lets a check or a command ask the same question at run time.
_DEV_ENCRYPTION_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"portal-dev-field-key").digest()).decode()
_DEV_HASH_KEY = "portal-dev-hash-key"


def _derive_fernet_key(secret: str) -> bytes:
    """Accept a Fernet key as is; derive one from any other secret string (≥ 32 characters)."""
    raw = secret.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    if len(secret) < 32:
        raise ImproperlyConfigured("each FIELD_ENCRYPTION_KEYS entry must be a Fernet key or 32+ characters")
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _env_keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in os.environ.get("FIELD_ENCRYPTION_KEYS", "").split(",") if k.strip())
    return keys or (_DEV_ENCRYPTION_KEY,)


def _env_hash_key() -> str:
    return os.environ.get("FIELD_HASH_KEY") or _DEV_HASH_KEY


def keys_are_dev_defaults() -> bool:
    return _env_keys() == (_DEV_ENCRYPTION_KEY,) or _env_hash_key() == _DEV_HASH_KEY


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derive_fernet_key(key)) for key in keys])


def encrypt(value: str, *, keys: tuple[str, ...] | None = None) -> str:
    token = _fernet(keys or _env_keys()).encrypt(value.encode("utf-8"))
    return PREFIX + token.decode("ascii")


def decrypt(stored: str, *, keys: tuple[str, ...] | None = None) -> str:
    if not stored.startswith(PREFIX):
        return stored  # legacy plaintext, not yet migrated
    try:
        return _fernet(keys or _env_keys()).decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        # Never include the value: the message may end up in a log.
        raise ValueError("field value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS") from exc


def needs_reencryption(stored: str, *, keys: tuple[str, ...] | None = None) -> bool:
    """True for plaintext and for ciphertexts made with any key but the newest."""
    if not stored.startswith(PREFIX):
        return True
    keys = keys or _env_keys()
    try:
        Fernet(_derive_fernet_key(keys[0])).decrypt(stored[len(PREFIX):].encode("ascii"))
    except InvalidToken:
        return True
    return False


def _is_our_ciphertext(stored: str) -> bool:
    # A citizen could type text starting with the marker; only a real token passes through.
    try:
        decrypt(stored)
    except ValueError:
        return False
    return True


def reencrypt(stored: str, *, keys: tuple[str, ...] | None = None) -> str:
    return encrypt(decrypt(stored, keys=keys), keys=keys)


def lookup_hash(value: str, *, normalize=None, key: str | None = None) -> str:
    """HMAC-SHA256 hex digest of the (normalised) value, for an indexed equality lookup."""
    if normalize is not None:
        value = normalize(value)
    return hmac.new((key or _env_hash_key()).encode(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def id_number_hash(value: str) -> str:
    """The lookup hash of a resident ID number, normalised as the rest of the portal does."""
    from applications.id_numbers import normalize_id_number

    return lookup_hash(value, normalize=normalize_id_number)


class EncryptedTextField(models.TextField):
    """A text column whose value is stored encrypted and read back in clear.

    Filtering on this field compares ciphertexts and never matches. For lookups give it a
    companion column: ``hash_field="id_number_hash"`` names a CharField(max_length=64) declared
    *after* this one, which every ``save()`` fills with ``lookup_hash(value)`` (normalised by the
    dotted-path function ``hash_normalizer``). Query the companion with ``lookup_hash`` /
    ``id_number_hash``. ``QuerySet.update()`` bypasses ``save()``: update both columns there.
    """

    description = "Text encrypted at rest (Fernet, keys from FIELD_ENCRYPTION_KEYS)"

    def __init__(self, *args, hash_field: str | None = None, hash_normalizer: str | None = None, **kwargs):
        self.hash_field = hash_field
        self.hash_normalizer = hash_normalizer
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        if self.hash_normalizer:
            kwargs["hash_normalizer"] = self.hash_normalizer
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if self.hash_field:
            # Runs before the companion's own pre_save (fields are saved in declaration order),
            # so the hash written is always the hash of the value written.
            normalize = import_string(self.hash_normalizer) if self.hash_normalizer else None
            setattr(model_instance, self.hash_field, lookup_hash(value, normalize=normalize) if value else None)
        return value

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def to_python(self, value):
        if value is None or not isinstance(value, str):
            return value
        return decrypt(value) if value.startswith(PREFIX) else value

    def get_prep_value(self, value):
        # Not super(): TextField.get_prep_value calls to_python, which would decrypt.
        value = models.Field.get_prep_value(self, value)
        if value is None or value == "":
            # Empty stays empty so "not provided" remains visible without a key.
            return value
        value = str(value)
        if value.startswith(PREFIX) and _is_our_ciphertext(value):
            return value  # already encrypted (a lookup value, or copied from another row)
        return encrypt(value)

    def value_to_string(self, obj):
        # dumpdata/serialisers: export ciphertext, never clear text.
        return self.get_prep_value(self.value_from_object(obj))


class EncryptedCharField(EncryptedTextField):
    """For short values (ID numbers). The column is TEXT: ciphertext is ~4x the clear length."""

    def formfield(self, **kwargs):
        from django import forms

        kwargs.setdefault("form_class", forms.CharField)
        return super().formfield(**kwargs)
