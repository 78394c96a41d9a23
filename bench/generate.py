"""Fill a PostgreSQL database with a province's worth of cases, reproducibly.

    .venv/bin/python -m bench.generate --db portal_bench_10k --applications 10000

drops and recreates the database, migrates, loads the catalog (``manage.py load_catalog`` when the
project has it, else a minimal four-region catalog), generates, and runs VACUUM ANALYZE. The same
``--seed`` and ``--as-of`` give the same rows.

What the data looks like, and why:

* Submissions grow over three years (density rises linearly), so recent months are busier.
* Statuses are skewed to decided: about 95 % approved / rejected / withdrawn, 3 % open for review,
  2 % drafts. Open cases are recent; about 5 % of them are past their deadline (overdue), which
  is what the review queue sorts to the top.
* ``due_at`` comes from the region's deadline in working days (``catalog.working_days``),
  computed from the hour the clock started (exact to the hour; minutes are added back).
* A few "hot" accounts (代办: one account applying for many people) hold hundreds of cases, so
  the citizen dashboard's worst case exists; everyone else has one to four.
* Every approved case has its certification; submitted cases have material metadata (no files:
  the pages only read metadata); decided cases have an inbox notification.
* Resident ID numbers are valid (MOD 11-2 check character) and unique by construction.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.copying import NULL

BASE_DIR = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc

# The bench superuser and a citizen password hash that no login can match: sessions are written
# straight into the session store (see bench.sessions), nobody logs in through a form.
ADMIN_USERNAME = "bench-admin"
UNUSABLE_PASSWORD = "!bench-no-login"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉珍凤文辉力国斌海燕鹏志宇浩然子涵欣怡梓轩雨萱晨"
# Address codes (GB/T 2260) used for the ID numbers of each region's residents; any valid code
# would do, these are the regions' own districts.
ADDRESS_CODES = {"429006": "429006", "430500": "430502", "520200": "520201", "411000": "411002"}
BIRTH_BASE = dt.date(1945, 1, 1)
BIRTH_SPAN_DAYS = 20_000  # about 55 years of birth dates
# A multiplier coprime with BIRTH_SPAN_DAYS spreads consecutive person numbers over birth dates.
BIRTH_STRIDE = 7919

STATUS_FINAL = (("approved", 0.78), ("rejected", 0.15), ("withdrawn", 0.07))
STATUS_OPEN = (("submitted", 0.35), ("in_review", 0.40), ("supplement_requested", 0.15), ("escalated", 0.10))
SHARE_DRAFT = 0.02
SHARE_OPEN = 0.03
SHARE_OVERDUE_OF_OPEN = 0.05
YEARS = 3


def id_number_for(index: int, address: str) -> str:
    """A valid, unique resident ID number for person ``index`` (unique per address code).

    ``index`` maps one-to-one onto (birth date, 3-digit sequence): 20,000 birth dates × 1,000
    sequences per address code is room for 20 million people per region.
    """
    from applications.id_numbers import id_check_char

    day = (index % BIRTH_SPAN_DAYS) * BIRTH_STRIDE % BIRTH_SPAN_DAYS
    sequence = index // BIRTH_SPAN_DAYS
    if sequence > 999:
        raise ValueError("too many people for one address code")
    birth = BIRTH_BASE + dt.timedelta(days=day)
    first17 = f"{address}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def _n(value) -> str:
    return NULL if value is None else str(value)


def _ts(value) -> str:
    return NULL if value is None else value.isoformat()


def weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    pick = rng.random() * sum(weight for _, weight in table)
    for value, weight in table:
        pick -= weight
        if pick <= 0:
            return value
    return table[-1][0]


# --- catalog --------------------------------------------------------------------------------


def ensure_catalog(*, prefer_loader: bool = True) -> str:
    """Load the project's catalog when the command exists; otherwise a minimal one. Returns which."""
    from django.core.management import call_command, get_commands

    from catalog.models import Region

    if Region.objects.exists():
        return "existing"
    if prefer_loader and "load_catalog" in get_commands():
        try:
            call_command("load_catalog", verbosity=0)
            if Region.objects.exists():
                return "load_catalog"
        except Exception as exc:  # the catalog engineer's loader is work in progress
            print(f"load_catalog failed ({type(exc).__name__}: {exc}); using the minimal catalog", file=sys.stderr)
    minimal_catalog()
    return "minimal"


