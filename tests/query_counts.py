"""What the "does not grow with rows" tests of the list pages share: the queries one GET runs,
and a failure message that names the statements that repeated (the N+1)."""
from __future__ import annotations

import collections
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def page_queries(client, url: str, data: dict | None = None) -> tuple[list[str], str]:
    """The SQL of one GET (which must answer 200) and the page's text, with an empty cache and no
    copy of the catalog, so that what they would spare (the inbox badge count, the catalog rows of
    a page) is counted in both measurements."""
    from django.core.cache import cache

    from catalog.selectors import catalog_copy_forget

    cache.clear()
    catalog_copy_forget()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, data or {})
        # A streamed response (the CSV export) runs its queries while it is read.
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return [q["sql"] for q in ctx.captured_queries], body.decode("utf-8-sig")


def repeated_statements(queries) -> str:
    """The statements that ran more than once (numbers blanked), most frequent first."""
    shapes = collections.Counter(re.sub(r"\b\d+\b", "N", sql) for sql in queries)
    return "\n".join(f"  {n}× {sql[:300]}" for sql, n in shapes.most_common() if n > 1) or "  (none)"


def assert_same_query_count(few: list[str], many: list[str], *, page: str, rows: tuple[int, int]) -> None:
    with_few, with_many = len(few), len(many)
    assert with_many == with_few, (
        f"{page}: {with_few} queries for {rows[0]} rows, {with_many} for {rows[1]}.\n"
        f"Repeated statements with {rows[1]} rows:\n{repeated_statements(many)}"
    )
