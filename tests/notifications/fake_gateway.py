"""A gateway talking HTTP to a fake provider on loopback (tests.notifications.fake_provider), so a
real worker process can be killed mid-send and the provider's log tells what it received."""
from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request

from notifications.gateways.base import GatewayError, Lookup, LookupResult, SendResult, SmsGateway


class FakeHttpGateway(SmsGateway):
    name = "fakehttp"

    def __init__(self):
        self.base = os.environ["FAKE_SMS_URL"].rstrip("/")

    def send(self, *, phone, template_key, params, text, reference=""):
        body = json.dumps({"phone": phone, "template_key": template_key, "text": text, "reference": reference})
        request = urllib.request.Request(f"{self.base}/send", data=body.encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return SendResult(provider=self.name, message_id=json.load(response)["id"])
        except OSError as exc:
            raise GatewayError(str(exc), uncertain=True) from exc

    def lookup(self, *, phone, reference, attempted_at):
        query = urllib.parse.urlencode({"reference": reference})
        with urllib.request.urlopen(f"{self.base}/lookup?{query}", timeout=5) as response:
            answer = json.load(response)
        if answer["found"]:
            return LookupResult(Lookup.FOUND, provider=self.name, message_id=answer["id"])
        return LookupResult(Lookup.NOT_FOUND, provider=self.name)