def minimal_catalog() -> None:
    """Four regions, three schemes, a handful of diseases and hospitals: enough to generate cases."""
    from catalog.models import (
        Disease,
        DiseaseCategory,
        MedicalInstitution,
        Region,
        Scheme,
        ServiceSettings,
    )

    schemes = [
        Scheme.objects.get_or_create(code=code, defaults={"name": name, "fund": fund, "order": i})[0]
        for i, (code, name, fund) in enumerate(
            [
                ("employee_active", "职工医保（在职）", "职工医保"),
                ("employee_retired", "职工医保（退休）", "职工医保"),
                ("resident", "城乡居民医保", "城乡居民医保"),
            ]
        )
    ]
    regions = [
        ("429006", "湖北省", "天门市", Decimal("15")),
        ("430500", "湖南省", "邵阳市", Decimal("10")),
        ("520200", "贵州省", "六盘水市", Decimal("0.5")),
        ("411000", "河南省", "许昌市", Decimal("8")),
    ]
    diseases = ["高血压", "糖尿病", "恶性肿瘤门诊放化疗", "尿毒症透析", "器官移植术后抗排异治疗", "慢性阻塞性肺疾病", "冠心病", "脑卒中后遗症", "类风湿关节炎", "帕金森病"]
    for order, (code, province, city, days) in enumerate(regions):
        region = Region.objects.create(code=code, province=province, city=city, order=order, source="bench: minimal catalog")
        ServiceSettings.objects.create(region=region, review_deadline_days=days, source="bench")
        category = DiseaseCategory.objects.create(region=region, code="chronic", name="门诊慢性病", source="bench")
        for i, name in enumerate(diseases):
            disease = Disease.objects.create(
                region=region,
                category=category,
                code=f"M{code[:4]}{i:03d}",
                name=name,
                validity_rule=("long_term", "months", "year_end")[i % 3],
                validity_months=24 if i % 3 == 1 else None,
                order=i,
                source="bench",
            )
            disease.schemes.set(schemes)
        for i in range(6):
            MedicalInstitution.objects.create(
                region=region, name=f"{city}第{i + 1}人民医院", level=3 if i < 2 else 2, grade="甲", designated=True
            )


@dataclass
class RegionInfo:
    id: int
    code: str
    address: str
    settings: object
    diseases_by_scheme: dict[int, list[tuple]]
    disease_weights: dict[int, list[float]]
    institutions: list[tuple[int, str]]
    material_slots: dict[int, list[str]]
    reviewers: list[int] = field(default_factory=list)


def read_catalog() -> tuple[list[RegionInfo], list[int]]:
    from catalog.models import Disease, MedicalInstitution, Region, RequiredMaterial, Scheme

    scheme_ids = list(Scheme.objects.order_by("order", "code").values_list("id", flat=True))
    slots: dict[int, list[str]] = {}
    for disease_id, code in RequiredMaterial.objects.values_list("disease_id", "code"):
        slots.setdefault(disease_id, []).append(code)
    infos = []
    for region in Region.objects.select_related("settings").order_by("order", "code"):
        by_scheme: dict[int, list[tuple]] = {}
        diseases = list(Disease.objects.filter(region=region).prefetch_related("schemes").order_by("order", "code"))
        for disease in diseases:
            row = (disease.id, disease.code, disease.name, disease.validity_rule, disease.validity_months)
            for scheme in disease.schemes.all():
                by_scheme.setdefault(scheme.id, []).append(row)
        # A few diseases (hypertension, diabetes) make most of the cases: Zipf-like weights.
        weights = {s: [1 / (rank + 1) for rank in range(len(rows))] for s, rows in by_scheme.items()}
        institutions = list(
            MedicalInstitution.objects.filter(region=region).order_by("-level", "name").values_list("id", "name")
        )
        infos.append(
            RegionInfo(
                id=region.id,
                code=region.code,
                address=ADDRESS_CODES.get(region.code, region.code),
                settings=getattr(region, "settings", None),
                diseases_by_scheme=by_scheme,
                disease_weights=weights,
                institutions=institutions,
                material_slots=slots,
            )
        )
    if not infos or not any(info.diseases_by_scheme for info in infos):
        raise RuntimeError("the catalog has no region with diseases")
    return infos, scheme_ids


# --- generation -----------------------------------------------------------------------------


