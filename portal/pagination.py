"""Paging for citizen lists, where almost every account fits on one page."""
from __future__ import annotations

from collections.abc import Sequence

from django.core.paginator import Page, Paginator


def page_get(object_list, *, number, per_page: int) -> Page:
    """``Paginator(object_list, per_page).get_page(number)`` without the ``COUNT(*)`` when the first
    page holds everything: it fetches one row more than a page, and if that row is not there the
    rows fetched are the count. Most accounts have a case or two, so most visits cost one query.
    Later pages, and a first page with more behind it, count as usual ("第 1 / 3 页")."""
    paginator = Paginator(object_list, per_page)
    try:
        first = int(number or 1) <= 1
    except (TypeError, ValueError):
        first = True  # what get_page does with rubbish: the first page
    if not first:
        return paginator.get_page(number)
    rows = object_list[: per_page + 1]
    if not isinstance(rows, Sequence):  # a queryset: read it once (a list is, and so are a list's rows read lazily)
        rows = list(rows)
    if len(rows) <= per_page:
        paginator.count = len(rows)  # a cached_property: setting it spares the COUNT(*)
    return paginator._get_page(rows[:per_page], 1, paginator)


def page_read(page: Page) -> tuple | None:
    """What ``page`` shows, as read: its number, the count, and its rows as the statement returned
    them, for a list whose slices keep their rows (``applications.citizen_sql.CitizenRows``);
    None for any other list. The key ``portal.page_memo`` keeps the page under."""
    rows = getattr(page.object_list, "rows", None)
    if rows is None:
        return None
    return ("page", page.number, page.paginator.count, rows)
