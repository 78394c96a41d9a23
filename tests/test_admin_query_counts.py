"""Every admin changelist costs the same number of queries whatever the number of rows.

One "world" holds rows of every model registered on the admin site; each changelist is read by
a superuser (and, where the admin scopes its queryset, by a supervisor of one region) with one
unit of rows, then again after two more units have been added. The query counts must be equal
and the second list must really show more rows. The tests are parametrized over the admin
registry, so a newly registered admin is covered automatically: it fails here, saying so, until
``world_add`` puts rows of its model in the world.

The world is built and measured once per module (inside a transaction that is rolled back), not
once per admin: the parametrized tests only read the measurements.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviews.roles import StaffRole
from reviews.security import SESSION_MFA_VERIFIED
from tests.applications.factories import CriterionFactory, RequiredMaterialFactory
from tests.certifications.factories import (
    CertificationEventFactory,
    CertificationFactory,
    HospitalChangeFactory,
    RemoteCareRegistrationFactory,
)
from tests.factories import (
    CalendarDayFactory,
    CategoryFactory,
    DiseaseFactory,
    InstitutionFactory,
    PersonFactory,
    PolicyFactory,
    RegionFactory,
    SchemeFactory,
    UserFactory,
)
from tests.notifications.factories import DevSmsFactory, NotificationFactory
from tests.portal.factories import EmailAddressFactory, HouseholdMemberFactory, IdentityFactory
from tests.query_counts import assert_same_query_count
from tests.reviews.factories import OrganisationFactory, region, staff_user, submitted_application

# The marker also tells pytest-django to create the test database the module fixture writes to.
pytestmark = pytest.mark.django_db

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
SCOPED = [(model, model_admin) for model, model_admin in REGISTRY
          if type(model_admin).get_queryset is not admin.ModelAdmin.get_queryset]
MORE_UNITS = 2  # the second measurement has three units of rows, the first one


def world_add(*, home, unit: int) -> None:
    """One unit of rows: everything the admin lists, once in ``home`` (the supervisor's region)
    and once in a region of its own, with new schemes, categories and organisations each time."""
    scheme = SchemeFactory(code=f"qc-scheme-{unit}", name=f"测试险种{unit}")
    elsewhere = RegionFactory(code=f"99{unit:04d}", province="测试省", city=f"测试市{unit}")
    OrganisationFactory(regions=[home, elsewhere])
    for place in (home, elsewhere):
        category = CategoryFactory(region=place, code=f"qc-{unit}", name=f"类别{unit}")
        disease = DiseaseFactory(region=place, category=category, schemes=[scheme])
        CriterionFactory(disease=disease)
        RequiredMaterialFactory(disease=disease)
        PolicyFactory(region=place, scheme=scheme, category=category)
        PolicyFactory(region=place, scheme=scheme, disease=disease)
        institution = InstitutionFactory(region=place)
        submitted_application(region_obj=place, disease=disease)
        certification = CertificationFactory(
            application__patient=PersonFactory(region=place), application__region=place, application__disease=disease,
        )
        RemoteCareRegistrationFactory(certification=certification)
        HospitalChangeFactory(certification=certification, to_institution=institution)
        CertificationEventFactory(certification=certification)
    Group.objects.create(name=f"测试组{unit}")
    IdentityFactory(verified=True)
    HouseholdMemberFactory()
    EmailAddressFactory()
    TOTP.activate(UserFactory(), generate_totp_secret())
    CalendarDayFactory()
    NotificationFactory()
    NotificationFactory(sms=True)
    DevSmsFactory()


@dataclass(frozen=True)
class Measurement:
    queries: tuple[str, ...]
    listed: int  # rows on the page
    total: int  # the changelist's result_count

    def __repr__(self) -> str:  # keeps pytest's report readable
        return f"<{len(self.queries)} queries, {self.listed} rows listed>"


def _client_for(user) -> Client:
    """A signed-in staff client whose session passed the second factor (reviews.security)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_MFA_VERIFIED] = True
    session.save()
    return client


def _changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _measure(client, model) -> Measurement:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(_changelist_url(model))
    assert response.status_code == 200, f"{model._meta.label} changelist answered {response.status_code}"
    changelist = response.context["cl"]
    return Measurement(
        queries=tuple(q["sql"] for q in ctx.captured_queries),
        listed=len(changelist.result_list),
        total=changelist.result_count,
    )


@pytest.fixture(scope="module")
def measurements(django_db_setup, django_db_blocker):
    """{(who, model label): (with one unit, with three units)} for every registered admin."""
    with django_db_blocker.unblock(), transaction.atomic():
        home = region("430500")
        superuser = staff_user(superuser=True, roles=())
        supervisor = staff_user(organisation=OrganisationFactory(regions=[home]), roles=(StaffRole.SUPERVISOR,))
        # No role carries every scoped admin's view permission (e.g. hospital changes); this test
        # is about what the list costs, so the supervisor gets them all.
        for model, _admin in SCOPED:
            supervisor.user_permissions.add(
                Permission.objects.get(content_type__app_label=model._meta.app_label,
                                       codename=f"view_{model._meta.model_name}")
            )
        readers = {"superuser": (_client_for(superuser), REGISTRY), "supervisor": (_client_for(supervisor), SCOPED)}
        world_add(home=home, unit=0)
        for client, admins in readers.values():
            for model, _admin in admins:
                _measure(client, model)  # warm-up: content types, permissions, template caches
        results = {}
        for who, (client, admins) in readers.items():
            for model, _admin in admins:
                results[who, model._meta.label] = [_measure(client, model)]
        for unit in range(1, 1 + MORE_UNITS):
            world_add(home=home, unit=unit)
        for who, (client, admins) in readers.items():
            for model, _admin in admins:
                results[who, model._meta.label].append(_measure(client, model))
        transaction.set_rollback(True)
    return results


def _check(measurements, who: str, model) -> None:
    few, many = measurements[who, model._meta.label]
    label = f"{model._meta.label} changelist ({who})"
    assert few.listed > 0, f"{label} lists no rows: add {model.__name__} rows to world_add() in {__name__}"
    assert many.listed > few.listed and many.total > few.total, (
        f"{label} listed {few.listed} rows, then {many.listed} after more were added: world_add() must add "
        f"{model.__name__} rows this reader sees"
    )
    assert_same_query_count(list(few.queries), list(many.queries), page=label, rows=(few.listed, many.listed))


@pytest.mark.parametrize("model", [model for model, _admin in REGISTRY], ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(measurements, model):
    _check(measurements, "superuser", model)


@pytest.mark.parametrize("model", [model for model, _admin in SCOPED], ids=lambda m: m._meta.label)
def test_scoped_changelist_query_count_does_not_grow_with_rows(measurements, model):
    _check(measurements, "supervisor", model)


def test_every_scoped_admin_is_measured_for_a_scoped_reader():
    """Guards the SCOPED list itself: the admins known to filter by the staff member's regions."""
    labels = {model._meta.label for model, _admin in SCOPED}
    assert {"applications.Application", "applications.Certification", "reviews.ReviewingOrganisation",
            "certifications.RemoteCareRegistration", "certifications.HospitalChange",
            "certifications.CertificationEvent"} <= labels
