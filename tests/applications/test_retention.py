import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from applications.models import Application, ApplicationEvent, EventKind, Person
from applications.retention import application_purge_expired
from tests.applications.factories import ApplicationFactory, IdentityFactory, UploadedMaterialFactory
from tests.ops.conftest import moto_s3  # noqa: F401 - fixture: moto S3 server on loopback

pytestmark = pytest.mark.django_db

OLD = timezone.now() - dt.timedelta(days=400)


def _closed(trait: str, *, when=OLD, with_files=True):
    application = ApplicationFactory(**{trait: True})
    Application.objects.filter(pk=application.pk).update(decided_at=when if trait == "rejected" else None, updated_at=when)
    materials = [UploadedMaterialFactory(application=application) for _ in range(2)] if with_files else []
    for material in materials:
        material.thumbnail.save("thumb.jpg", material.file.file, save=True)
    return application, materials


def _stored_names(materials):
    return [name for m in materials for name in (m.file.name, m.thumbnail.name)]


def test_dry_run_reports_and_changes_nothing(django_capture_on_commit_callbacks):
    application, materials = _closed("rejected")
    with django_capture_on_commit_callbacks(execute=True):
        report = application_purge_expired(dry_run=True)
    assert report.cases == [application.acceptance_number]
    assert report.files == 4
    assert report.people == 1
    application.refresh_from_db()
    assert application.purged_at is None and application.patient_id is not None
    assert all(default_storage.exists(name) for name in _stored_names(materials))


def test_purge_removes_files_and_personal_data_but_keeps_the_audit_trail(django_capture_on_commit_callbacks):
    withdrawn, withdrawn_files = _closed("withdrawn")
    rejected, rejected_files = _closed("rejected")
    person_id = rejected.patient_id
    with django_capture_on_commit_callbacks(execute=True):
        report = application_purge_expired()
    assert sorted(report.cases) == sorted([withdrawn.acceptance_number, rejected.acceptance_number])
    for application, materials in ((withdrawn, withdrawn_files), (rejected, rejected_files)):
        application.refresh_from_db()
        assert application.purged_at is not None
        assert application.diagnosis == "" and application.self_check == {} and application.patient_id is None
        assert not application.materials.exists()
        assert not any(default_storage.exists(name) for name in _stored_names(materials))
        assert ApplicationEvent.objects.filter(application=application, kind=EventKind.PURGED, visible_to_citizen=False).exists()
    assert not Person.objects.filter(pk=person_id).exists()
    # Running again finds nothing: the job is idempotent.
    assert application_purge_expired().cases == []


def test_recent_approved_and_shared_people_are_kept(django_capture_on_commit_callbacks):
    recent, recent_files = _closed("rejected", when=timezone.now() - dt.timedelta(days=30))
    approved = ApplicationFactory(approved=True)
    Application.objects.filter(pk=approved.pk).update(decided_at=OLD, updated_at=OLD)
    old, _ = _closed("withdrawn", with_files=False)
    IdentityFactory(person=old.patient)  # the patient is also someone's verified identity
    with django_capture_on_commit_callbacks(execute=True):
        report = application_purge_expired()
    assert report.cases == [old.acceptance_number]
    assert report.people == 0
    assert Person.objects.filter(pk=old.patient.pk).exists()
    recent.refresh_from_db()
    approved.refresh_from_db()
    assert recent.purged_at is None and approved.purged_at is None
    assert all(default_storage.exists(name) for name in _stored_names(recent_files))


def test_rejected_case_with_open_reconsideration_is_kept():
    rejected, _ = _closed("rejected", with_files=False)
    ApplicationFactory(submitted=True, kind="reconsideration", parent=rejected, patient=rejected.patient,
                       acceptance_number="430500-20261122-999999")
    assert application_purge_expired().cases == []


def test_retention_shorter_than_six_months_is_refused():
    with pytest.raises(ValueError):
        application_purge_expired(days=30)


def test_command_dry_run_prints_numbers(capsys):
    application, _ = _closed("withdrawn", with_files=False)
    call_command("purge_expired_cases", "--dry-run")
    out = capsys.readouterr().out
    assert "would purge 1 cases" in out and application.acceptance_number in out
    application.refresh_from_db()
    assert application.purged_at is None


def test_purge_removes_the_objects_in_s3(settings, moto_s3, django_capture_on_commit_callbacks):
    """The production stack keeps files in S3: originals and thumbnails go from the bucket too."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_s3, aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    client.create_bucket(Bucket="retention-test")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "retention-test", "endpoint_url": moto_s3, "access_key": "t", "secret_key": "t",
                "region_name": "us-east-1", "default_acl": "private", "file_overwrite": False,
                "addressing_style": "path", "signature_version": "s3v4",
            },
        },
    }
    kept, _ = _closed("rejected", when=timezone.now() - dt.timedelta(days=30))
    purged, _ = _closed("withdrawn")

    def keys():
        return {item["Key"] for item in client.list_objects_v2(Bucket="retention-test").get("Contents", [])}

    before = keys()
    assert len(before) == 8  # two cases × two files × (original + thumbnail)
    with django_capture_on_commit_callbacks(execute=True):
        application_purge_expired()
    remaining = keys()
    assert len(remaining) == 4
    assert remaining == {name for m in kept.materials.all() for name in (m.file.name, m.thumbnail.name)}
