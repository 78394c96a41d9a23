"""Calendar arithmetic for certification rules: local (Asia/Shanghai) dates and calendar months."""
from __future__ import annotations

import calendar
import datetime as dt

from django.utils import timezone


def local_today() -> dt.date:
    return timezone.localdate()


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month ``months`` later, clamped to the month's last day (31 Aug + 6 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1)
