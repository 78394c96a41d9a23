"""Which gateway sends, built from settings (``SMS_GATEWAY``, ``SMS_FAILOVER_GATEWAY``)."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from notifications.gateways.base import SmsGateway

ALIASES = {
    "dev": "notifications.gateways.dev.DevGateway",
    "aliyun": "notifications.gateways.aliyun.AliyunGateway",
    "tencent": "notifications.gateways.tencent.TencentGateway",
}


def gateway_class_path(name: str) -> str:
    return ALIASES.get(name.strip(), name.strip())


def gateway_build(name: str) -> SmsGateway:
    return import_string(gateway_class_path(name))()


def sms_gateway() -> SmsGateway:
    """The configured gateway, wrapped with the failover one when that is set."""
    primary = gateway_build(settings.SMS_GATEWAY or "dev")
    if settings.SMS_FAILOVER_GATEWAY:
        from notifications.gateways.failover import FailoverGateway

        return FailoverGateway(primary, gateway_build(settings.SMS_FAILOVER_GATEWAY))
    return primary


def dev_gateway_configured() -> bool:
    """True when nothing leaves the machine: the dev gateway alone (for /dev/outbox/)."""
    return gateway_class_path(settings.SMS_GATEWAY or "dev") == ALIASES["dev"] and not settings.SMS_FAILOVER_GATEWAY


def template_codes(raw: str, *, provider: str) -> dict[str, str]:
    """Parse ``key:CODE,key:CODE`` (the provider template approved for each of our template keys)."""
    codes: dict[str, str] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        key, sep, code = item.partition(":")
        if not sep or not key.strip() or not code.strip():
            raise ImproperlyConfigured(f"{provider} SMS templates: expected key:code, got {item!r}")
        codes[key.strip()] = code.strip()
    return codes
