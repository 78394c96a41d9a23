"""A date drill-down for the review queue that never aggregates over the queue.

Django's ``date_hierarchy`` tag asks the database which years, months and days hold cases
(``DISTINCT DATE_TRUNC`` over the staff member's whole scope, or ``MIN/MAX`` under the filter):
at a million cases that is most of the page's time (bench/RESULTS.md). The choices here come from
the calendar instead; filtering still uses ``submitted_at__year/__month/__day``, which the
changelist turns into a range on the indexed column. A month without cases simply lists nothing.
"""
import calendar
import datetime

from django import template
from django.conf import settings
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from reviews.queue_rows import queue_result_rows

register = template.Library()


def _years(today: datetime.date) -> range:
    first = getattr(settings, "REVIEW_QUEUE_FIRST_YEAR", None) or today.year - 4
    return range(today.year, first - 1, -1)


def calendar_date_hierarchy(cl):
    if not cl.date_hierarchy:
        return {"show": False}
    field = cl.date_hierarchy
    year_field, month_field, day_field = f"{field}__year", f"{field}__month", f"{field}__day"
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))

    def link(filters):
        return cl.get_query_string(filters, [f"{field}__"])

    today = timezone.localdate()
    try:
        year, month, day = (int(value) if value else None for value in (year, month, day))
    except (TypeError, ValueError):
        return {"show": False}
    if year and month and day:
        chosen = datetime.date(year, month, day)
        return {
            "show": True,
            "back": {"link": link({year_field: year, month_field: month}), "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT"))},
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        last = calendar.monthrange(year, month)[1]
        if (year, month) == (today.year, today.month):
            last = today.day
        days = [datetime.date(year, month, d) for d in range(1, last + 1)]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {"link": link({year_field: year, month_field: month, day_field: d.day}),
                 "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT"))}
                for d in days
            ],
        }
    if year:
        last = today.month if year == today.year else 12
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {"link": link({year_field: year, month_field: m}),
                 "title": capfirst(formats.date_format(datetime.date(year, m, 1), "YEAR_MONTH_FORMAT"))}
                for m in range(1, last + 1)
            ],
        }
    return {
        "show": True,
        "back": None,
        "choices": [{"link": link({year_field: y}), "title": str(y)} for y in _years(today)],
    }


@register.tag(name="calendar_date_hierarchy")
def calendar_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=calendar_date_hierarchy, template_name="date_hierarchy.html", takes_context=False
    )


def queue_result_list(cl):
    """Django's ``result_list`` (headers, hidden fields, rows), the rows from ``reviews.queue_rows``."""
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(admin_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": queue_result_rows(cl),
    }


@register.tag(name="queue_result_list")
def queue_result_list_tag(parser, token):
    return InclusionAdminNode(parser, token, func=queue_result_list, template_name="change_list_results.html", takes_context=False)
