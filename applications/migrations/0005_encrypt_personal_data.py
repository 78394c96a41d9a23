"""Encrypt resident ID numbers and diagnoses at rest; look people up by a keyed hash."""
from django.db import migrations, models

import portal.crypto


def encrypt_existing(apps, schema_editor):
    # Historical models carry the encrypted field classes: reading legacy plaintext returns it
    # as is, saving encrypts it and (for the ID number) fills the lookup hash.
    Person = apps.get_model("applications", "Person")
    for person in Person.objects.iterator(chunk_size=500):
        person.id_number_hash = portal.crypto.id_number_hash(person.id_number)
        person.save(update_fields=["id_number", "id_number_hash"])
    Application = apps.get_model("applications", "Application")
    for application in Application.objects.exclude(diagnosis="").iterator(chunk_size=500):
        application.save(update_fields=["diagnosis"])


class Migration(migrations.Migration):
    dependencies = [("applications", "0004_acceptancecounter_uploadedmaterial")]

    operations = [
        migrations.AddField(
            model_name="person",
            name="id_number_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=portal.crypto.EncryptedCharField(
                hash_field="id_number_hash",
                hash_normalizer="applications.id_numbers.normalize_id_number",
                verbose_name="身份证号",
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="diagnosis",
            field=portal.crypto.EncryptedTextField(blank=True, verbose_name="诊断"),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="person",
            name="id_number_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
