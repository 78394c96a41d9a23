"""The citizen's case list as it is, against the proposed UNION form, in-process.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_1m \\
        .venv/bin/python -m bench.citizen_whatif

``applications.selectors.application_list_for_citizen`` ORs "filed by the account" with "filed for
a person the account may act for" and ``portal.selectors.person_list_for_account`` ORs across two
joined tables; PostgreSQL cannot drive either OR from an index, so it hashes whole tables. The
proposal asks the same question as two UNIONs of index lookups. This prints both timings (median
of ``--repeat``) for the account with the most cases and for a one-case account, and checks that
both forms return the same rows in the same order.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time


def proposed_person_list_for_account(*, user):
    from applications.models import Person
    from portal.models import HouseholdMember, Identity

    own = Identity.objects.filter(user=user, verified_at__isnull=False).values("person_id")
    household = HouseholdMember.objects.filter(account=user).values("person_id")
    return Person.objects.filter(pk__in=own.union(household))


def proposed_application_list_for_citizen(*, user):
    from applications.models import Application, ApplicationStatus

    persons = proposed_person_list_for_account(user=user).values("pk")
    own = Application.objects.filter(applicant=user).values("pk")
    theirs = Application.objects.filter(patient__in=persons).exclude(status=ApplicationStatus.DRAFT).values("pk")
    return (
        Application.objects.filter(pk__in=own.union(theirs))
        .select_related("patient", "region", "disease", "scheme")
        .order_by("-created_at", "-pk")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from applications import selectors
    from applications.models import Application
    from bench.generate import hot_users

    User = get_user_model()
    hot = User.objects.get(pk=hot_users(limit=1)[0])
    one = (
        Application.objects.filter(applicant__is_staff=False).values("applicant_id").annotate(n=Count("id"))
        .filter(n=1).order_by("applicant_id").values_list("applicant_id", flat=True).first()
    )
    for label, user in (("hot account", hot), ("one-case account", User.objects.get(pk=one))):
        results = {}
        for name, build in (
            ("current", lambda: selectors.application_list_for_citizen(user=user)),
            ("proposed", lambda: proposed_application_list_for_citizen(user=user)),
        ):
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                rows = [a.pk for a in build()]
                times.append((time.perf_counter() - began) * 1000)
            results[name] = rows
            print(f"{label}: {name:8} {len(rows)} rows, median {statistics.median(times):.1f} ms")
        print(f"{label}: same rows in the same order: {results['current'] == results['proposed']}")


if __name__ == "__main__":
    main()
