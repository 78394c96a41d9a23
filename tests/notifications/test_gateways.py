"""Aliyun and Tencent gateways through their official SDKs against fake endpoints on 127.0.0.1
(plain http). Checks the request each provider gets and how its answers are classified."""
import json
import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.gateways.aliyun import AliyunGateway
from notifications.gateways.base import GatewayError, Lookup
from notifications.gateways.config import dev_gateway_configured, sms_gateway
from notifications.gateways.failover import FailoverGateway
from notifications.gateways.tencent import TencentGateway
from notifications.models import Channel, Notification, NotificationStatus
from notifications.sending import notification_deliver
from notifications.services import notification_create
from notifications.templates_text import TEMPLATES
from tests.notifications.fake_provider import FakeServer

NUMBER = "430500-20261122-000017"


def aliyun_config(port, **extra):
    return {
        "ACCESS_KEY_ID": "test-ak",
        "ACCESS_KEY_SECRET": "test-secret",
        "SIGN_NAME": "门特服务",
        "TEMPLATES": "application_submitted:SMS_100001,certification_expiring:SMS_100002",
        "ENDPOINT": f"127.0.0.1:{port}",
        "PROTOCOL": "http",
        "TIMEOUT_SECONDS": 3,
        **extra,
    }


def tencent_config(port, **extra):
    return {
        "SECRET_ID": "test-id",
        "SECRET_KEY": "test-key",
        "SDK_APP_ID": "1400006666",
        "SIGN_NAME": "门特服务",
        "TEMPLATES": "application_submitted:2000001,certification_expiring:2000002",
        "REGION": "ap-guangzhou",
        "ENDPOINT": f"127.0.0.1:{port}",
        "PROTOCOL": "http",
        "TIMEOUT_SECONDS": 3,
        "RECEIPT_WAIT_SECONDS": 600,
        **extra,
    }


def aliyun_ok(request):
    return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "req-1"}


def tencent_status(code="Ok", message="send success"):
    def respond(request):
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": "5000:1045710669157053657849499619",
                        "PhoneNumber": "+8613800000001",
                        "Fee": 1,
                        "SessionContext": "",
                        "Code": code,
                        "Message": message,
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
            }
        }

    return respond


