"""Reads for staff work. ``application_list_for_staff`` is the ONE place that decides which cases
a staff member may see; the admin lists, change views, file downloads, exports and the dashboard
all start from it, so a region rule changes in one place and is tested once."""
from __future__ import annotations

import datetime as dt
from enum import Enum

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.lifecycle import OPEN_FOR_REVIEW
from applications.models import Application, ApplicationStatus
from reviews.models import ExpertOpinion, ReviewingOrganisation, StaffMembership


def membership_get(*, user) -> StaffMembership | None:
    """The staff member's organisation, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_review_membership_cache"):
        user._review_membership_cache = (
            StaffMembership.objects.select_related("organisation").filter(user=user).first()
        )
    return user._review_membership_cache


def region_ids_for_staff(*, user) -> list[int] | None:
    """Region ids the user may see; ``None`` means every region (superusers)."""
    if getattr(user, "is_superuser", False):
        return None
    membership = membership_get(user=user)
    if membership is None or not user.is_staff or not user.is_active:
        return []
    if not hasattr(user, "_review_region_ids_cache"):
        user._review_region_ids_cache = list(membership.organisation.regions.values_list("pk", flat=True))
    return user._review_region_ids_cache


def application_list_for_staff(*, user) -> QuerySet[Application]:
    """Every case the staff member may see.

    Superusers see all. Other staff see the submitted cases of the regions their organisation
    serves, plus the drafts they entered themselves at a counter. Citizens' drafts are never
    staff business. Anyone else (citizens, staff without an organisation) sees nothing.
    """
    cases = Application.objects.all()
    if getattr(user, "is_superuser", False):
        return cases.filter(~Q(status=ApplicationStatus.DRAFT) | Q(entered_by=user))
    region_ids = region_ids_for_staff(user=user)
    if not region_ids:
        return cases.none()
    return cases.filter(region_id__in=region_ids).filter(
        ~Q(status=ApplicationStatus.DRAFT) | Q(entered_by=user)
    )


def application_get_for_staff(*, user, application_id: int) -> Application:
    """One case through the scope selector; ``Application.DoesNotExist`` when out of scope."""
    return application_list_for_staff(user=user).select_related(
        "patient", "applicant", "region", "region__settings", "disease", "scheme",
        "diagnosing_institution", "designated_institution", "assignee", "entered_by",
    ).get(pk=application_id)


class DeadlineState(str, Enum):
    ON_TIME = "on_time"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return str(DEADLINE_LABELS[self])


DEADLINE_LABELS = {
    DeadlineState.ON_TIME: _("未超期"),
    DeadlineState.DUE_TODAY: _("今日到期"),
    DeadlineState.OVERDUE: _("已超期"),
}


def _today_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def deadline_state(*, application: Application, now: dt.datetime | None = None) -> DeadlineState | None:
    """Only cases waiting for staff have a deadline state; ``None`` for the others."""
    if application.status not in OPEN_FOR_REVIEW or application.due_at is None:
        return None
    now = now or timezone.now()
    if application.due_at < now:
        return DeadlineState.OVERDUE
    _start, end = _today_bounds(now)
    if application.due_at < end:
        return DeadlineState.DUE_TODAY
    return DeadlineState.ON_TIME


def application_filter_deadline(
    *, queryset: QuerySet[Application], state: DeadlineState, now: dt.datetime | None = None
) -> QuerySet[Application]:
    """The same three states as ``deadline_state``, as a database filter (for the queue filter)."""
    now = now or timezone.now()
    _start, end = _today_bounds(now)
    open_cases = queryset.filter(status__in=OPEN_FOR_REVIEW, due_at__isnull=False)
    if state is DeadlineState.OVERDUE:
        return open_cases.filter(due_at__lt=now)
    if state is DeadlineState.DUE_TODAY:
        return open_cases.filter(due_at__gte=now, due_at__lt=end)
    return open_cases.filter(due_at__gte=end)


def expert_opinion_list_current(*, application: Application) -> QuerySet[ExpertOpinion]:
    """The opinions of the current review round (see ``ExpertOpinion.round_started_at``)."""
    return ExpertOpinion.objects.filter(
        application=application, round_started_at=application.clock_started_at
    ).select_related("expert")


def organisation_list_for_region(*, region_id: int) -> QuerySet[ReviewingOrganisation]:
    return ReviewingOrganisation.objects.filter(regions__pk=region_id)


def staff_list_for_application(*, application: Application) -> QuerySet:
    """Staff who may be assigned the case: members of an organisation serving its region."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        is_staff=True, is_active=True, review_membership__organisation__regions=application.region_id
    ).distinct()
