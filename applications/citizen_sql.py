"""The reads of 我的申请 and of a case's page, as prepared statements (``portal.prepared``) on PostgreSQL.

The rule stays where it is written, in the ORM: ``applications.selectors.application_list_for_citizen``
and ``portal.selectors.person_list_for_account``. This module states the list's rule once more in
SQL, because on the bench's one-case dashboard building those querysets cost 2 ms of Python and a
quarter of a millisecond of planning per visit, against 0.05 ms for PostgreSQL to run them. The
case page's reads (the case with its patient, its events, its files, the account's own person)
are plain lookups by key; the access check on the case read stays in Python
(``selectors._citizen_may_see``). The statements are built from the models' metadata, prepared
once per connection, and run by name; ``tests/applications/test_citizen_sql`` holds each to the
ORM's answer (rows, order, counts, loaded and deferred fields) on every kind of case the access
tests know.

Elsewhere (SQLite, the embedded default) the ORM's querysets are used as they are.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection

from applications.models import Application, ApplicationEvent, ApplicationStatus, Person, UploadedMaterial
from portal import prepared
from portal.models import HouseholdMember, Identity

_TYPES = {"user": "bigint", "count": "boolean", "limit": "bigint", "offset": "bigint", "depth": "bigint", "pk": "bigint", "application": "bigint"}


def prepared_reads_available() -> bool:
    return connection.vendor == "postgresql"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model, name: str) -> str:
    return _quote(model._meta.get_field(name).column)


@functools.cache
def _person_ids_sql() -> str:
    # portal.selectors._person_ids: the verified own person, and the household members.
    identity, member = _quote(Identity._meta.db_table), _quote(HouseholdMember._meta.db_table)
    return (
        f"SELECT {_column(Identity, 'person')} FROM {identity}"
        f" WHERE {_column(Identity, 'user')} = %(user)s AND {_column(Identity, 'verified_at')} IS NOT NULL"
        f" UNION SELECT {_column(HouseholdMember, 'person')} FROM {member} WHERE {_column(HouseholdMember, 'account')} = %(user)s"
    )


def _filed_sql(columns: str) -> str:
    return f"SELECT {columns} FROM {_quote(Application._meta.db_table)} WHERE {_column(Application, 'applicant')} = %(user)s"


def _for_people_sql(columns: str) -> str:
    # selectors._citizen_access's second half *less the first*: a submitted case of one of the
    # account's people that another account filed. The two halves are then disjoint, so they are
    # counted by adding and merged without removing duplicates (UNION ALL): a family account's
    # 200 cases are in both halves, and the UNION read and hashed each of them twice.
    return (
        f"SELECT {columns} FROM {_quote(Application._meta.db_table)}"
        f" WHERE {_column(Application, 'patient')} IN ({_person_ids_sql()})"
        f" AND NOT ({_column(Application, 'status')} = '{ApplicationStatus.DRAFT.value}')"
        f" AND {_column(Application, 'applicant')} <> %(user)s"
    )


@functools.cache
def _count_sql() -> str:
    return f"SELECT ({_filed_sql('count(*)')}) + ({_for_people_sql('count(*)')})"


@functools.cache
def _page_with_rows_sql() -> str:
    """``WITH`` one page of the list, in its order (``ids``; ``selectors.application_list_for_citizen``:
    newest first, the key breaking ties), with the columns the list shows, and the other half
    whole (``theirs``), which the count reads again.

    Each half is ordered and cut at ``offset + limit`` (``%(depth)s``) before the two are
    merged: a page's rows are among the first ``offset + limit`` of either half, so the cut loses
    none. The account's own half is read in that order from ``app_applicant_order_idx`` and
    stops at the cut, its rows taken as the index finds them (looking each up again by its key
    after the merge was a quarter of a family page's reads). The other half is read once, from
    ``app_patient_submitted_idx``, which also holds the applicant, so the account's own cases are
    passed over in the index, and only its keys are read: it is small (cases another account
    filed for one's people), and for a family account with 40 people it was the count's and the
    page's largest part, one index lookup per person each. Only its rows that can be on the page
    are then read by key."""
    table = _quote(Application._meta.db_table)
    created, key = f"a.{_column(Application, 'created_at')}", f"a.{_column(Application, 'id')}"
    # The shown columns, and the creation time for the order if it is not one of them.
    columns = ", ".join(dict.fromkeys([*_list_columns("a"), created]))
    order = f"ORDER BY {_column(Application, 'created_at')} DESC, {_column(Application, 'id')} DESC"
    keys = f"{_column(Application, 'id')}, {_column(Application, 'created_at')}"
    return (
        f"WITH theirs AS ({_for_people_sql(keys)}),"
        f" ids AS ((SELECT {columns} FROM {table} a WHERE a.{_column(Application, 'applicant')} = %(user)s"
        f" ORDER BY {created} DESC, {key} DESC LIMIT %(depth)s)"
        f" UNION ALL (SELECT {columns} FROM {table} a"
        f" JOIN (SELECT {keys} FROM theirs {order} LIMIT %(depth)s) t ON t.{_column(Application, 'id')} = {key}"
        f" ORDER BY {created} DESC, {key} DESC) {order} LIMIT %(limit)s OFFSET %(offset)s)"
    )


def _list_columns(alias: str) -> list[str]:
    # The case's columns 我的申请 reads, in the order ``prepared.instance`` takes them.
    return prepared.select_columns(Application, alias, _list_deferred()[0])


@functools.cache
def _list_deferred() -> tuple[frozenset[str], frozenset[str]]:
    """The fields of a case and of its patient that 我的申请 leaves unread: all but
    ``selectors.CITIZEN_LIST_FIELDS`` (and the keys), as ``.only()`` does."""
    from applications.selectors import CITIZEN_LIST_FIELDS

    own = {name for name in CITIZEN_LIST_FIELDS if "__" not in name}
    patient = {name.removeprefix("patient__") for name in CITIZEN_LIST_FIELDS if name.startswith("patient__")}
    return (
        frozenset(f.name for f in Application._meta.concrete_fields if not f.primary_key and f.name not in own),
        frozenset(f.name for f in Person._meta.concrete_fields if not f.primary_key and f.name not in patient),
    )


@functools.cache
def _statements() -> dict[str, prepared.Prepared]:
    table, person = _quote(Application._meta.db_table), _quote(Person._meta.db_table)
    columns = _list_columns("ids") + prepared.select_columns(Person, "p", _list_deferred()[1])
    # The page's rows, each with one more value, the list's count: read only when asked for
    # (``%(count)s``) and the page is full (``limit`` rows), when the paginator will want it; a
    # family account's first page is then one round trip, not two. NULL otherwise (PostgreSQL
    # runs a CASE branch's sub-select only when the branch is taken).
    page = (
        f"{_page_with_rows_sql()}"
        f" SELECT {', '.join(columns)},"
        f" CASE WHEN %(count)s AND (SELECT count(*) FROM ids) = %(limit)s"
        f" THEN ({_filed_sql('count(*)')}) + (SELECT count(*) FROM theirs) END"
        f" FROM ids LEFT JOIN {person} p ON p.{_column(Person, 'id')} = ids.{_column(Application, 'patient')}"
        # selectors.application_list_for_citizen's order: newest first, the key breaking ties.
        f" ORDER BY ids.{_column(Application, 'created_at')} DESC, ids.{_column(Application, 'id')} DESC"
    )
    one = (
        f"SELECT {', '.join(prepared.select_columns(Application, 'a') + prepared.select_columns(Person, 'p'))} FROM {table} a"
        f" LEFT JOIN {person} p ON p.{_column(Person, 'id')} = a.{_column(Application, 'patient')}"
        f" WHERE a.{_column(Application, 'id')} = %(pk)s"
    )
    materials = (
        f"SELECT {', '.join(prepared.select_columns(UploadedMaterial, 'm'))} FROM {_quote(UploadedMaterial._meta.db_table)} m"
        f" WHERE m.{_column(UploadedMaterial, 'application')} = %(application)s{{current}}"
        f" ORDER BY m.{_column(UploadedMaterial, 'slot')}, m.{_column(UploadedMaterial, 'created_at')}, m.{_column(UploadedMaterial, 'id')}"
    )
    own_person = (
        f"SELECT {_column(Identity, 'person')} FROM {_quote(Identity._meta.db_table)} WHERE {_column(Identity, 'user')} = %(user)s"
    )
    # The case page's three reads in one round trip: the case with its patient (part 0), its
    # timeline (1) and all its files (2), each part's columns beside NULLs of the others' types,
    # each part numbered in its own order (the timeline's as
    # ``selectors.application_event_list_for_citizen``, the files' as ``materials``).
    parts = [
        (
            prepared.select_columns(Application, "a") + prepared.select_columns(Person, "p"),
            prepared.loaded_fields(Application) + prepared.loaded_fields(Person),
        ),
        (prepared.select_columns(ApplicationEvent, "e"), prepared.loaded_fields(ApplicationEvent)),
        (prepared.select_columns(UploadedMaterial, "m"), prepared.loaded_fields(UploadedMaterial)),
    ]

    def columns(own: int) -> str:
        return ", ".join(
            ", ".join(cols) if i == own else ", ".join(f"NULL::{f.cast_db_type(connection)}" for f in fields)
            for i, (cols, fields) in enumerate(parts)
        )

    case_page = (
        f"SELECT 0, 0::bigint, {columns(0)} FROM {table} a"
        f" LEFT JOIN {person} p ON p.{_column(Person, 'id')} = a.{_column(Application, 'patient')}"
        f" WHERE a.{_column(Application, 'id')} = %(pk)s"
        f" UNION ALL SELECT 1, row_number() OVER (ORDER BY e.{_column(ApplicationEvent, 'created_at')}, e.{_column(ApplicationEvent, 'id')}),"
        f" {columns(1)} FROM {_quote(ApplicationEvent._meta.db_table)} e"
        f" WHERE e.{_column(ApplicationEvent, 'application')} = %(pk)s AND e.{_column(ApplicationEvent, 'visible_to_citizen')}"
        f" UNION ALL SELECT 2, row_number() OVER (ORDER BY m.{_column(UploadedMaterial, 'slot')},"
        f" m.{_column(UploadedMaterial, 'created_at')}, m.{_column(UploadedMaterial, 'id')}),"
        f" {columns(2)} FROM {_quote(UploadedMaterial._meta.db_table)} m WHERE m.{_column(UploadedMaterial, 'application')} = %(pk)s"
        " ORDER BY 1, 2"
    )
    return {
        "person_ids": prepared.Prepared("citizen_person_ids", _person_ids_sql(), _TYPES),
        "count": prepared.Prepared("citizen_case_count", _count_sql(), _TYPES),
        "page": prepared.Prepared("citizen_case_page", page, _TYPES),
        "application": prepared.Prepared("citizen_application", one, _TYPES),
        "materials": prepared.Prepared("citizen_materials", materials.format(current=""), _TYPES),
        "materials_current": prepared.Prepared(
            "citizen_materials_current",
            materials.format(current=f" AND m.{_column(UploadedMaterial, 'superseded_at')} IS NULL"),
            _TYPES,
        ),
        "own_person": prepared.Prepared("citizen_own_person", own_person, _TYPES),
        "case_page": prepared.Prepared("citizen_case_page_reads", case_page, _TYPES),
    }


def _run(name: str, params: dict) -> list[tuple]:
    return prepared.fetch(_statements()[name], params)


def person_ids(*, user_id: int) -> list[int]:
    return [person_id for (person_id,) in _run("person_ids", {"user": user_id})]


def own_person_id(*, user_id: int) -> int | None:
    rows = _run("own_person", {"user": user_id})
    return rows[0][0] if rows else None


def application_with_patient(*, pk: int) -> Application:
    """``Application.objects.select_related("patient").get(pk=pk)``: every field of both."""
    rows = _run("application", {"pk": pk})
    if not rows:
        raise Application.DoesNotExist
    return _with_patient(rows[0], frozenset(), frozenset())


def material_list(*, application_id: int, include_superseded: bool) -> list[UploadedMaterial]:
    """``selectors.material_list``'s files."""
    rows = _run("materials" if include_superseded else "materials_current", {"application": application_id})
    return [prepared.instance(UploadedMaterial, frozenset(), row) for row in rows]


def case_page(*, pk: int) -> CaseRows:
    """``application_with_patient``, ``event_list`` and ``material_list(include_superseded=True)``
    of one case, read in one statement. Raises ``Application.DoesNotExist`` without the case; the
    caller checks access (on ``CaseRows``' own values) before using any of it."""
    rows = _run("case_page", {"pk": pk})
    if not rows or rows[0][0] != 0:
        raise Application.DoesNotExist
    return CaseRows(rows)


class CaseRows:
    """One case page's rows as ``case_page`` read them (``rows``), made into the case with its
    patient, its timeline and its files when ``parts`` is first asked for. The access check needs
    only the case's applicant, patient and status, which are read off its row as they are: a page
    kept for these same rows (``portal.page_memo``) makes no instance and decrypts nothing."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows
        case = dict(zip(_case_attnames(), rows[0][2:]))
        self.applicant_id = case["applicant_id"]
        self.patient_id = case["patient_id"]
        self.status = case["status"]

    @functools.cached_property
    def parts(self) -> tuple[Application, list[ApplicationEvent], list[UploadedMaterial]]:
        rows = self.rows
        case_width = len(prepared.loaded_fields(Application)) + len(prepared.loaded_fields(Person))
        events_end = 2 + case_width + len(prepared.loaded_fields(ApplicationEvent))
        application = _with_patient(rows[0][2:2 + case_width], frozenset(), frozenset())
        events, materials = [], []
        for row in rows[1:]:
            if row[0] == 1:
                events.append(prepared.instance(ApplicationEvent, frozenset(), row[2 + case_width:events_end]))
            else:
                materials.append(prepared.instance(UploadedMaterial, frozenset(), row[events_end:]))
        return application, events, materials


@functools.cache
def _case_attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in prepared.loaded_fields(Application))


def _with_patient(row, application_deferred: frozenset[str], patient_deferred: frozenset[str]) -> Application:
    split = len(prepared.loaded_fields(Application, application_deferred))
    application = prepared.instance(Application, application_deferred, row[:split])
    patient = None if row[split] is None else prepared.instance(Person, patient_deferred, row[split:])
    # What select_related("patient") leaves: the patient read with the case.
    Application.patient.field.set_cached_value(application, patient)
    return application


class CitizenApplicationList:
    """The cases ``application_list_for_citizen(user=...)`` lists, in its order, with the patient
    joined and the deferred fields left unread, as a sequence a ``Paginator`` can page: ``count()``
    and slices each run one prepared statement."""

    def __init__(self, *, user_id: int) -> None:
        self.user_id = user_id
        self.counted: int | None = None  # the count a slice's statement returned with its rows

    def count(self) -> int:
        if self.counted is None:
            self.counted = _run("count", {"user": self.user_id})[0][0]
        return self.counted

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("CitizenApplicationList takes slices only, as a Paginator asks")
        start = index.start or 0
        if index.stop is not None and index.stop <= start:
            return []
        limit = None if index.stop is None else index.stop - start
        depth = None if limit is None else start + limit  # LIMIT NULL: no cut
        rows = _run("page", {"user": self.user_id, "count": self.counted is None, "limit": limit, "offset": start, "depth": depth})
        if rows and rows[0][-1] is not None:
            self.counted = rows[0][-1]
        return CitizenRows(rows)


class CitizenRows(Sequence):
    """A slice of ``CitizenApplicationList``: the statement's rows as they came (``rows``, each
    ending with the count or NULL), made into cases with their patients when first iterated or
    indexed. So a page kept for these same rows (``portal.page_memo``, via
    ``portal.pagination.page_read``) makes no instance."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    @functools.cached_property
    def _instances(self) -> list[Application]:
        return [_with_patient(row[:-1], *_list_deferred()) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice) and "_instances" not in self.__dict__:
            return CitizenRows(self.rows[index])
        return self._instances[index]

    def __iter__(self):
        return iter(self._instances)
