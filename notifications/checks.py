"""System checks: a provider gateway without an approved template for some event must not look
healthy (those SMS would all end dead). The dev gateway in production is left to the production
settings: `check --deploy` must stay clean for a staging stack without provider keys."""
from django.conf import settings
from django.core.checks import Warning, register

from notifications.gateways.config import ALIASES, gateway_class_path, template_codes
from notifications.templates_text import TEMPLATES


@register()
def sms_gateway_check(app_configs=None, **kwargs):
    problems = []
    names = [n for n in (settings.SMS_GATEWAY or "dev", settings.SMS_FAILOVER_GATEWAY) if n]
    for name in names:
        path = gateway_class_path(name)
        config = {ALIASES["aliyun"]: ("ALIYUN_SMS", "Aliyun"), ALIASES["tencent"]: ("TENCENT_SMS", "Tencent")}.get(path)
        if config is None:
            continue
        setting, provider = config
        try:
            codes = template_codes(getattr(settings, setting)["TEMPLATES"], provider=provider)
        except Exception as exc:  # noqa: BLE001 - report the parse error as the check's message
            codes, missing = {}, [str(exc)]
        else:
            missing = sorted(set(TEMPLATES) - set(codes))
        if missing:
            problems.append(
                Warning(
                    f"{provider} SMS has no approved template for: {', '.join(missing)}; those SMS will be dead.",
                    hint=f"Add key:code pairs to {setting}_TEMPLATES.",
                    id="notifications.W002",
                )
            )
    return problems
