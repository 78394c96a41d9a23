"""The review queue's table rows, with what Django decides per column decided once a page.

Django's ``items_for_result`` looks every column up again for every row (``lookup_field``, the
empty-value display, the link rule, the cell's classes) and builds each cell with ``format_html``;
the template then renders each of the 100 × 10 cells on its own. In the profile of a filtered
100-row queue that was half of the page (bench/RESULTS.md, seventh pass), and it is why a page of
100 rows took twice as long as one of 25.

Here each column is looked at once, and each row's cells come out as one string. The values still
go through Django's own ``display_for_field`` / ``display_for_value``, and the markup is Django's:
tests/reviews/test_queue_rows.py compares it with ``items_for_result`` row by row. A column or a
page this does not cover (list_editable, a popup, a ``to_field``, a column that is neither a model
field nor a method of the admin) is rendered by Django as before.
"""
from __future__ import annotations

import datetime
import html
from collections.abc import Callable

from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name, items_for_result
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Cell = Callable[[models.Model], str]


def queue_result_rows(cl) -> list[ResultList]:
    """``admin_list.results(cl)``: one ``ResultList`` a row, here holding the row's cells joined."""
    cells = _cells(cl)
    if cells is None:
        return [ResultList(None, items_for_result(cl, row, None)) for row in cl.result_list]
    return [ResultList(None, [mark_safe("".join([cell(row) for cell in cells]))]) for row in cl.result_list]


def _cells(cl) -> list[Cell] | None:
    if cl.formset is not None or cl.is_popup or cl.to_field:
        return None
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    cells: list[Cell] = []
    first_link = True
    for index, name in enumerate(cl.list_display):
        if not isinstance(name, str):
            return None
        is_link = _links(cl, name, first=first_link)
        tag = "th" if is_link and first_link else "td"
        if is_link:
            first_link = False
        css = f"field-{_coerce_field_name(name, index)}"
        try:
            field = cl.lookup_opts.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is not None:
            if (field.is_relation and not (field.many_to_one and field.related_model)) or field.auto_created or name != field.name:
                return None  # reverse and generic relations, "<fk>_id", many-to-many, one-to-one: Django's path
            cell = _field_cell(field, empty=empty, link=is_link, css=css)
        elif name != "__str__" and hasattr(model_admin, name):
            cell = _method_cell(getattr(model_admin, name), name=name, empty=empty, css=css)
        else:
            return None
        cells.append(_wrapped(cell, cl=cl, tag=tag, link=is_link, empty=empty, css=css))
    return cells


def _links(cl, name: str, *, first: bool) -> bool:
    # admin_list.items_for_result's link_in_col
    if cl.list_display_links is None:
        return False
    if first and not cl.list_display_links:
        return True
    return name in cl.list_display_links


def _field_cell(field, *, empty, link: bool, css: str):
    if field.many_to_one:  # a foreign key shows the related object, or the empty value
        classes = f' class="{css} nowrap"'

        def related(row):
            value = getattr(row, field.name)
            return classes, empty if value is None else value

        return related
    nowrap = isinstance(field, (models.DateField, models.TimeField))
    classes = f' class="{css} nowrap"' if nowrap else f' class="{css}"'
    attname = field.attname
    try:  # display_for_field builds this dictionary for every cell
        choices = dict(field.flatchoices) if field.flatchoices else None
    except TypeError:  # list-like choices: display_for_field's own way
        choices = None

    def plain(row):
        value = getattr(row, attname)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if choices is not None:
            try:
                return classes, choices.get(value, empty)
            except TypeError:  # an unhashable value
                pass
        return classes, display_for_field(value, field, empty, avoid_link=link)

    return plain


def _method_cell(method, *, name: str, empty, css: str):
    empty = getattr(method, "empty_value_display", empty)
    boolean = getattr(method, "boolean", False)
    if name == "action_checkbox":
        css = "action-checkbox"
    plain, nowrap = f' class="{css}"', f' class="{css} nowrap"'

    def computed(row):
        value = method(row)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        # display_for_value gives a non-empty string back as it is (str() of a SafeString is itself).
        shown = value if not boolean and value and type(value) in (str, SafeString) else display_for_value(value, empty, boolean)
        return (nowrap if isinstance(value, (datetime.date, datetime.time)) else plain), shown

    return computed


def _wrapped(cell, *, cl, tag: str, link: bool, empty, css: str) -> Cell:
    missing = f' class="{css}"'  # a related row that is gone: Django's empty value, the plain class

    def shown(row) -> tuple[str, str]:
        try:
            classes, value = cell(row)
        except ObjectDoesNotExist:
            return missing, _escaped(empty)
        return classes, _escaped(value)

    if not link:
        def td(row):
            classes, value = shown(row)
            return f"<td{classes}>{value}</td>"

        return td

    def linked(row):
        classes, value = shown(row)
        try:
            url = cl.url_for_result(row)
        except NoReverseMatch:
            return f"<{tag}{classes}>{value}</{tag}>"
        if cl.preserved_filters:  # ReviewQueueChangeList's links carry them already
            url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
        return f'<{tag}{classes}><a href="{escape(url)}">{value}</a></{tag}>'

    return linked


def _escaped(value) -> str:
    """``conditional_escape`` without the lazy-argument check of ``escape``: the same characters."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))
