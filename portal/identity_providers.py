"""The real-name check (人脸识别) behind one small interface, chosen by ``IDENTITY_PROVIDER``.

A production provider (a province's face-verification service, WeChat/Alipay real-person
check, ...) usually works in two steps: send the citizen to the provider's page, then read the
result the provider reports back. ``start`` returns where to send the citizen; ``check`` turns
what came back into a ``VerificationResult``. Providers never write to the database:
``portal.services.identity_verify`` records the outcome.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class VerificationResult:
    passed: bool
    reference: str = ""
    # Shown to the citizen when the check did not pass.
    message: str = ""


class IdentityProvider:
    """Base class. ``code`` is stored on the identity as the method used (``Identity.provider``)."""

    code = ""
    label = _("人脸识别")

    def is_available(self) -> bool:
        return True

    def start(self, *, identity, request) -> str:
        """The URL the citizen goes to for the check (an external page, or one of ours)."""
        raise NotImplementedError

    def check(self, *, identity, data: Mapping[str, str]) -> VerificationResult:
        """Judge what the provider reported (callback parameters or form data)."""
        raise NotImplementedError


class DevelopmentFaceCheck(IdentityProvider):
    """Stands in for the face check during development and in tests.

    It shows a page of ours with a button instead of a camera, and passes unless that page asks
    for a failure (so the failure path can be tried). It is deterministic: no randomness, no
    network. Because it passes anyone, it refuses to work unless ``IDENTITY_DEV_PROVIDER_ALLOWED``
    (on by default only in the embedded default and with DEBUG).
    """

    code = "dev"
    label = _("模拟人脸识别（开发环境）")

    def is_available(self) -> bool:
        return bool(getattr(settings, "IDENTITY_DEV_PROVIDER_ALLOWED", False))

    def start(self, *, identity, request) -> str:
        return reverse("me:identity_face")

    def check(self, *, identity, data: Mapping[str, str]) -> VerificationResult:
        if data.get("outcome") == "fail":
            return VerificationResult(passed=False, message=str(_("人脸比对未通过，请在光线充足处正对镜头重试。")))
        return VerificationResult(passed=True, reference=f"dev-{uuid.uuid4().hex[:16]}")


def identity_provider_get() -> IdentityProvider:
    path = getattr(settings, "IDENTITY_PROVIDER", "portal.identity_providers.DevelopmentFaceCheck")
    try:
        provider_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"IDENTITY_PROVIDER {path!r} cannot be imported") from exc
    if not (isinstance(provider_class, type) and issubclass(provider_class, IdentityProvider)):
        raise ImproperlyConfigured(f"IDENTITY_PROVIDER {path!r} is not an IdentityProvider")
    return provider_class()
