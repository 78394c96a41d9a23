"""Mainland China mobile numbers: one place that parses, normalises and masks them.

Accepted input: ``1[3-9]`` followed by nine digits, optionally prefixed with ``+86``, ``0086``
or ``86``, with spaces, dashes or dots typed between the digits (people copy numbers from
contacts in every format). Stored and compared as the bare 11 digits. The check is deliberately
not per-segment: carriers keep opening new ranges (162, 192, 193 ...) and stale segment lists
are the most common reason a real number is refused (see reference/domain-research.md §6).
"""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-.()\u3000\u2010-\u2015]")
_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1[3-9]\d{9})$")


def phone_normalize(value: str | None) -> str | None:
    """The 11-digit form of a mainland mobile number, or None when it is not one."""
    if not value:
        return None
    # Full-width digits and plus come from Chinese input methods.
    compact = _SEPARATORS.sub("", str(value)).translate(_FULL_WIDTH)
    match = _MOBILE.match(compact)
    return match.group(1) if match else None


def phone_mask(value: str | None) -> str:
    """``138****8000``: enough for the owner to recognise, not enough to call."""
    number = phone_normalize(value) or (value or "")
    if len(number) != 11:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"


_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "\uff0b": "+"})
