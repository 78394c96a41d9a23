"""Phone numbers as the outbox sees them: normalised for counting, masked for display."""
from __future__ import annotations

import re

_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1[3-9]\d{9}$)")


def phone_normalise(phone: str) -> str:
    """11 digits when the number is a mainland mobile number, else the trimmed input.

    Per-number limits count rows by recipient, so ``+8613800000001`` and ``13800000001`` must be
    the same recipient. Validation belongs to the caller (accounts); this only canonicalises.
    """
    compact = re.sub(r"[\s-]", "", phone or "")
    return _PREFIX.sub("", compact)


def phone_mask(phone: str) -> str:
    """138****0001: enough for staff to tell rows apart, not enough to reveal the number."""
    if len(phone) >= 11 and phone[-11:].isdigit():
        digits = phone[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    if phone.startswith("user:"):
        return phone
    return "****" if len(phone) <= 4 else f"{phone[:2]}****{phone[-2:]}"
