"""Outbox rows as the services leave them: an in-site message (delivered by being written) by
default, an SMS with ``sms=True``; ``DevSmsFactory`` is what the dev gateway records."""
import factory
from django.utils import timezone

from notifications.models import Channel, DevSms, Notification, NotificationStatus
from tests.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    event_key = factory.Sequence(lambda n: f"application:{n}:application_submitted")
    channel = Channel.INBOX
    user = factory.SubFactory(UserFactory)
    recipient = factory.LazyAttribute(lambda o: str(o.user.pk))
    template_key = "application_submitted"
    params = factory.Sequence(lambda n: {"number": f"430500-20261122-{n:06d}"})
    status = NotificationStatus.SENT
    sent_at = factory.LazyFunction(timezone.now)

    class Params:
        sms = factory.Trait(
            channel=Channel.SMS,
            recipient=factory.LazyAttribute(lambda o: o.user.phone),
            status=NotificationStatus.DEAD,
            attempts=5,
            last_error="gateway timeout",
            sent_at=None,
        )


class DevSmsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DevSms

    phone = factory.Sequence(lambda n: f"137{n:08d}")
    template_key = "login_code"
    params = factory.Sequence(lambda n: {"code": f"{n % 1000000:06d}"})
    text = factory.LazyAttribute(lambda o: f"您的登录验证码为 {o.params['code']}，5 分钟内有效。请勿告诉他人。")
    message_id = factory.Sequence(lambda n: f"dev-{n}")
    reference = factory.Sequence(lambda n: f"ref-{n}")
