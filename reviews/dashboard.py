"""Supervision figures, computed from the cases a supervisor may see (the caller passes the
queryset from the scope selector). Aggregates run in the database; only the median needs the
working-day calendar and is computed over a bounded sample of recent decisions."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from applications.models import Application, ApplicationEvent, ApplicationStatus as S, EventKind
from catalog.working_days import WorkCalendar, working_days_between
from reviews.selectors import DeadlineState, application_filter_deadline

DECIDED = (S.APPROVED, S.REJECTED)
# The median is over this many most recent decisions: enough to be meaningful, bounded in cost.
MEDIAN_SAMPLE = 2000


@dataclass
class Bar:
    label: str
    value: float
    total: int = 0
    detail: str = ""
    pct: float = 0.0  # bar length relative to the longest bar (0–100)


@dataclass
class Dashboard:
    by_status: list[Bar] = field(default_factory=list)
    by_region_status: list[dict] = field(default_factory=list)
    overdue_now: int = 0
    open_now: int = 0
    median_days: Decimal | None = None
    median_sample: int = 0
    compliance_by_region: list[Bar] = field(default_factory=list)
    compliance_by_organisation: list[Bar] = field(default_factory=list)
    approval_by_disease: list[Bar] = field(default_factory=list)
    approval_by_hospital: list[Bar] = field(default_factory=list)


def _scale(bars: list[Bar], *, percent: bool = False) -> list[Bar]:
    top = 100.0 if percent else max((b.value for b in bars), default=0) or 1
    for bar in bars:
        bar.pct = round(100 * bar.value / top, 1)
    return bars


def _rate_bars(rows, label_key: str, hit_key: str, total_key: str) -> list[Bar]:
    bars = []
    for row in rows:
        total = row[total_key]
        if not total:
            continue
        rate = 100 * row[hit_key] / total
        bars.append(Bar(label=row[label_key] or "—", value=round(rate, 1), total=total,
                        detail=f"{row[hit_key]}/{total}"))
    return _scale(bars, percent=True)


def dashboard_build(*, cases: QuerySet[Application], now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    data = Dashboard()
    cases = cases.exclude(status=S.DRAFT)
    status_labels = dict(S.choices)

    status_rows = cases.values("status").annotate(n=Count("pk")).order_by("status")
    data.by_status = _scale([Bar(label=str(status_labels[r["status"]]), value=r["n"]) for r in status_rows])

    region_rows = cases.values("region__city", "status").annotate(n=Count("pk")).order_by("region__city", "status")
    grouped: dict[str, dict] = {}
    for row in region_rows:
        entry = grouped.setdefault(row["region__city"] or "—", {"region": row["region__city"] or "—", "counts": {}, "total": 0})
        entry["counts"][str(status_labels[row["status"]])] = row["n"]
        entry["total"] += row["n"]
    data.by_region_status = list(grouped.values())

    data.overdue_now = application_filter_deadline(queryset=cases, state=DeadlineState.OVERDUE, now=now).count()
    data.open_now = cases.filter(status__in=(S.SUBMITTED, S.IN_REVIEW, S.ESCALATED)).count()

    decided = cases.filter(status__in=DECIDED, decided_at__isnull=False)
    on_time = Q(decided_at__lte=F("due_at")) | Q(due_at__isnull=True)
    data.compliance_by_region = _rate_bars(
        decided.values("region__city").annotate(total=Count("pk"), hit=Count("pk", filter=on_time)).order_by("region__city"),
        "region__city", "hit", "total",
    )
    decisions = ApplicationEvent.objects.filter(
        application__in=decided.values("pk"), kind__in=(EventKind.APPROVED, EventKind.REJECTED)
    )
    event_on_time = Q(application__decided_at__lte=F("application__due_at")) | Q(application__due_at__isnull=True)
    data.compliance_by_organisation = _rate_bars(
        decisions.values("actor__review_membership__organisation__name")
        .annotate(total=Count("pk"), hit=Count("pk", filter=event_on_time))
        .order_by("actor__review_membership__organisation__name"),
        "actor__review_membership__organisation__name", "hit", "total",
    )
    approved = Count("pk", filter=Q(status=S.APPROVED))
    data.approval_by_disease = _rate_bars(
        decided.values("disease__name").annotate(total=Count("pk"), hit=approved).order_by("-total")[:20],
        "disease__name", "hit", "total",
    )
    data.approval_by_hospital = _rate_bars(
        decided.values("diagnosing_institution__name").annotate(total=Count("pk"), hit=approved).order_by("-total")[:20],
        "diagnosing_institution__name", "hit", "total",
    )

    sample = (
        decided.filter(clock_started_at__isnull=False)
        .select_related("region__settings")
        .order_by("-decided_at")[:MEDIAN_SAMPLE]
    )
    calendar = WorkCalendar()
    durations = [
        working_days_between(start=app.clock_started_at, end=app.decided_at, settings=app.region.settings, calendar=calendar)
        for app in sample
        if app.region_id and hasattr(app.region, "settings")
    ]
    if durations:
        data.median_days = Decimal(statistics.median(durations)).quantize(Decimal("0.01"))
        data.median_sample = len(durations)
    return data
