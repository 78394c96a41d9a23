"""Tencent Cloud SMS (SendSms 2021-01-11) through the official SDK.

Template parameters are an ordered list of strings matching the template's ``{1}``, ``{2}`` ...:
the order of the placeholders in our Chinese text (``templates_text.template_fields``). Our
reference travels as ``SessionContext``, which Tencent echoes in its delivery receipts; those are
what ``PullSmsSendStatusByPhoneNumber`` returns, so "no receipt" proves nothing until receipts have
had time to arrive (``TENCENT_SMS_RECEIPT_WAIT_SECONDS``).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from notifications.gateways.base import NOT_CONNECTED_MARKERS, GatewayError, Lookup, LookupResult, SendResult, SmsGateway
from notifications.gateways.config import template_codes
from notifications.templates_text import template_fields, template_params

# Frequency limits: wait for the window, do not spend an attempt.
THROTTLE_WAIT = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600,
    "LimitExceeded.PhoneNumberDailyLimit": 24 * 3600,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": 24 * 3600,
    "LimitExceeded.DeliveryFrequencyLimit": 60,
    "RequestLimitExceeded": 60,
}
# The request or the account is wrong (signature, template, parameters, balance, auth).
PERMANENT_PREFIXES = (
    "FailedOperation.",
    "InvalidParameter",
    "MissingParameter",
    "UnauthorizedOperation",
    "UnsupportedOperation",
    "AuthFailure",
    "LimitExceeded.AppDailyLimit",
)


class TencentGateway(SmsGateway):
    name = "tencent"

    def __init__(self, config: dict | None = None):
        self.config = config or settings.TENCENT_SMS
        self.templates = template_codes(self.config["TEMPLATES"], provider="Tencent")
        if not all(self.config[k] for k in ("SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME")):
            raise ImproperlyConfigured("TENCENT_SMS_SECRET_ID, _SECRET_KEY, _SDK_APP_ID and _SIGN_NAME are required")

    def _client(self):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        http_profile = HttpProfile(
            protocol=self.config["PROTOCOL"], endpoint=self.config["ENDPOINT"], reqTimeout=self.config["TIMEOUT_SECONDS"]
        )
        # No retryer: SendSms is not idempotent; retrying is the outbox's decision.
        return sms_client.SmsClient(
            credential.Credential(self.config["SECRET_ID"], self.config["SECRET_KEY"]),
            self.config["REGION"],
            ClientProfile(httpProfile=http_profile),
        )

    def _call(self, action: str, payload: dict):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        request = getattr(models, f"{action}Request")()
        request.from_json_string(json.dumps(payload))
        try:
            return getattr(self._client(), action)(request)
        except TencentCloudSDKException as exc:
            raise _classify(exc.code or "", exc.message or "") from exc

    def send(self, *, phone: str, template_key: str, params: dict, text: str, reference: str = "") -> SendResult:
        template_id = self.templates.get(template_key)
        if not template_id:
            raise GatewayError(f"no Tencent template configured for {template_key!r}", code="config", retryable=False)
        values = template_params(template_key, params)
        payload = {
            "PhoneNumberSet": [_e164(phone)],
            "SmsSdkAppId": self.config["SDK_APP_ID"],
            "SignName": self.config["SIGN_NAME"],
            "TemplateId": template_id,
            "TemplateParamSet": [values[name] for name in template_fields(template_key)],
        }
        if reference:
            payload["SessionContext"] = reference
        response = self._call("SendSms", payload)
        statuses = response.SendStatusSet or []
        if not statuses:
            raise GatewayError("Tencent: empty SendStatusSet", code="empty", retryable=True, uncertain=True)
        status = statuses[0]
        if (status.Code or "").lower() != "ok":
            raise _classify(status.Code or "", status.Message or "")
        return SendResult(provider=self.name, message_id=status.SerialNo or "")

    def lookup(self, *, phone: str, reference: str, attempted_at: datetime | None) -> LookupResult:
        attempted_at = attempted_at or timezone.now()
        payload = {
            "BeginTime": int((attempted_at - timedelta(minutes=1)).timestamp()),
            "EndTime": int(timezone.now().timestamp()),
            "Offset": 0,
            "Limit": 100,
            "PhoneNumber": _e164(phone),
            "SmsSdkAppId": self.config["SDK_APP_ID"],
        }
        try:
            response = self._call("PullSmsSendStatusByPhoneNumber", payload)
        except GatewayError as exc:
            if exc.retryable:
                raise  # network or provider fault: the outbox retries the lookup later
            return LookupResult(Lookup.UNKNOWN, provider=self.name, detail=str(exc))
        for report in response.PullSmsSendStatusSet or []:
            if report.SessionContext == reference:
                return LookupResult(
                    Lookup.FOUND, provider=self.name, message_id=report.SerialNo or "", detail=report.ReportStatus or ""
                )
        waited = (timezone.now() - attempted_at).total_seconds()
        if waited >= self.config["RECEIPT_WAIT_SECONDS"]:
            return LookupResult(Lookup.NOT_FOUND, provider=self.name, detail="no receipt after the wait")
        return LookupResult(Lookup.UNKNOWN, provider=self.name, detail="no receipt yet")


def _e164(phone: str) -> str:
    return phone if phone.startswith("+") else f"+86{phone}"


def _classify(code: str, message: str) -> GatewayError:
    text = f"Tencent {code}: {message}"[:500]
    if code == "ClientNetworkError":
        refused = any(marker in message for marker in NOT_CONNECTED_MARKERS)
        return GatewayError(text, code=code, retryable=True, uncertain=not refused)
    if code in THROTTLE_WAIT:
        return GatewayError(text, code=code, retryable=True, retry_after=THROTTLE_WAIT[code])
    if code.startswith(PERMANENT_PREFIXES):
        return GatewayError(text, code=code, retryable=False)
    return GatewayError(text, code=code, retryable=True)  # InternalError.*, ServerNetworkError, new codes