class App:
    __slots__ = (
        "id", "user", "patient", "region", "scheme", "disease", "status", "kind", "parent", "created",
        "submitted", "clock", "due", "decided", "supplement_at", "resubmitted_at", "expert", "channel",
        "assignee", "acceptance", "institution",
    )


class DeadlineClock:
    """``catalog.working_days.add_working_time`` per region, memoised per bucket of clock-start
    time: one hour for the last 60 days (open cases, whose deadlines the queue shows), six hours
    before that (decided cases, where a deadline a few hours off changes nothing measured).
    The offset inside the bucket is added back, so due_at keeps its minutes."""

    def __init__(self, as_of: dt.datetime) -> None:
        import functools

        from catalog.working_days import WorkCalendar

        self.calendar = WorkCalendar()
        # chinese_calendar validates its argument on every call; a date's answer never changes.
        self.calendar.is_workday = functools.lru_cache(maxsize=None)(self.calendar.is_workday)
        self.recent = as_of - dt.timedelta(days=60)
        self.cache: dict[tuple[int, dt.datetime], dt.datetime] = {}

    def due(self, region: RegionInfo, start: dt.datetime) -> dt.datetime:
        from catalog.working_days import add_working_time

        if region.settings is None:
            return start + dt.timedelta(days=7)
        hour = start.replace(minute=0, second=0, microsecond=0)
        if start < self.recent:
            hour = hour.replace(hour=hour.hour - hour.hour % 6)
        key = (region.id, hour)
        if key not in self.cache:
            self.cache[key] = add_working_time(
                start=hour, days=region.settings.review_deadline_days, settings=region.settings, calendar=self.calendar
            )
        return self.cache[key] + (start - hour)


