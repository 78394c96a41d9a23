"""Retention: closed cases that led nowhere do not keep medical records forever.

Withdrawn and rejected cases lose their uploaded files (originals and thumbnails, on disk or in
S3), their diagnosis and self-check answers after ``RETENTION_DAYS``; the patient's person row
goes too when nothing else refers to it. The case row and its event timeline stay as the audit
trail (kept at least six months — the retention period is never shorter, see the system check),
with the acceptance number but no personal data. A rejected case is kept while a
reconsideration of it is still open.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import DateTimeField, Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from applications.lifecycle import FINAL
from applications.models import Application, ApplicationEvent, ApplicationStatus, EventKind, Person, UploadedMaterial

logger = logging.getLogger(__name__)

PURGEABLE = (ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED)
# Audit records (the case row and its events) are kept at least this long after closing.
AUDIT_MINIMUM_DAYS = 183


@dataclass
class RetentionReport:
    dry_run: bool
    cutoff: dt.datetime
    cases: list[str] = field(default_factory=list)
    files: int = 0
    people: int = 0


def application_list_expired(*, now: dt.datetime, days: int) -> QuerySet[Application]:
    """Closed, unsuccessful, not yet purged cases whose closing is older than ``days``."""
    open_followup = Application.objects.filter(parent=OuterRef("pk")).exclude(status__in=FINAL)
    return (
        Application.objects.filter(status__in=PURGEABLE, purged_at__isnull=True)
        .annotate(closed_at=Coalesce("decided_at", "updated_at", output_field=DateTimeField()))
        .filter(closed_at__lt=now - dt.timedelta(days=days))
        .exclude(Exists(open_followup))
        .order_by("pk")
    )


def _person_is_referenced(person: Person, *, besides: Application | None = None) -> bool:
    """Whether anything but ``besides`` still needs this person row."""
    applications = person.applications.exclude(pk=besides.pk) if besides else person.applications
    return (
        applications.exists()
        or person.identities.exists()
        or person.household_links.exists()
        or person.certifications.exists()
    )


def application_purge_expired(*, now: dt.datetime | None = None, days: int | None = None, dry_run: bool = False) -> RetentionReport:
    """Purge every expired case (one transaction each, so a failure leaves the others done)."""
    now = now or timezone.now()
    days = settings.RETENTION_DAYS if days is None else days
    if days < AUDIT_MINIMUM_DAYS:
        raise ValueError(f"retention shorter than {AUDIT_MINIMUM_DAYS} days would cut the audit trail")
    report = RetentionReport(dry_run=dry_run, cutoff=now - dt.timedelta(days=days))
    for application_id in application_list_expired(now=now, days=days).values_list("pk", flat=True).iterator():
        _purge_one(application_id=application_id, now=now, days=days, report=report)
    logger.info(
        "retention %s: %d cases, %d files, %d people", "dry run" if dry_run else "purge",
        len(report.cases), report.files, report.people,
    )
    return report


def _purge_one(*, application_id: int, now: dt.datetime, days: int, report: RetentionReport) -> None:
    with transaction.atomic():
        # Re-check under the lock: the case may have changed since the list was read.
        application = (
            application_list_expired(now=now, days=days).select_for_update(of=("self",)).filter(pk=application_id).first()
        )
        if application is None:
            return
        materials = list(UploadedMaterial.objects.filter(application=application))
        names = [name for m in materials for name in (m.file.name, m.thumbnail.name) if name]
        report.cases.append(application.acceptance_number or f"#{application.pk}")
        report.files += len(names)
        person = application.patient
        orphan = False
        if not report.dry_run:
            UploadedMaterial.objects.filter(pk__in=[m.pk for m in materials]).delete()
            application.diagnosis = ""
            application.self_check = {}
            application.patient = None
            application.purged_at = now
            application.save(update_fields=["diagnosis", "self_check", "patient", "purged_at", "updated_at"])
            ApplicationEvent.objects.create(
                application=application, kind=EventKind.PURGED, visible_to_citizen=False,
                data={"files": len(names), "retention_days": days},
            )
            if person is not None and not _person_is_referenced(person):
                person.delete()
                orphan = True
            # Files go only once the rows are gone for good; a rolled-back purge keeps them.
            transaction.on_commit(lambda: _delete_files(names))
        elif person is not None:
            orphan = not _person_is_referenced(person, besides=application)
        report.people += int(orphan)


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # noqa: BLE001 - a storage hiccup must not undo the purge; logged for ops
            logger.exception("retention: could not delete a stored file")
