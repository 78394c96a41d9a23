"""Staff roles as Django groups, and the permissions each carries.

The groups are (re)created by ``staff_groups_ensure`` after every ``migrate`` (see ``apps.py``):
permissions only exist once ``post_migrate`` has created them, which a data migration cannot
rely on.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    # The value is the group name staff see in the admin; keep it stable, code looks groups up by it.
    REVIEWER = "门特审核员", _("审核员")
    EXPERT = "门特医学专家", _("医学专家")
    SUPERVISOR = "门特主管", _("主管")


_REVIEWER_PERMISSIONS = (
    "applications.view_application",
    "applications.change_application",
    "applications.view_applicationevent",
    "applications.view_certification",
    "reviews.decide_application",
    "reviews.reveal_id_number",
    "reviews.export_queue",
    "reviews.counter_file",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    StaffRole.REVIEWER: _REVIEWER_PERMISSIONS,
    StaffRole.EXPERT: (
        "applications.view_application",
        "applications.change_application",
        "applications.view_applicationevent",
        "reviews.record_expert_opinion",
    ),
    StaffRole.SUPERVISOR: _REVIEWER_PERMISSIONS
    + (
        "reviews.decide_escalated",
        "reviews.view_dashboard",
        "reviews.view_reviewingorganisation",
        "reviews.view_staffmembership",
        "catalog.view_calendarday",
        "catalog.add_calendarday",
        "catalog.change_calendarday",
    ),
}
