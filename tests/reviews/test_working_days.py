"""Deadline maths: national holidays with 调休, fractional days, years beyond the package."""
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from catalog import working_days
from catalog.models import CalendarDay, ServiceSettings
from catalog.working_days import YearSource, add_working_time, working_days_between

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(y, m, d, hh=0, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def office():
    # 08:30–17:30: a 9-hour office day; unsaved, the functions only read its fields.
    return ServiceSettings(review_deadline_days=Decimal("5"), office_opens=dt.time(8, 30), office_closes=dt.time(17, 30))


def test_make_up_saturdays_2026_are_workdays():
    assert working_days.is_workday(dt.date(2026, 2, 14))  # Saturday before the Spring Festival
    assert working_days.is_workday(dt.date(2026, 10, 10))  # Saturday after National Day
    assert not working_days.is_workday(dt.date(2026, 2, 21))  # an ordinary Saturday inside the holiday
    assert not working_days.is_workday(dt.date(2026, 10, 17))  # an ordinary Saturday


def test_spring_festival_week_2026_is_rest():
    for day in range(15, 24):
        assert not working_days.is_workday(dt.date(2026, 2, day)), day
    assert working_days.is_workday(dt.date(2026, 2, 24))


def test_one_day_from_friday_before_spring_festival_lands_on_the_make_up_saturday(office):
    # Friday 2026-02-13 10:00 + 1 working day = Saturday 2026-02-14 10:00 (调休 workday).
    assert add_working_time(start=at(2026, 2, 13, 10), days=1, settings=office) == at(2026, 2, 14, 10)


def test_two_days_from_friday_jump_the_whole_spring_festival(office):
    # Friday 13th, Saturday 14th (make-up), then 15–23 rest: the second day ends Tuesday 24th 10:00.
    assert add_working_time(start=at(2026, 2, 13, 10), days=2, settings=office) == at(2026, 2, 24, 10)


def test_five_days_from_monday_end_next_monday_same_time(office):
    assert add_working_time(start=at(2026, 11, 16, 10), days=5, settings=office) == at(2026, 11, 23, 10)


def test_half_day_is_half_an_office_day(office):
    assert add_working_time(start=at(2026, 11, 18, 9), days=Decimal("0.5"), settings=office) == at(2026, 11, 18, 13, 30)
    # Late afternoon: the rest of the half day runs on into the next morning.
    assert add_working_time(start=at(2026, 11, 18, 16, 30), days=Decimal("0.5"), settings=office) == at(2026, 11, 19, 12)


def test_half_day_submitted_at_night_or_on_a_holiday_starts_at_next_opening(office):
    assert add_working_time(start=at(2026, 11, 18, 22), days=Decimal("0.5"), settings=office) == at(2026, 11, 19, 13)
    # Submitted on National Day (a rest day): the clock starts Thursday 10-08 at 08:30.
    assert add_working_time(start=at(2026, 10, 3, 11), days=Decimal("0.5"), settings=office) == at(2026, 10, 8, 13)


def test_office_hours_are_per_region():
    short = ServiceSettings(review_deadline_days=1, office_opens=dt.time(9), office_closes=dt.time(17))
    assert add_working_time(start=at(2026, 11, 18, 7), days=Decimal("0.5"), settings=short) == at(2026, 11, 18, 13)


def test_utc_input_is_read_in_china_time(office):
    start = dt.datetime(2026, 11, 18, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 in Beijing
    assert add_working_time(start=start, days=Decimal("0.5"), settings=office) == at(2026, 11, 18, 13, 30)


def test_2027_without_staff_rows_falls_back_to_weekdays_and_warns(office):
    assert working_days.year_source(2027) is YearSource.WEEKDAYS
    assert not working_days.year_is_known(2027)
    assert working_days.year_is_known(2026)
    assert working_days.calendar_warning_years(today=dt.date(2026, 11, 22)) == [2027]
    # No chinesecalendar error: New Year's Day 2027 (a Friday) counts as a weekday.
    assert working_days.is_workday(dt.date(2027, 1, 1))
    # Thursday 2026-12-31 10:00 + 1 day = Friday 2027-01-01 10:00 on the fallback.
    assert add_working_time(start=at(2026, 12, 31, 10), days=1, settings=office) == at(2027, 1, 1, 10)


def test_2027_with_staff_rows_uses_them(office):
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    CalendarDay.objects.create(date=dt.date(2027, 1, 2), is_workday=True, name="元旦调休")  # a Saturday
    assert working_days.year_source(2027) is YearSource.STAFF
    assert working_days.calendar_warning_years(today=dt.date(2026, 11, 22)) == []
    assert not working_days.is_workday(dt.date(2027, 1, 1))
    assert working_days.is_workday(dt.date(2027, 1, 2))
    # Thursday 31 Dec 10:00 + 1 day: Friday 1 Jan is a holiday, Saturday 2 Jan a make-up day.
    assert add_working_time(start=at(2026, 12, 31, 10), days=1, settings=office) == at(2027, 1, 2, 10)


def test_staff_rows_do_not_override_a_year_the_package_knows():
    CalendarDay.objects.create(date=dt.date(2026, 2, 16), is_workday=True, name="wrong")
    assert not working_days.is_workday(dt.date(2026, 2, 16))


def test_working_days_between_counts_office_time_only(office):
    assert working_days_between(start=at(2026, 11, 16, 10), end=at(2026, 11, 23, 10), settings=office) == Decimal("5.00")
    assert working_days_between(start=at(2026, 11, 18, 9), end=at(2026, 11, 18, 13, 30), settings=office) == Decimal("0.50")
    # Over the Spring Festival: 13th 10:00 → 24th 10:00 is two working days.
    assert working_days_between(start=at(2026, 2, 13, 10), end=at(2026, 2, 24, 10), settings=office) == Decimal("2.00")
    assert working_days_between(start=at(2026, 2, 24), end=at(2026, 2, 13), settings=office) == Decimal("0")


def test_round_trip_add_then_measure(office):
    start = at(2026, 9, 28, 15)
    due = add_working_time(start=start, days=Decimal("8"), settings=office)
    assert working_days_between(start=start, end=due, settings=office) == Decimal("8.00")