def tencent_error(code, message="error"):
    return lambda request: (200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r"}})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Aliyun ---------------------------------------------------------------------------------


def test_aliyun_sends_named_json_params_with_our_reference_as_out_id():
    with FakeServer(aliyun_ok) as server:
        result = AliyunGateway(aliyun_config(server.port)).send(
            phone="13800000001",
            template_key="certification_expiring",
            params={"number": NUMBER, "end_date": "2026-12-31", "unused": "dropped"},
            text="…",
            reference="3f0c0f0e-ref",
        )
    assert result.provider == "aliyun" and result.message_id == "900619746936498440^0"
    (request,) = server.requests
    sent = request["query"]
    assert request["method"] == "POST" and request["headers"]["x-acs-action"] == "SendSms"
    assert sent["PhoneNumbers"] == "13800000001"
    assert sent["SignName"] == "门特服务" and sent["TemplateCode"] == "SMS_100002"
    assert json.loads(sent["TemplateParam"]) == {"number": NUMBER, "end_date": "2026-12-31"}
    assert sent["OutId"] == "3f0c0f0e-ref"
    assert "test-ak" in request["headers"].get("authorization", "") + sent.get("AccessKeyId", "")


@pytest.mark.parametrize(
    ("message", "wait"), [("触发分钟级流控Permits:1", 60), ("触发小时级流控Permits:5", 3600), ("触发天级流控Permits:10", 86400)]
)
def test_aliyun_business_limit_control_waits_for_its_window(message, wait):
    respond = lambda r: (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": message, "RequestId": "x"})  # noqa: E731
    with FakeServer(respond) as server, pytest.raises(GatewayError) as caught:
        AliyunGateway(aliyun_config(server.port)).send(
            phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
        )
    assert caught.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    assert caught.value.retry_after == wait and not caught.value.uncertain


def test_aliyun_isv_errors_are_permanent_and_isp_errors_retryable():
    codes = iter(["isv.MOBILE_NUMBER_ILLEGAL", "isp.SYSTEM_ERROR"])
    respond = lambda r: (200, {"Code": next(codes), "Message": "m", "RequestId": "x"})  # noqa: E731
    gateway_errors = []
    with FakeServer(respond) as server:
        for _ in range(2):
            with pytest.raises(GatewayError) as caught:
                AliyunGateway(aliyun_config(server.port)).send(
                    phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
                )
            gateway_errors.append(caught.value)
    assert [e.retryable for e in gateway_errors] == [False, True]
    assert not any(e.uncertain for e in gateway_errors)


def test_aliyun_http_error_is_a_definite_failure_and_the_sdk_does_not_retry():
    respond = lambda r: (500, {"Code": "ServiceUnavailable", "Message": "busy", "RequestId": "x"})  # noqa: E731
    with FakeServer(respond) as server, pytest.raises(GatewayError) as caught:
        AliyunGateway(aliyun_config(server.port)).send(
            phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
        )
    assert caught.value.retryable and not caught.value.uncertain
    assert len(server.requests) == 1  # no hidden SDK retry: SendSms is not idempotent


def test_aliyun_refused_connection_is_safe_and_a_read_timeout_is_uncertain():
    gateway = AliyunGateway(aliyun_config(closed_port()))
    with pytest.raises(GatewayError) as refused:
        gateway.send(phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text="")
    assert refused.value.retryable and not refused.value.uncertain

    def slow(request):
        time.sleep(2.5)
        return aliyun_ok(request)

    with FakeServer(slow) as server, pytest.raises(GatewayError) as timed_out:
        AliyunGateway(aliyun_config(server.port, TIMEOUT_SECONDS=1)).send(
            phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
        )
    assert timed_out.value.uncertain  # the provider may have sent it: look up before resending


def test_aliyun_template_not_configured_is_permanent():
    with pytest.raises(GatewayError) as caught:
        AliyunGateway(aliyun_config(1)).send(phone="13800000001", template_key="login_code", params={"code": "1"}, text="")
    assert not caught.value.retryable


def test_aliyun_lookup_finds_our_out_id_in_the_send_details():
    def respond(request):
        assert request["headers"]["x-acs-action"] == "QuerySendDetails"
        records = [{"OutId": "other", "SendStatus": 3, "PhoneNum": "13800000001"}]
        if request["query"]["SendDate"] == timezone.localdate().strftime("%Y%m%d"):
            records.append({"OutId": "ours", "SendStatus": 1, "PhoneNum": "13800000001"})
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "TotalCount": len(records),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": records},
            "RequestId": "x",
        }

    with FakeServer(respond) as server:
        gateway = AliyunGateway(aliyun_config(server.port))
        found = gateway.lookup(phone="13800000001", reference="ours", attempted_at=timezone.now())
        missing = gateway.lookup(phone="13800000001", reference="never", attempted_at=timezone.now())
    assert found.outcome is Lookup.FOUND
    assert missing.outcome is Lookup.NOT_FOUND
    query = server.requests[0]["query"]
    assert query["PhoneNumber"] == "13800000001" and query["PageSize"] == "50"


def test_aliyun_lookup_never_says_not_found_when_it_could_not_look():
    # Unreachable: raised, so the outbox asks again later.
    with pytest.raises(GatewayError) as caught:
        AliyunGateway(aliyun_config(closed_port())).lookup(phone="13800000001", reference="x", attempted_at=None)
    assert caught.value.retryable
    # Refused (e.g. the key may not query): a person has to check.
    refused = lambda r: (200, {"Code": "isv.PERMISSION_DENIED", "Message": "no"})  # noqa: E731
    with FakeServer(refused) as server:
        answer = AliyunGateway(aliyun_config(server.port)).lookup(phone="13800000001", reference="x", attempted_at=None)
    assert answer.outcome is Lookup.UNKNOWN


@pytest.mark.django_db
def test_outbox_delivers_through_aliyun_when_configured(settings):
    with FakeServer(aliyun_ok) as server:
        settings.SMS_GATEWAY = "aliyun"
        settings.ALIYUN_SMS = aliyun_config(server.port)
        (sms,) = notification_create(
            event_key="a:1", template_key="application_submitted", params={"number": NUMBER},
            phone="13800000001", channels=(Channel.SMS,),
        )
        assert notification_deliver(notification_id=sms.pk) == "sent"
    sms.refresh_from_db()
    assert sms.provider == "aliyun" and sms.provider_message_id == "900619746936498440^0"
    assert server.requests[0]["query"]["OutId"] == str(sms.reference)


@pytest.mark.django_db
def test_outbox_throttled_by_aliyun_waits_a_day_without_spending_an_attempt(settings):
    respond = lambda r: (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10"})  # noqa: E731
    with FakeServer(respond) as server:
        settings.SMS_GATEWAY = "aliyun"
        settings.ALIYUN_SMS = aliyun_config(server.port)
        (sms,) = notification_create(
            event_key="a:2", template_key="application_submitted", params={"number": NUMBER},
            phone="13800000001", channels=(Channel.SMS,),
        )
        assert notification_deliver(notification_id=sms.pk) == "throttled"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and sms.attempts == 0
    assert sms.not_before - timezone.now() > timedelta(hours=23)


# --- Tencent --------------------------------------------------------------------------------


def test_tencent_sends_an_ordered_param_list_with_our_reference_as_session_context():
    with FakeServer(tencent_status()) as server:
        result = TencentGateway(tencent_config(server.port)).send(
            phone="13800000001",
            template_key="certification_expiring",
            params={"end_date": "2026-12-31", "number": NUMBER},
            text="…",
            reference="ref-1",
        )
    assert result.provider == "tencent" and result.message_id.startswith("5000:")
    (request,) = server.requests
    body = json.loads(request["raw"])
    assert request["headers"]["x-tc-action"] == "SendSms" and request["headers"]["x-tc-version"] == "2021-01-11"
    assert body["PhoneNumberSet"] == ["+8613800000001"]
    assert body["SmsSdkAppId"] == "1400006666" and body["SignName"] == "门特服务"
    assert body["TemplateId"] == "2000002"
    # Order of the placeholders in the Chinese text: 受理编号 first, then the end date.
    assert body["TemplateParamSet"] == [NUMBER, "2026-12-31"]
    assert body["SessionContext"] == "ref-1"


def test_tencent_per_number_limit_waits_and_signature_errors_are_permanent():
    with FakeServer(tencent_status("LimitExceeded.PhoneNumberDailyLimit", "单个手机号日下发短信条数超过设定的上限")) as server:
        with pytest.raises(GatewayError) as limited:
            TencentGateway(tencent_config(server.port)).send(
                phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
            )
    assert limited.value.retry_after == 86400
    with FakeServer(tencent_error("FailedOperation.SignatureIncorrectOrUnapproved")) as server:
        with pytest.raises(GatewayError) as permanent:
            TencentGateway(tencent_config(server.port)).send(
                phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
            )
    assert not permanent.value.retryable
    with FakeServer(tencent_error("InternalError.Timeout")) as server:
        with pytest.raises(GatewayError) as internal:
            TencentGateway(tencent_config(server.port)).send(
                phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
            )
    assert internal.value.retryable and not internal.value.uncertain


def test_tencent_refused_is_safe_and_timeout_uncertain():
    with pytest.raises(GatewayError) as refused:
        TencentGateway(tencent_config(closed_port())).send(
            phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
        )
    assert refused.value.retryable and not refused.value.uncertain

    def slow(request):
        time.sleep(2.5)
        return tencent_status()(request)

    with FakeServer(slow) as server, pytest.raises(GatewayError) as timed_out:
        TencentGateway(tencent_config(server.port, TIMEOUT_SECONDS=1)).send(
            phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text=""
        )
    assert timed_out.value.uncertain


def test_tencent_lookup_reads_receipts_by_session_context_and_waits_before_saying_not_found():
    def respond(request):
        assert request["headers"]["x-tc-action"] == "PullSmsSendStatusByPhoneNumber"
        return 200, {
            "Response": {
                "PullSmsSendStatusSet": [
                    {
                        "UserReceiveTime": "2026-11-22 10:00:05",
                        "CountryCode": "86",
                        "SubscriberNumber": "13800000001",
                        "PhoneNumber": "+8613800000001",
                        "SerialNo": "5000:777",
                        "ReportStatus": "SUCCESS",
                        "Description": "用户接收成功",
                        "SessionContext": "ours",
                    }
                ],
                "RequestId": "r",
            }
        }

    with FakeServer(respond) as server:
        gateway = TencentGateway(tencent_config(server.port))
        now = timezone.now()
        assert gateway.lookup(phone="13800000001", reference="ours", attempted_at=now).message_id == "5000:777"
        assert gateway.lookup(phone="13800000001", reference="theirs", attempted_at=now).outcome is Lookup.UNKNOWN
        old = now - timedelta(minutes=15)
        assert gateway.lookup(phone="13800000001", reference="theirs", attempted_at=old).outcome is Lookup.NOT_FOUND
    body = json.loads(server.requests[0]["raw"])
    assert body["PhoneNumber"] == "+8613800000001" and body["SmsSdkAppId"] == "1400006666"


# --- Choosing and failover ------------------------------------------------------------------


def test_failover_uses_the_second_provider_only_when_the_first_surely_did_not_send():
    refusing = lambda r: (200, {"Code": "isv.AMOUNT_NOT_ENOUGH", "Message": "账户余额不足"})  # noqa: E731
    with FakeServer(refusing) as aliyun, FakeServer(tencent_status()) as tencent:
        gateway = FailoverGateway(AliyunGateway(aliyun_config(aliyun.port)), TencentGateway(tencent_config(tencent.port)))
        result = gateway.send(phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text="")
    assert result.provider == "tencent" and len(aliyun.requests) == 1 and len(tencent.requests) == 1

    def slow(request):
        time.sleep(2.5)
        return aliyun_ok(request)

    with FakeServer(slow) as aliyun, FakeServer(tencent_status()) as tencent:
        gateway = FailoverGateway(
            AliyunGateway(aliyun_config(aliyun.port, TIMEOUT_SECONDS=1)), TencentGateway(tencent_config(tencent.port))
        )
        with pytest.raises(GatewayError):
            gateway.send(phone="13800000001", template_key="application_submitted", params={"number": NUMBER}, text="")
    assert tencent.requests == []  # maybe sent by Aliyun: a second provider would duplicate it


def test_gateway_chosen_by_settings(settings):
    settings.SMS_GATEWAY, settings.SMS_FAILOVER_GATEWAY = "dev", ""
    assert sms_gateway().name == "dev" and dev_gateway_configured()
    settings.SMS_GATEWAY, settings.SMS_FAILOVER_GATEWAY = "aliyun", "tencent"
    settings.ALIYUN_SMS, settings.TENCENT_SMS = aliyun_config(1), tencent_config(1)
    gateway = sms_gateway()
    assert isinstance(gateway, FailoverGateway)
    assert (gateway.primary.name, gateway.secondary.name) == ("aliyun", "tencent")
    assert not dev_gateway_configured()


def test_system_check_warns_about_missing_provider_templates(settings):
    from notifications.checks import sms_gateway_check

    settings.DEBUG, settings.EMBEDDED = False, False
    settings.SMS_GATEWAY, settings.SMS_FAILOVER_GATEWAY = "dev", ""
    assert sms_gateway_check() == []
    settings.SMS_GATEWAY = "aliyun"
    settings.ALIYUN_SMS = aliyun_config(1)
    (warning,) = sms_gateway_check()
    assert warning.id == "notifications.W002" and "login_code" in warning.msg
    settings.TENCENT_SMS = {**tencent_config(1), "TEMPLATES": ",".join(f"{key}:{n}" for n, key in enumerate(TEMPLATES))}
    settings.SMS_GATEWAY = "tencent"
    assert sms_gateway_check() == []


@pytest.mark.django_db
def test_the_dev_gateway_stores_what_it_was_given_and_finds_it_by_reference():
    from notifications.gateways.dev import DevGateway
    from notifications.models import DevSms

    before = timezone.now()
    result = DevGateway().send(
        phone="13800000091", template_key="login_code", params={"code": "271828"}, text="验证码 271828", reference="ref-91"
    )
    stored = DevSms.objects.get(message_id=result.message_id)
    assert (stored.phone, stored.template_key, stored.params, stored.text, stored.reference) == (
        "13800000091", "login_code", {"code": "271828"}, "验证码 271828", "ref-91",
    )
    assert before <= stored.created_at <= timezone.now() and result.provider == "dev"
    found = DevGateway().lookup(phone="13800000091", reference="ref-91", attempted_at=None)
    assert found.outcome is Lookup.FOUND and found.message_id == result.message_id