def _minutes(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(minutes=rng.uniform(low, high))


def _plan_cases(rng: random.Random, n: int) -> tuple[list[int], int]:
    """How many cases each account holds: a few hot accounts first, then 1–4 per account.
    Returns the plan and how many of its first entries are hot accounts."""
    if n >= 10_000:
        hot_users, hot_cases = 5, 200
    else:
        hot_users, hot_cases = 2, max(3, n // 20)
    plan = [hot_cases] * hot_users
    remaining = n - hot_users * hot_cases
    while remaining > 0:
        k = min(remaining, int(weighted(rng, (("1", 0.75), ("2", 0.18), ("3", 0.05), ("4", 0.02)))))
        plan.append(k)
        remaining -= k
    return plan, hot_users


def _schedule(app: App, rng: random.Random, as_of: dt.datetime, region: RegionInfo, clock: DeadlineClock) -> None:
    """Times and status for one case, consistent with one another and with the lifecycle."""
    span = dt.timedelta(days=365 * YEARS)
    roll = rng.random()
    days = float(region.settings.review_deadline_days) if region.settings is not None else 7.0
    if roll < SHARE_DRAFT:
        app.status = "draft"
        app.created = as_of - dt.timedelta(days=rng.uniform(0, 60))
        app.submitted = app.clock = app.due = app.decided = None
        return
    if roll < SHARE_DRAFT + SHARE_OPEN:
        app.status = weighted(rng, STATUS_OPEN)
        if app.status == "supplement_requested":
            # The applicant holds the case: no clock, no deadline.
            app.supplement_at = as_of - dt.timedelta(days=rng.uniform(0.5, 30))
            app.submitted = app.supplement_at - _minutes(rng, 60, 60 * 24 * days * 1.4)
            app.clock = app.due = None
        else:
            if rng.random() < SHARE_OVERDUE_OF_OPEN:
                app.clock = as_of - dt.timedelta(days=days * 1.4 + rng.uniform(2, 20))
            else:
                app.clock = as_of - dt.timedelta(days=rng.uniform(0, 1) * days)
            app.submitted = app.clock
            app.due = clock.due(region, app.clock)
        app.created = app.submitted - _minutes(rng, 5, 60 * 24 * 3)
        app.decided = None
        return
    app.status = weighted(rng, STATUS_FINAL)
    # Linear growth: the density of submissions rises over the three years.
    # Ends 25 days before as_of so that a supplement round and the decision fit before it.
    app.submitted = as_of - span + (span - dt.timedelta(days=25)) * math.sqrt(rng.random())
    app.created = app.submitted - _minutes(rng, 5, 60 * 24 * 3)
    app.clock = app.submitted
    if app.status != "withdrawn" and rng.random() < 0.15:
        app.supplement_at = app.submitted + _minutes(rng, 30, 60 * 24 * 3)
        app.resubmitted_at = app.supplement_at + dt.timedelta(days=rng.uniform(0.2, 10))
        app.clock = app.resubmitted_at
    app.due = clock.due(region, app.clock)
    if rng.random() < 0.05:  # decided late
        app.decided = app.due + dt.timedelta(hours=rng.uniform(1, 24 * 10))
    else:
        app.decided = app.clock + (app.due - app.clock) * rng.uniform(0.1, 1.0)
    # Nothing is decided in the future of the data's "now".
    app.decided = min(app.decided, as_of - dt.timedelta(minutes=rng.uniform(5, 600)))
    app.expert = app.status != "withdrawn" and rng.random() < 0.10


def _events(app: App, rng: random.Random, actor_citizen: int, reviewer: int | None, as_of: dt.datetime):
    """The timeline rows of one case: (kind, actor, from, to, data, visible, at), in time order.

    Each step happens inside the window the case's own times leave for it (a claim before the
    supplement notice or the decision, an expert opinion after the claim), so the timeline
    never runs backwards whatever the region's deadline.
    """
    rows = [("created", actor_citizen, "", "draft", {}, True, app.created)]
    if app.status == "draft":
        return rows
    rows.append(("submitted", actor_citizen, "draft", "submitted", {"acceptance_number": app.acceptance}, True, app.submitted))
    if app.status == "submitted":
        return rows
    window_end = app.supplement_at or app.decided or as_of
    claimed = app.submitted + (window_end - app.submitted) * rng.uniform(0.05, 0.4)
    if app.status == "withdrawn":
        if rng.random() < 0.5:
            rows.append(("claimed", reviewer, "submitted", "in_review", {}, True, claimed))
            rows.append(("withdrawn", actor_citizen, "in_review", "withdrawn", {}, True, app.decided))
        else:
            rows.append(("withdrawn", actor_citizen, "submitted", "withdrawn", {}, True, app.decided))
        return rows
    rows.append(("claimed", reviewer, "submitted", "in_review", {}, True, claimed))
    state = "in_review"
    if app.supplement_at is not None:
        rows.append(
            (
                "supplement_requested", reviewer, "in_review", "supplement_requested",
                {"items": ["诊断证明书"], "note": "请补充二级及以上医院诊断证明（加盖公章）"}, True, app.supplement_at,
            )
        )
        state = "supplement_requested"
        if app.status == "supplement_requested":
            return rows
        rows.append(("resubmitted", actor_citizen, "supplement_requested", "submitted", {}, True, app.resubmitted_at))
        state = "submitted"
    if app.status == "in_review":
        return rows
    if app.status == "escalated":
        at = claimed + (as_of - claimed) * rng.uniform(0.1, 0.9)
        rows.append(("escalated", reviewer, state, "escalated", {}, True, at))
        return rows
    if app.expert:
        start = max(app.clock or app.submitted, claimed)
        rows.append(
            ("expert_opinion", reviewer, state, state, {"recommendation": "approve" if app.status == "approved" else "reject"},
             False, start + (app.decided - start) / 2)
        )
    data = {} if app.status == "approved" else {"reason": "不符合准入标准：缺少规定检查结果"}
    rows.append((app.status, reviewer, state, app.status, data, True, app.decided))
    return rows


def generate(*, applications: int, seed: int = 20261122, as_of: dt.datetime | None = None, log=print) -> dict[str, int]:
    """Generate ``applications`` cases (and their people, events, materials, certifications).

    Runs in the current database connection; the catalog must already be there.
    """
    from django.apps import apps as django_apps
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from applications.models import Application, ApplicationEvent, Certification, Person
    from bench.copying import companion_hash, copy_rows, copy_text, indexes_deferred, reset_sequence, stored_text

    as_of = (as_of or dt.datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    regions, scheme_ids = read_catalog()
    User = get_user_model()
    clock = DeadlineClock(as_of)
    counts: dict[str, int] = {}
    started = time.monotonic()

    def step(label: str) -> None:
        log(f"  {label} ({time.monotonic() - started:.1f} s)")

    # --- accounts: one superuser, reviewers per region, citizens ---------------------------
    user_rows = []
    next_user = 1
    joined_base = as_of - dt.timedelta(days=365 * YEARS + 30)
    user_rows.append((next_user, "!", None, True, ADMIN_USERNAME, "", "", "", True, True, joined_base, None, False))
    next_user += 1
    for region in regions:
        for i in range(3):
            user_rows.append(
                (next_user, UNUSABLE_PASSWORD, None, False, f"reviewer-{region.code}-{i}", "", "", "", True, True, joined_base, None, False)
            )
            region.reviewers.append(next_user)
            next_user += 1
    staff_count = next_user - 1

    # Encrypted at rest when the model says so (portal.crypto): ID numbers with their lookup hash,
    # diagnoses. Written exactly as the fields' own conversion writes them.
    id_text = stored_text(Person, "id_number")
    id_hash_column, id_hash = companion_hash(Person, "id_number")
    diagnosis_text = stored_text(Application, "diagnosis")
    plan, hot_count = _plan_cases(rng, applications)
    person_rows = []
    identity_rows = []
    household_rows = []
    apps: list[App] = []
    person_index_by_region = {r.id: 0 for r in regions}
    next_person = 1

    def new_person(region: RegionInfo, scheme_id: int, created: dt.datetime) -> int:
        nonlocal next_person
        index = person_index_by_region[region.id]
        person_index_by_region[region.id] += 1
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        number = id_number_for(index, region.address)
        hashed = f"\t{id_hash(number)}" if id_hash else ""
        person_rows.append(
            f"{next_person}\t{name}\t{id_text(number)}\t{region.id}\t{scheme_id}\t{created.isoformat()}{hashed}"
        )
        next_person += 1
        return next_person - 1

    for user_no, n_cases in enumerate(plan):
        user_id = next_user
        next_user += 1
        region = regions[rng.randrange(len(regions))]
        scheme_id = rng.choice([s for s in scheme_ids if s in region.diseases_by_scheme] or scheme_ids)
        joined = joined_base + dt.timedelta(days=rng.uniform(0, 365 * YEARS))
        phone = f"139{user_id:08d}"
        # Pre-formatted COPY lines from here on: hundreds of thousands of rows per table.
        user_rows.append(f"{user_id}\t{UNUSABLE_PASSWORD}\t{NULL}\tf\tc{user_id}\t\t\t\tf\tt\t{joined.isoformat()}\t{phone}\tt")
        own = new_person(region, scheme_id, joined)
        identity_rows.append(
            f"{user_id}\t{own}\t{(joined + dt.timedelta(minutes=3)).isoformat()}\tbench\tbench-{user_id}\t{joined.isoformat()}"
        )
        patients = [own]
        hot = user_no < hot_count
        # Hot accounts apply for many people (代办 with 授权委托书); some others for a parent.
        extra = 40 if hot else (1 if rng.random() < 0.25 else 0)
        for _ in range(extra):
            person = new_person(region, rng.choice(scheme_ids), joined)
            household_rows.append((user_id, person, "other" if hot else "parent", "authorization" if hot else "hukou", joined))
            patients.append(person)
        user_apps = []
        for _ in range(n_cases):
            app = App()
            app.user = user_id
            app.patient = patients[0] if len(patients) == 1 or rng.random() < 0.6 else rng.choice(patients[1:])
            app.region = region
            app.scheme = scheme_id
            diseases = region.diseases_by_scheme.get(scheme_id) or next(iter(region.diseases_by_scheme.values()))
            weights = region.disease_weights.get(scheme_id) or [1.0] * len(diseases)
            app.disease = rng.choices(diseases, weights=weights[: len(diseases)])[0]
            app.kind, app.parent = "initial", None
            app.supplement_at = app.resubmitted_at = None
            app.expert = False
            app.channel = "counter" if rng.random() < 0.1 else "online"
            app.institution = rng.choice(region.institutions) if region.institutions else (None, "")
            _schedule(app, rng, as_of, region, clock)
            app.assignee = rng.choice(region.reviewers) if app.status not in ("draft", "submitted", "supplement_requested") else None
            user_apps.append(app)
        # Follow-ups (extension, re-review, reconsideration) point at an earlier decided case.
        user_apps.sort(key=lambda a: a.created)
        for i, app in enumerate(user_apps[1:], start=1):
            earlier = [a for a in user_apps[:i] if a.status in ("approved", "rejected") and a.decided and a.decided < app.created]
            if earlier and rng.random() < 0.5:
                parent = rng.choice(earlier)
                app.kind = "reconsideration" if parent.status == "rejected" else rng.choice(("extension", "extension", "rereview"))
                app.parent, app.patient, app.disease = parent, parent.patient, parent.disease
        apps.extend(user_apps)
    step(f"planned {len(apps)} cases for {len(plan)} accounts")

    # Primary keys follow creation time, as they would in production.
    apps.sort(key=lambda a: a.created)
    per_day: dict[tuple[int, dt.date], int] = {}
    for pk, app in enumerate(apps, start=1):
        app.id = pk
    for app in sorted((a for a in apps if a.submitted is not None), key=lambda a: a.submitted):
        local_day = (app.submitted + dt.timedelta(hours=8)).date()  # Asia/Shanghai, no DST
        key = (app.region.id, local_day)
        per_day[key] = per_day.get(key, 0) + 1
        app.acceptance = f"{app.region.code}{local_day:%Y%m%d}{per_day[key]:05d}"
    for app in apps:
        if app.submitted is None:
            app.acceptance = None

    with transaction.atomic():
        # Foreign-key triggers off for this transaction (PostgreSQL superuser): checking ~10 keys
        # per row costs more than the COPY itself. Unique and check constraints still apply, and
        # tests/bench verifies every reference afterwards.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        with indexes_deferred(
            Application._meta.db_table, ApplicationEvent._meta.db_table, Certification._meta.db_table,
            Person._meta.db_table, User._meta.db_table, "applications_uploadedmaterial", "notifications_notification",
        ):
            counts["users"] = copy_rows(
                User,
                ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
                 "is_active", "date_joined", "phone", "phone_verified"],
                user_rows,
            )
            counts["staff"] = staff_count
            reset_sequence(User)
            counts["persons"] = copy_rows(
                Person, ["id", "full_name", "id_number", "region_id", "scheme_id", "created_at", *([id_hash_column] if id_hash_column else [])],
                person_rows,
            )
            reset_sequence(Person)
            step("users and persons")
            try:
                Identity = django_apps.get_model("portal", "Identity")
                counts["identities"] = copy_rows(Identity, ["user_id", "person_id", "verified_at", "provider", "provider_reference", "created_at"], identity_rows)
                HouseholdMember = django_apps.get_model("portal", "HouseholdMember")
                counts["household_members"] = copy_rows(HouseholdMember, ["account_id", "person_id", "relationship", "proof_kind", "created_at"], household_rows)
            except LookupError:
                pass

            def application_rows():
                for app in apps:
                    disease_id, _, disease_name, _, _ = app.disease
                    submitted = app.submitted is not None
                    institution_id = app.institution[0]
                    updated = app.decided or app.resubmitted_at or app.supplement_at or app.submitted or app.created
                    clock = app.clock if app.status != "supplement_requested" else None
                    yield (
                        f"{app.id}\t{app.kind}\t{_n(app.parent.id if app.parent else None)}\t{_n(app.acceptance)}\t"
                        f"{app.status}\t{app.user}\t{app.patient}\t{app.region.id}\t{app.scheme}\t{disease_id}\t{{}}\t"
                        f"{diagnosis_text(disease_name + '（门诊诊断明确）') if submitted else ''}\t{_n(institution_id)}\t"
                        f"{(app.created - dt.timedelta(days=30)).date().isoformat() if submitted else NULL}\t{_n(institution_id)}\t"
                        f"{'2024-01' if submitted else ''}\t{_ts(app.submitted)}\t{5 if submitted else 2}\t{app.channel}\t"
                        f"{_n(app.region.reviewers[0] if app.channel == 'counter' else None)}\t{_n(app.assignee)}\t"
                        f"{app.created.isoformat()}\t{updated.isoformat()}\t{_ts(app.submitted)}\t{_ts(clock)}\t"
                        f"{_ts(app.due)}\t{_ts(app.decided)}"
                    )

            counts["applications"] = copy_rows(
                Application,
                ["id", "kind", "parent_id", "acceptance_number", "status", "applicant_id", "patient_id", "region_id", "scheme_id",
                 "disease_id", "self_check", "diagnosis", "diagnosing_institution_id", "diagnosis_date",
                 "designated_institution_id", "consent_version", "consent_at", "wizard_step", "entry_channel", "entered_by_id",
                 "assignee_id", "created_at", "updated_at", "submitted_at", "clock_started_at", "due_at", "decided_at"],
                application_rows(),
            )
            reset_sequence(Application)
            step("applications")

            def event_rows():
                for app in apps:
                    reviewer = app.assignee or rng.choice(app.region.reviewers)
                    for kind, actor, from_status, to_status, data, visible, at in _events(app, rng, app.user, reviewer, as_of):
                        # Pre-formatted: four million rows at 1M cases (see copying.copy_rows).
                        yield (
                            f"{app.id}\t{kind}\t{actor or NULL}\t{from_status}\t{to_status}\t"
                            f"{copy_text(data) if data else '{}'}\t{'t' if visible else 'f'}\t{at.isoformat()}"
                        )

            counts["events"] = copy_rows(
                ApplicationEvent,
                ["application_id", "kind", "actor_id", "from_status", "to_status", "data", "visible_to_citizen", "created_at"],
                event_rows(),
            )
            step("events")

            def certification_rows():
                as_of_date = as_of.date()
                for app in apps:
                    if app.status != "approved":
                        continue
                    disease_id, code, name, rule, months = app.disease
                    begin = (app.decided + dt.timedelta(hours=8)).date()
                    if rule == "months" and months:
                        year, month = divmod(begin.month - 1 + months, 12)
                        end = dt.date(begin.year + year, month + 1, min(begin.day, 28))
                    elif rule == "year_end":
                        end = dt.date(begin.year, 12, 31)
                    else:
                        end = None
                    yield (
                        app.patient, app.id, app.region.id, app.scheme, disease_id, code, name, app.institution[1],
                        app.institution[0], begin, end, "active" if end is None or end >= as_of_date else "expired", app.decided,
                    )

            counts["certifications"] = copy_rows(
                Certification,
                ["person_id", "application_id", "region_id", "scheme_id", "disease_id", "opsp_dise_code", "opsp_dise_name",
                 "ide_fixmedins_name", "designated_institution_id", "begndate", "enddate", "status", "created_at"],
                certification_rows(),
            )
            step("certifications")

            try:
                Material = django_apps.get_model("applications", "UploadedMaterial")
            except LookupError:
                Material = None
            if Material is not None:
                def material_rows():
                    for app in apps:
                        if app.submitted is None:
                            continue
                        slots = app.region.material_slots.get(app.disease[0]) or ["diagnosis_certificate", "medical_record"]
                        decided = app.status in ("approved", "rejected")
                        verdict = "accepted" if decided else "pending"
                        verdict_by = app.assignee or NULL if decided else NULL
                        verdict_at = app.decided.isoformat() if decided else NULL
                        uploaded = (app.submitted - dt.timedelta(minutes=3)).isoformat()
                        for slot in slots[:3]:
                            token = hashlib.sha256(f"{seed}:{app.id}:{slot}".encode()).hexdigest()
                            yield (
                                f"{app.id}\t{copy_text(slot)}\tmaterials/{token[:2]}/{token[2:34]}.jpg\tIMG_{app.id % 10000:04d}.jpg\t"
                                f"image/jpeg\t{200_000 + int(token[:5], 16) % 1_500_000}\t{token}\t"
                                f"materials/{token[:2]}/{token[2:34]}_thumb.jpg\t120.0\tt\t\t{verdict}\t\t{verdict_by}\t"
                                f"{verdict_at}\tf\t{NULL}\t{app.user}\t{uploaded}"
                            )

                counts["materials"] = copy_rows(
                    Material,
                    ["application_id", "slot", "file", "original_name", "content_type", "size", "sha256", "thumbnail",
                     "sharpness", "processed", "processing_error", "verdict", "verdict_note", "verdict_by_id", "verdict_at",
                     "flagged_for_supplement", "superseded_at", "uploaded_by_id", "created_at"],
                    material_rows(),
                )
                step("materials")

            try:
                Counter = django_apps.get_model("applications", "AcceptanceCounter")
                counts["acceptance_counters"] = copy_rows(
                    Counter, ["region_id", "day", "last"], ((region_id, day, last) for (region_id, day), last in per_day.items())
                )
            except LookupError:
                pass

            try:
                Notification = django_apps.get_model("notifications", "Notification")
            except LookupError:
                Notification = None
            if Notification is not None:
                def notification_rows():
                    for app in apps:
                        if app.decided is None:
                            continue
                        # Read a day later, except for the last month's (unread badges exist).
                        read = app.decided + dt.timedelta(days=1) if app.decided < as_of - dt.timedelta(days=30) else None
                        at = app.decided.isoformat()
                        yield (
                            f"application:{app.id}:{app.status}\tinbox\t{app.user}\t{app.user}\tapplication_{app.status}\t"
                            f'{{"number":"{app.acceptance}"}}\tt\tsent\t1\t\t\t\t{NULL}\t{at}\t{at}\t{at}\t'
                            f"{read.isoformat() if read else NULL}"
                        )

                counts["notifications"] = copy_rows(
                    Notification,
                    ["event_key", "channel", "recipient", "user_id", "template_key", "params", "urgent", "status", "attempts",
                     "last_error", "provider", "provider_message_id", "not_before", "created_at", "claimed_at", "sent_at", "read_at"],
                    notification_rows(),
                )
                step("notifications")
        step("indexes rebuilt")
    counts["hot_accounts"] = hot_count
    return counts


def hot_users(*, limit: int = 5) -> list[int]:
    """The accounts with the most cases (the dashboard's worst case)."""
    from django.db.models import Count

    from applications.models import Application

    return list(
        Application.objects.values("applicant_id").annotate(n=Count("id")).order_by("-n", "applicant_id")
        .values_list("applicant_id", flat=True)[:limit]
    )


# --- the database ---------------------------------------------------------------------------


def psql(sql: str, *, database: str = "postgres", host: str = "127.0.0.1", user: str = "postgres") -> None:
    subprocess.run(["psql", "-h", host, "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def rebuild(*, db: str, applications: int, seed: int, as_of: dt.datetime, catalog: str = "auto") -> dict:
    """Drop and create ``db``, migrate, load the catalog, generate, VACUUM ANALYZE (a subprocess
    per step that needs Django, so each sees DATABASE_URL for ``db``)."""
    if not db.startswith("portal_bench_"):
        raise SystemExit("bench databases are named portal_bench_*; refusing to drop anything else")
    started = time.monotonic()
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')
    env = bench_env(db)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    migrated = time.monotonic() - started
    subprocess.run(
        [sys.executable, "-m", "bench.generate", "--in-place", "--db", db, "--applications", str(applications),
         "--seed", str(seed), "--as-of", as_of.isoformat(), "--catalog", catalog],
        cwd=BASE_DIR, env=env, check=True,
    )
    generated = time.monotonic() - started
    psql("VACUUM ANALYZE", database=db)
    record = json.loads(generation_record(db).read_text()) if generation_record(db).exists() else {}
    record.update(migrate_s=migrated, generate_s=generated - migrated, total_s=time.monotonic() - started)
    generation_record(db).write_text(json.dumps(record, indent=1))
    return record


def generation_record(db: str) -> Path:
    """What the last generation of ``db`` did (counts, seed, as-of, timings): a reused database
    is reported with the figures of the run that made it."""
    return BASE_DIR / "var" / "bench" / f"generation-{db}.json"


def bench_env(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url(db),
        REDIS_URL="redis://127.0.0.1:6379/9",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/9",
        SECRET_KEY="bench-only-secret-key-not-for-any-deployment-0123456789",
        CACHE_KEY_PREFIX=f"bench-{db}",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="portal_bench_10k, portal_bench_1m, ...")
    parser.add_argument("--applications", type=int, required=True)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--as-of", default=None, help="ISO time the data is 'now' for (default: today 00:00 UTC)")
    parser.add_argument("--catalog", choices=("auto", "minimal"), default="auto")
    parser.add_argument("--in-place", action="store_true", help="generate into an already migrated, empty database")
    args = parser.parse_args(argv)
    as_of = dt.datetime.fromisoformat(args.as_of) if args.as_of else dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if not args.in_place:
        timing = rebuild(db=args.db, applications=args.applications, seed=args.seed, as_of=as_of, catalog=args.catalog)
        print(f"{args.db}: {args.applications} applications in {timing['total_s']:.0f} s "
              f"(migrate {timing['migrate_s']:.0f} s, generate {timing['generate_s']:.0f} s)")
        return
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    source = ensure_catalog(prefer_loader=args.catalog == "auto")
    print(f"catalog: {source}")
    counts = generate(applications=args.applications, seed=args.seed, as_of=as_of)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    generation_record(args.db).parent.mkdir(parents=True, exist_ok=True)
    generation_record(args.db).write_text(json.dumps(
        {"db": args.db, "applications": args.applications, "seed": args.seed, "as_of": as_of.isoformat(),
         "catalog": source, "counts": counts, "generated_at": dt.datetime.now(UTC).isoformat()}, indent=1,
    ))


if __name__ == "__main__":
    main()
