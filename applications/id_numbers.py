"""Resident ID numbers (GB 11643-1999) and masking of personal data for display."""
from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Province prefixes in GB/T 2260. The 6-digit address code is deliberately not checked: old
# codes stay valid on issued cards.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def id_number_problem(value: str, *, today: dt.date | None = None) -> str | None:
    """Return a machine code for what is wrong with an ID number, or None when it is valid."""
    number = normalize_id_number(value)
    if len(number) != 18:
        return "length"
    if not _SHAPE.match(number):
        return "characters"
    if number[:2] not in _PROVINCES:
        return "province"
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "birth_date"
    today = today or dt.date.today()
    if birth > today or birth.year < 1880:
        return "birth_date"
    if id_check_char(number[:17]) != number[17]:
        return "checksum"
    return None


def is_valid_id_number(value: str) -> bool:
    return id_number_problem(value) is None


def mask_id_number(value: str) -> str:
    """``430502********123X`` style: region prefix and last four visible, birth date hidden."""
    number = normalize_id_number(value)
    if len(number) < 10:
        return "*" * len(number)
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def mask_name(value: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧***."""
    value = (value or "").strip()
    if len(value) <= 1:
        return value
    return value[0] + "*" * (len(value) - 1)
