"""The one table of allowed status transitions. Services consult it; nothing else sets status."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from applications.models import ApplicationStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    # A draft has no acceptance number and nobody else has seen it: it is discarded (deleted), not
    # withdrawn (application_draft_discard).
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.SUPPLEMENT_REQUESTED, S.ESCALATED, S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.SUBMITTED, S.SUPPLEMENT_REQUESTED, S.ESCALATED, S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.SUPPLEMENT_REQUESTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.ESCALATED: frozenset({S.SUPPLEMENT_REQUESTED, S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.APPROVED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Statuses in which the case waits for a staff decision (the review clock may be running).
OPEN_FOR_REVIEW = frozenset({S.SUBMITTED, S.IN_REVIEW, S.ESCALATED})
# Statuses in which the applicant may still withdraw.
WITHDRAWABLE = frozenset(s for s, targets in TRANSITIONS.items() if S.WITHDRAWN in targets)
FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


class TransitionNotAllowed(ValidationError):
    """Raised when a service is asked for a move the table does not allow (e.g. a lost race)."""


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(
            _("该申请当前状态为“%(current)s”，不能变为“%(target)s”。可能已被他人处理，请刷新后重试。"),
            code="transition_not_allowed",
            params={"current": S(current).label, "target": S(target).label},
        )
