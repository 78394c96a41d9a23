"""Working days and review deadlines, counted the way Chinese offices count them.

Three sources, in order of trust, decide whether a date is a workday:

1. ``chinesecalendar`` for the years it ships (national holidays and make-up workdays, 调休). It
   raises ``NotImplementedError`` for later years, so it is never asked about them.
2. ``CalendarDay`` rows that staff enter in the admin once the State Council announces a year the
   installed package does not know yet (each row overrides the weekday rule for one date).
3. Plain Monday–Friday for a year with neither; the admin shows a warning while this applies
   (see ``calendar_warning_years``).

Deadlines are working *time*, not just days: a region promises e.g. 0.5 working day, which is half
of its office day (``ServiceSettings.office_opens``–``office_closes``). The clock only runs during
office hours on workdays, so a submission at night or on a holiday starts at the next opening.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings as django_settings
from django.utils import timezone

from catalog.models import CalendarDay, ServiceSettings

_PACKAGE_YEARS = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)
# Guards the day-by-day walks against a misconfigured calendar (e.g. a year entered as all rest).
_MAX_DAYS_SCANNED = 3 * 366


class YearSource(str, Enum):
    PACKAGE = "package"
    STAFF = "staff"
    WEEKDAYS = "weekdays"


class WorkCalendar:
    """Answers ``is_workday`` with at most one query per year it has to look up in the database.

    The module-level functions create one per call; long walks (dashboards over many cases) should
    create one and pass it along so the staff-entered rows are read once.
    """

    def __init__(self) -> None:
        self._overrides: dict[int, dict[dt.date, bool]] = {}

    def _year_overrides(self, year: int) -> dict[dt.date, bool]:
        if year not in self._overrides:
            self._overrides[year] = dict(
                CalendarDay.objects.filter(date__year=year).values_list("date", "is_workday")
            )
        return self._overrides[year]

    def year_source(self, year: int) -> YearSource:
        if year in _PACKAGE_YEARS:
            return YearSource.PACKAGE
        if self._year_overrides(year):
            return YearSource.STAFF
        return YearSource.WEEKDAYS

    def is_workday(self, day: dt.date) -> bool:
        if day.year in _PACKAGE_YEARS:
            return chinese_calendar.is_workday(day)
        override = self._year_overrides(day.year).get(day)
        if override is not None:
            return override
        return day.weekday() < 5


def year_source(year: int) -> YearSource:
    return WorkCalendar().year_source(year)


def year_is_known(year: int) -> bool:
    """True when the year's holidays come from the package or from staff, not from the fallback."""
    return year_source(year) is not YearSource.WEEKDAYS


def is_workday(day: dt.date) -> bool:
    return WorkCalendar().is_workday(day)


def calendar_warning_years(*, today: dt.date | None = None) -> list[int]:
    """This year and next year when either still runs on the plain-weekday fallback.

    Deadlines set in December already reach into January, so next year matters from now on.
    """
    today = today or timezone.localdate()
    calendar = WorkCalendar()
    return [year for year in (today.year, today.year + 1) if calendar.year_source(year) is YearSource.WEEKDAYS]


def _local_tz() -> ZoneInfo:
    return ZoneInfo(django_settings.TIME_ZONE)


def _office_bounds(day: dt.date, service: ServiceSettings) -> tuple[dt.datetime, dt.datetime]:
    tz = _local_tz()
    opens = _as_time(service.office_opens)
    closes = _as_time(service.office_closes)
    return dt.datetime.combine(day, opens, tzinfo=tz), dt.datetime.combine(day, closes, tzinfo=tz)


def _as_time(value) -> dt.time:
    # A freshly built (unsaved) ServiceSettings still holds the "08:30" string default.
    if isinstance(value, str):
        return dt.time.fromisoformat(value)
    return value


def office_day_length(service: ServiceSettings) -> dt.timedelta:
    opens, closes = _office_bounds(dt.date(2000, 1, 3), service)
    if closes <= opens:
        raise ValueError("office_closes must be after office_opens")
    return closes - opens


def add_working_time(
    *,
    start: dt.datetime,
    days: Decimal | int | float,
    settings: ServiceSettings,
    calendar: WorkCalendar | None = None,
) -> dt.datetime:
    """The moment ``days`` working days after ``start``, counting only the region's office hours.

    5 working days from Monday 10:00 end the next Monday 10:00; 0.5 from a Friday 20:00 ends at
    Monday opening + half an office day. The result is aware, in the project time zone.
    """
    calendar = calendar or WorkCalendar()
    day_length = office_day_length(settings)
    remaining = day_length * float(Decimal(str(days)))
    cursor = timezone.localtime(start, _local_tz()) if timezone.is_aware(start) else start.replace(tzinfo=_local_tz())
    day = cursor.date()
    for _ in range(_MAX_DAYS_SCANNED):
        if calendar.is_workday(day):
            opens, closes = _office_bounds(day, settings)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time.min, tzinfo=_local_tz())
    raise ValueError("no workday found within three years; check the staff-entered calendar")


def working_days_between(
    *,
    start: dt.datetime,
    end: dt.datetime,
    settings: ServiceSettings,
    calendar: WorkCalendar | None = None,
) -> Decimal:
    """Office time between two moments, in working days (two decimals); 0 when end ≤ start."""
    if end <= start:
        return Decimal("0")
    calendar = calendar or WorkCalendar()
    tz = _local_tz()
    start = timezone.localtime(start, tz)
    end = timezone.localtime(end, tz)
    total = dt.timedelta()
    day = start.date()
    while day <= end.date():
        if calendar.is_workday(day):
            opens, closes = _office_bounds(day, settings)
            begin, finish = max(start, opens), min(end, closes)
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    ratio = Decimal(total.total_seconds()) / Decimal(office_day_length(settings).total_seconds())
    return ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
