"""In-process preparation and SQL probe for one bench database.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... python -m bench.probe --out probe.json

1. Picks the accounts the load uses (the hot accounts with the most cases, typical one-case
   accounts, the staff superuser) and writes their sessions straight into the session store:
   no login form runs, so neither rate limits nor the staff second factor get in the way (the
   session is the one a fully logged-in user holds, staff marked as past the second factor
   the way ``reviews.security`` marks them).
2. Finds each page's URL by its route name. A page whose route does not exist yet, or that
   answers 404 / 5xx, is "not available in this run" with the reason, never a crash.
3. Requests every page once with Django's test client under ``CaptureQueriesContext`` and
   records the query count, any unfiltered ``COUNT(*)``, and the slowest statements; for the
   admin queue also with 20 and 100 rows per page, and for the dashboard with a 200-case account
   against a one-case account (the count must not depend on either).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
from pathlib import Path

CSRF_SECRET = "benchcsrfsecret0123456789abcdefg"  # 32 characters: Django accepts it unmasked
# × 20 files each (UPLOAD_MAX_FILES_PER_APPLICATION) per run: room for 12,000 uploads. 150 drafts
# ran out on a machine that uploads ~180 a second (2 s warm-up and 15 s measured): 4.5 % refused.
UPLOAD_DRAFTS = 600
# No generated account holds this many drafts: one that does is the upload account of an earlier run.
UPLOAD_OWNER_DRAFTS = 150


def _reverse(name: str, *args) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def session_for(user) -> str:
    """A session for ``user`` exactly as ``django.contrib.auth.login`` leaves it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend a login would record: staff sign in at the admin (the first backend), citizens
    # through allauth, whose adapter picks the first backend that is allauth's.
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0 if user.is_staff else -1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if user.is_staff:
        # What reviews.security records once the staff member has passed the second factor.
        try:
            from reviews.security import SESSION_MFA_VERIFIED

            store[SESSION_MFA_VERIFIED] = True
        except ImportError:
            pass
    store.set_expiry(6 * 3600)
    store.save()
    return store.session_key


