"""Shared factory_boy factories. Area-specific factories live beside their tests
(tests/<app>/factories.py) and build on these; traits name lifecycle states."""
import datetime as dt
import random
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from applications.id_numbers import id_check_char
from applications.models import Person
from catalog.models import (
    CalendarDay,
    Disease,
    DiseaseCategory,
    MedicalInstitution,
    Region,
    ReimbursementPolicy,
    Scheme,
    ServiceSettings,
)

_rng = random.Random(20261122)


def make_id_number(address: str = "430502", birth: str = "19560314", sequence: int | None = None) -> str:
    """A valid resident ID number (GB 11643-1999) with a correct MOD 11-2 check character."""
    sequence = _rng.randint(0, 999) if sequence is None else sequence
    first17 = f"{address}{birth}{sequence:03d}"
    return first17 + id_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    phone_verified = True
    password = factory.django.Password("pw-for-tests-1")

    class Params:
        staff = factory.Trait(is_staff=True, phone=None)


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme
        django_get_or_create = ("code",)

    code = "employee_active"
    name = "职工医保（在职）"
    fund = "职工医保"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = "430500"
    province = "湖南省"
    city = "邵阳市"
    source = "tests"

    settings = factory.RelatedFactory(
        "tests.factories.ServiceSettingsFactory", factory_related_name="region"
    )


class ServiceSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceSettings
        django_get_or_create = ("region",)

    review_deadline_days = 5


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiseaseCategory
        django_get_or_create = ("region", "code")

    region = factory.SubFactory(RegionFactory)
    code = "chronic"
    name = "门诊慢性病"


class DiseaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disease
        skip_postgeneration_save = True

    region = factory.SubFactory(RegionFactory)
    category = factory.LazyAttribute(lambda o: CategoryFactory(region=o.region))
    code = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"测试病种{n}")
    entry_standard = "二级及以上医疗机构诊断证明"

    @factory.post_generation
    def schemes(self, create, extracted, **kwargs):
        if create:
            self.schemes.set(extracted or [SchemeFactory()])


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalInstitution

    region = factory.SubFactory(RegionFactory)
    name = factory.Sequence(lambda n: f"测试市第{n}人民医院")
    level = 3
    grade = "甲"
    designated = True


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    full_name = factory.Sequence(lambda n: f"张{'三四五六七八'[n % 6]}{n}")
    id_number = factory.Sequence(lambda n: make_id_number(sequence=n % 1000, birth=f"19{40 + n // 1000 % 50:02d}0101"))
    region = factory.SubFactory(RegionFactory)
    scheme = factory.SubFactory(SchemeFactory)


class PolicyFactory(factory.django.DjangoModelFactory):
    """A region-wide policy unless ``disease`` or ``category`` is given (never both)."""

    class Meta:
        model = ReimbursementPolicy

    region = factory.SubFactory(RegionFactory)
    scheme = factory.SubFactory(SchemeFactory)
    ratio = Decimal("0.700")
    deductible = Decimal("300.00")


class CalendarDayFactory(factory.django.DjangoModelFactory):
    """A staff-entered holiday, far in the future by default (no test's working days move)."""

    class Meta:
        model = CalendarDay

    date = factory.Sequence(lambda n: dt.date(2099, 1, 1) + dt.timedelta(days=n))
    is_workday = False
    name = "测试假日"
