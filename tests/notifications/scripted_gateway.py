"""An in-process gateway whose answers a test scripts (exceptions or success, lookups)."""
from __future__ import annotations

from notifications.gateways.base import Lookup, LookupResult, SendResult, SmsGateway


class ScriptedGateway(SmsGateway):
    name = "scripted"
    script: list = []  # per send: an exception to raise, or None for success
    sent: list[dict] = []
    lookups: list[dict] = []
    lookup_answer: Lookup = Lookup.NOT_FOUND

    @classmethod
    def reset(cls) -> None:
        cls.script = []
        cls.sent = []
        cls.lookups = []
        cls.lookup_answer = Lookup.NOT_FOUND

    def send(self, *, phone, template_key, params, text, reference=""):
        outcome = type(self).script.pop(0) if type(self).script else None
        if outcome is not None:
            raise outcome
        type(self).sent.append({"phone": phone, "template_key": template_key, "text": text, "reference": reference})
        return SendResult(provider=self.name, message_id=f"m{len(type(self).sent)}")

    def lookup(self, *, phone, reference, attempted_at):
        type(self).lookups.append({"phone": phone, "reference": reference, "attempted_at": attempted_at})
        return LookupResult(type(self).lookup_answer, provider=self.name, message_id="looked-up")