def jpeg_bytes(seed: int = 1) -> bytes:
    """A phone-photo-like JPEG (noise compresses badly, ~300 KB), the upload body."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (640, 480), bytes(rng.getrandbits(8) for _ in range(640 * 480 * 3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


UNFILTERED_COUNT = re.compile(r"SELECT\s+COUNT\(\*\)", re.IGNORECASE)


def is_unfiltered_count(sql: str) -> bool:
    """A COUNT(*) over a whole table: no WHERE and no LIMIT (a capped count has a LIMIT)."""
    return bool(UNFILTERED_COUNT.search(sql)) and " WHERE " not in sql.upper() and " LIMIT " not in sql.upper()


def _capture(client, method: str, path: str, **kwargs) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django.core.cache import cache

    from catalog.selectors import catalog_copy_forget

    # Cold: what the cache and the process's catalog copy would spare (the session, the header
    # badge, the catalog rows of a page) is counted on every page alike, whatever ran before.
    cache.clear()
    catalog_copy_forget()
    try:
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method.lower())(path, **kwargs)
        warm = None
        if method.upper() == "GET" and response.status_code == 200:
            # Warm: the same request again, as the next one in a running process.
            with CaptureQueriesContext(connection) as again:
                getattr(client, method.lower())(path, **kwargs)
            warm = len(again.captured_queries)
    except Exception as exc:  # a page being written may raise; that is a finding, not a crash
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"[:300]}
    statements = [q["sql"] for q in queries.captured_queries]
    slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    # The session lookup is the same on every page; the page's own slowest statement is the news.
    own = [q for q in slowest if "portal_session" not in q["sql"]]
    plan = _explain(own[0]["sql"]) if own else None
    return {
        "plan": plan,
        "status": response.status_code,
        "location": response.get("Location", ""),
        "queries": len(statements),
        "queries_warm": warm,
        "unfiltered_counts": [s[:400] for s in statements if is_unfiltered_count(s)],
        # Rows a changelist lists (its checkboxes): a page with fewer rows is less work.
        "rows_listed": response.content.count(b'name="_selected_action"') if not getattr(response, "streaming", False) else None,
        "slowest": [{"ms": round(float(q["time"]) * 1000, 2), "sql": q["sql"][:1500]} for q in slowest],
    }


def _explain(sql: str) -> list[str] | None:
    """The executed plan of a read statement (the SQL as Django logged it, parameters inlined)."""
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return [row[0] for row in cursor.fetchall()][:80]
    except Exception as exc:  # noqa: BLE001 - a plan is a bonus, never a failure
        return [f"no plan: {type(exc).__name__}"]


def prepare() -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client

    from applications.models import Application
    from bench.generate import ADMIN_USERNAME, hot_users

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    User = get_user_model()
    hot = list(User.objects.filter(pk__in=hot_users(limit=3)))
    typical_ids = list(
        Application.objects.filter(status="approved", kind="initial", applicant__is_staff=False)
        .order_by("applicant_id").values_list("applicant_id", flat=True).distinct()[:300]
    )
    one_case = [
        uid for uid in typical_ids
        if Application.objects.filter(applicant_id=uid).count() == 1
    ][:21]
    # The upload account gets drafts; it must not be one of the dashboard's one-case accounts.
    # On a reused database it is the account that already holds the drafts.
    upload_owner = (
        Application.objects.filter(status="draft", applicant__is_staff=False).values("applicant_id")
        .annotate(n=Count("id")).filter(n__gte=UPLOAD_OWNER_DRAFTS).order_by("applicant_id").values_list("applicant_id", flat=True).first()
    ) or (one_case.pop() if one_case else None)
    typical = list(User.objects.filter(pk__in=one_case[:20]))
    upload_user = User.objects.filter(pk=upload_owner).first()
    admin = User.objects.get(username=ADMIN_USERNAME)
    sessions = {
        "hot": [session_for(u) for u in hot],
        "typical": [session_for(u) for u in typical],
        "admin": [session_for(admin)],
    }
    cookie = settings.SESSION_COOKIE_NAME
    targets: dict[str, dict] = {}

    def add(name: str, label: str, paths: list[str] | None, who: str | None, reason: str = "", **extra) -> None:
        if who and not sessions.get(who):
            paths, reason = None, f"no {who} account in this database"
        if not paths:
            targets[name] = {"label": label, "unavailable": reason or "route not found"}
            return
        targets[name] = {"label": label, "paths": paths, "who": who, **extra}

    add("bare", "bare Django view (baseline)", [_reverse("bench_bare")], None)
    add("catalog", "catalog: choose a region", [_reverse("catalog:regions")], None)
    region_code = settings_region = None
    from catalog.models import Region

    region = Region.objects.order_by("order", "code").first()
    if region is not None:
        settings_region = region
        region_code = region.code
        add("catalog_region", "catalog: one region's diseases", [_reverse("catalog:region", region_code)], None)
    add("track", "public lookup /track/ (form)", [_reverse("track")], None)

    # The lookup itself (POST with acceptance number and ID number); CSRF as a browser sends it.
    track_pairs = []
    for number, id_number in (
        Application.objects.filter(status="approved").exclude(acceptance_number=None)
        .order_by("pk").values_list("acceptance_number", "patient__id_number")[:50]
    ):
        track_pairs.append({"acceptance_number": number, "id_number": id_number})
    if _reverse("track") and track_pairs:
        add("track_lookup", "public lookup /track/ (POST a number)", [_reverse("track")], None, method="POST", form=track_pairs)

    add("signed_in_minimum", "signed-in minimum: session and user, no template (one-case accounts)",
        [_reverse("bench_signed_in_minimum")], "typical")
    add("signed_in_floor", "signed-in floor: empty page in the site shell (one-case accounts)",
        [_reverse("bench_signed_in_floor")], "typical")
    add("dashboard_hot", "citizen dashboard 我的申请 (account with 200 cases)", [_reverse("applications:list")], "hot")
    add("dashboard_typical", "citizen dashboard 我的申请 (one-case account)", [_reverse("applications:list")], "typical")
    # The same pages, each request with a query string of its own, so none is served from the
    # process's memo of rendered pages (portal/page_memo.py): what a first visit, or the first
    # after the case moved on, costs. bench.run.build_requests writes the query strings.
    add("dashboard_typical_fresh", "citizen dashboard 我的申请 (one-case account), every page rendered afresh",
        [_reverse("applications:list")], "typical", fresh=True)
    detail_paths = []
    if hot and _reverse("applications:detail", 1):
        for user in hot:
            for pk in Application.objects.filter(applicant=user).exclude(status="draft").order_by("-pk").values_list("pk", flat=True)[:20]:
                detail_paths.append((_reverse("applications:detail", pk), hot.index(user)))
    add("detail", "application detail (hot accounts' cases)", [p for p, _ in detail_paths] or None, "hot",
        session_index=[i for _, i in detail_paths])
    add("detail_fresh", "application detail (hot accounts' cases), every page rendered afresh",
        [p for p, _ in detail_paths] or None, "hot", session_index=[i for _, i in detail_paths], fresh=True)

    # Other citizen list pages, for the account with the most cases (and so the most messages).
    add("inbox", "message centre 消息中心 (hot accounts)", [_reverse("notifications:inbox")], "hot")
    add("certifications", "my certifications 我的资格 (hot accounts)", [_reverse("certifications:index")], "hot")

    changelist = _reverse("admin:applications_application_changelist")
    add("admin_queue", "admin review queue, page 1", [changelist] if changelist else None, "admin")
    if changelist and settings_region is not None:
        add("admin_filtered", "admin review queue, filtered (in review, one region)",
            [f"{changelist}?status__exact=in_review&region={settings_region.pk}"], "admin")
        # A full first page at both scales (the in-review filter leaves ~30 rows at 10k), so the
        # 1M / 10k comparison renders the same number of rows.
        add("admin_region", "admin review queue, filtered (one region, all statuses)",
            [f"{changelist}?region={settings_region.pk}"], "admin")
        # The in-review filter over every region: a full first page at both scales (one region
        # holds ~26 in-review cases at 10k), the reviewers' own status compared like for like.
        add("admin_in_review", "admin review queue, filtered (in review, all regions)",
            [f"{changelist}?status__exact=in_review"], "admin")
        # A status filter that also fills the first page at both scales: decided cases.
        add("admin_decided", "admin review queue, filtered (approved, one region)",
            [f"{changelist}?status__exact=approved&region={settings_region.pk}"], "admin")
    else:
        add("admin_filtered", "admin review queue, filtered", None, None)

    # Uploads: drafts of one account, each with a disease whose first material is the slot.
    upload = _prepare_uploads(upload_user)
    if upload:
        sessions["upload"] = [session_for(upload["user"])]
        add("upload", "upload one JPEG to a draft (XHR)", upload["paths"], "upload", method="UPLOAD", slots=upload["slots"])
        add("bare_upload", "bare upload view (baseline for upload)", [_reverse("bench_bare_upload")], "upload", method="UPLOAD",
            slots=upload["slots"][:1])
    else:
        add("upload", "upload one JPEG to a draft", None, None, reason="no route or no disease with a material slot")

    # --- the SQL probe ----------------------------------------------------------------------
    for name, target in targets.items():
        if "paths" not in target:
            continue
        client = Client()
        if target["who"]:
            client.cookies[cookie] = sessions[target["who"]][0]
        if target.get("method") == "UPLOAD":
            target["probe"] = {"status": "not probed (writes)"}
            continue
        if target.get("method") == "POST":
            client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
            target["probe"] = _capture(client, "POST", target["paths"][0], data={**target["form"][0], "csrfmiddlewaretoken": CSRF_SECRET})
        else:
            target["probe"] = _capture(client, "GET", target["paths"][0])
        status = target["probe"].get("status")
        if status is None or status == 404 or status >= 500 or (300 <= status < 400 and "login" in target["probe"].get("location", "")):
            target["unavailable"] = (
                f"status {status} {target['probe'].get('error', '') or target['probe'].get('location', '')}".strip()
            )
    page_size = {}
    if "probe" in targets.get("admin_queue", {}):
        page_size = _admin_page_size_probe(sessions["admin"][0], changelist, cookie)
    dashboard = {}
    if "probe" in targets.get("dashboard_hot", {}) and "probe" in targets.get("dashboard_typical", {}):
        dashboard = {
            "hot_queries": targets["dashboard_hot"]["probe"].get("queries"),
            "typical_queries": targets["dashboard_typical"]["probe"].get("queries"),
        }
    return {
        "sessions": sessions,
        "session_cookie": cookie,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "csrf_secret": CSRF_SECRET,
        "targets": targets,
        "admin_page_size": page_size,
        "dashboard_rows": dashboard,
        "rows": _row_counts(),
    }


def _admin_page_size_probe(session_key: str, path: str, cookie: str) -> dict:
    """Query counts of the queue with 20 and 100 rows per page (list_per_page set for the probe)."""
    from django.contrib import admin
    from django.test import Client

    from applications.models import Application

    model_admin = admin.site._registry.get(Application)
    if model_admin is None:
        return {}
    original = model_admin.list_per_page
    result = {}
    try:
        for size in (20, 100):
            model_admin.list_per_page = size
            client = Client()
            client.cookies[cookie] = session_key
            probe = _capture(client, "GET", path)
            result[str(size)] = {"status": probe.get("status"), "queries": probe.get("queries")}
    finally:
        model_admin.list_per_page = original
    return result


def _prepare_uploads(user) -> dict | None:
    """Drafts for the upload target: each draft takes at most UPLOAD_MAX_FILES files, so the load
    rotates over many (draft, slot) pairs instead of filling one draft and getting refusals."""
    from applications.models import Application, UploadedMaterial
    from catalog.models import RequiredMaterial

    if user is None or not _reverse("applications:material_upload", 1):
        return None
    base = Application.objects.filter(applicant=user).exclude(disease=None).first()
    if base is None:
        return None
    material = RequiredMaterial.objects.filter(disease_id=base.disease_id).order_by("order").first()
    if material is None:
        material = RequiredMaterial.objects.filter(disease__region_id=base.region_id).order_by("pk").first()
        if material is None:
            return None
    existing = list(Application.objects.filter(applicant=user, status="draft", disease_id=material.disease_id).values_list("pk", flat=True))
    for _ in range(UPLOAD_DRAFTS - len(existing)):
        draft = Application.objects.create(
            applicant=user, patient_id=base.patient_id, region_id=material.disease.region_id, scheme_id=base.scheme_id,
            disease_id=material.disease_id, status="draft", wizard_step=4,
        )
        existing.append(draft.pk)
    # Files a previous run uploaded would fill the drafts' 20-file limit: start each run empty.
    UploadedMaterial.objects.filter(application_id__in=existing).delete()
    return {
        "user": user,
        "paths": [_reverse("applications:material_upload", pk) for pk in existing],
        "slots": [material.code],
    }


def _row_counts() -> dict:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in (
            "applications_application", "applications_applicationevent", "applications_certification",
            "applications_uploadedmaterial", "applications_person", "portal_user", "notifications_notification",
        ):
            try:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
                row = cursor.fetchone()
                counts[table] = int(row[0]) if row else None
            except Exception:
                counts[table] = None
    return counts


def main(argv: list[str] | None = None) -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    result = prepare()
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    for name, target in result["targets"].items():
        state = target.get("unavailable") or f"queries={target.get('probe', {}).get('queries')}"
        print(f"  {name}: {state}", file=sys.stderr)


if __name__ == "__main__":
    main()
