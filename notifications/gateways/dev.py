import uuid

from notifications.gateways.base import SendResult, SmsGateway
from notifications.models import DevSms


class DevGateway(SmsGateway):
    """Stores messages in the database instead of sending them (make run, tests, /dev/outbox/)."""

    name = "dev"

    def send(self, *, phone: str, template_key: str, params: dict, text: str) -> SendResult:
        message_id = f"dev-{uuid.uuid4().hex}"
        DevSms.objects.create(phone=phone, template_key=template_key, text=text, params=params, message_id=message_id)
        return SendResult(provider=self.name, message_id=message_id)
