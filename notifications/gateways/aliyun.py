"""Aliyun SMS (dysmsapi 2017-05-25) through the official SDK.

Template parameters are a named JSON object (``{"number": "..."}``, placeholders ``${number}``).
Our reference travels as ``OutId`` and ``QuerySendDetails`` lists it back, so a send whose outcome
we lost can be checked before sending again. The SDK's own retries stay off: SendSms is not
idempotent, and retrying is the outbox's decision, made with a lookup first.
"""
from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from notifications.gateways.base import NOT_CONNECTED_MARKERS, GatewayError, Lookup, LookupResult, SendResult, SmsGateway
from notifications.gateways.config import template_codes
from notifications.templates_text import template_params

# Throttling by Aliyun (see domain-research §8.1): wait, do not spend an attempt.
THROTTLE_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User", "Throttling"}
# The provider says the request itself is wrong or the account cannot send: retrying cannot help.
PERMANENT_PREFIXES = ("isv.",)


class AliyunGateway(SmsGateway):
    name = "aliyun"

    def __init__(self, config: dict | None = None):
        self.config = config or settings.ALIYUN_SMS
        self.templates = template_codes(self.config["TEMPLATES"], provider="Aliyun")
        if not (self.config["ACCESS_KEY_ID"] and self.config["ACCESS_KEY_SECRET"] and self.config["SIGN_NAME"]):
            raise ImproperlyConfigured("ALIYUN_SMS_ACCESS_KEY_ID, _ACCESS_KEY_SECRET and _SIGN_NAME are required")

    def _client(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        timeout_ms = int(self.config["TIMEOUT_SECONDS"] * 1000)
        return Client(
            Config(
                access_key_id=self.config["ACCESS_KEY_ID"],
                access_key_secret=self.config["ACCESS_KEY_SECRET"],
                endpoint=self.config["ENDPOINT"],
                protocol=self.config["PROTOCOL"],
                connect_timeout=min(timeout_ms, 3000),
                read_timeout=timeout_ms,
            )
        )

    def _call(self, method: str, request):
        from darabonba.runtime import RuntimeOptions

        runtime = RuntimeOptions(autoretry=False, max_attempts=0)
        try:
            return getattr(self._client(), method)(request, runtime)
        except Exception as exc:  # noqa: BLE001 - the SDK raises many types; classify them once here
            raise _classify(exc) from exc

    def send(self, *, phone: str, template_key: str, params: dict, text: str, reference: str = "") -> SendResult:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        code = self.templates.get(template_key)
        if not code:
            raise GatewayError(f"no Aliyun template configured for {template_key!r}", code="config", retryable=False)
        request = SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.config["SIGN_NAME"],
            template_code=code,
            template_param=json.dumps(template_params(template_key, params), ensure_ascii=False),
            out_id=reference or None,
        )
        body = self._call("send_sms_with_options", request).body
        if body.code != "OK":
            raise _provider_error(body.code or "", body.message or "")
        return SendResult(provider=self.name, message_id=body.biz_id or "")

    def lookup(self, *, phone: str, reference: str, attempted_at: datetime | None) -> LookupResult:
        """Search the number's send records of the attempt's day (and the next: midnight) for OutId.

        Records exist from submission on, so a complete search without a match proves "not sent".
        A query the provider refuses (e.g. no permission) is UNKNOWN: a person must check.
        """
        from alibabacloud_dysmsapi20170525.models import QuerySendDetailsRequest

        start = timezone.localtime(attempted_at or timezone.now()).date()
        days = {start, min(start + timedelta(days=1), timezone.localdate())}
        for day in sorted(days):
            for page in range(1, 21):  # 50 a page; a number gets at most a few dozen a day
                request = QuerySendDetailsRequest(
                    phone_number=phone, send_date=day.strftime("%Y%m%d"), page_size=50, current_page=page
                )
                try:
                    body = self._call("query_send_details_with_options", request).body
                except GatewayError as exc:
                    if exc.retryable:
                        raise  # network or provider fault: the outbox retries the lookup later
                    return LookupResult(Lookup.UNKNOWN, provider=self.name, detail=str(exc))
                if body.code != "OK":
                    return LookupResult(Lookup.UNKNOWN, provider=self.name, detail=f"{body.code}: {body.message}")
                records = (body.sms_send_detail_dtos.sms_send_detail_dto or []) if body.sms_send_detail_dtos else []
                for record in records:
                    if record.out_id == reference:
                        return LookupResult(Lookup.FOUND, provider=self.name, detail=f"SendStatus {record.send_status}")
                if len(records) < 50:
                    break
        return LookupResult(Lookup.NOT_FOUND, provider=self.name)


def _provider_error(code: str, message: str) -> GatewayError:
    text = f"Aliyun {code}: {message}"
    if code in THROTTLE_CODES:
        # "触发分钟级流控" / "小时级" / "天级": wait for the window that was hit.
        if "天级" in message or code == "isv.DAY_LIMIT_CONTROL":
            wait = 24 * 3600
        elif "小时级" in message:
            wait = 3600
        else:
            wait = 60
        return GatewayError(text, code=code, retryable=True, retry_after=wait)
    if code.startswith(PERMANENT_PREFIXES):
        return GatewayError(text, code=code, retryable=False)
    return GatewayError(text, code=code, retryable=True)  # isp.* and anything new: the provider's fault


def _classify(exc: Exception) -> GatewayError:
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

    if isinstance(exc, AlibabaCloudException):
        # The provider answered with an HTTP error: it did not send.
        code = getattr(exc, "code", "") or ""
        return _provider_error(code, getattr(exc, "message", "") or str(exc))
    return _network_error(exc, provider="Aliyun")


def _network_error(exc: Exception, *, provider: str) -> GatewayError:
    """Refused or unresolvable: surely not sent. Anything later (timeout, reset): maybe sent."""
    chain = [exc]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
        if len(chain) > 10:
            break
    text = " / ".join(f"{type(e).__name__}: {e}" for e in chain)
    refused = any(isinstance(e, (ConnectionRefusedError, socket.gaierror)) for e in chain) or any(
        marker in text for marker in NOT_CONNECTED_MARKERS
    )
    return GatewayError(f"{provider} network: {text[:400]}", code="network", retryable=True, uncertain=not refused)
