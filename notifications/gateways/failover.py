from __future__ import annotations

import logging
from datetime import datetime

from notifications.gateways.base import GatewayError, Lookup, LookupResult, SendResult, SmsGateway

logger = logging.getLogger(__name__)


class FailoverGateway(SmsGateway):
    """Try the primary; use the secondary only when the primary surely did not send.

    An uncertain failure (timeout, dropped connection) or throttling never fails over: the
    primary may have sent it, and a second provider would deliver a duplicate.
    """

    name = "failover"

    def __init__(self, primary: SmsGateway, secondary: SmsGateway):
        self.primary = primary
        self.secondary = secondary

    def send(self, *, phone: str, template_key: str, params: dict, text: str, reference: str = "") -> SendResult:
        try:
            return self.primary.send(phone=phone, template_key=template_key, params=params, text=text, reference=reference)
        except GatewayError as exc:
            if exc.uncertain or exc.retry_after:
                raise
            logger.warning("SMS primary %s failed (%s); trying %s", self.primary.name, exc.code, self.secondary.name)
            return self.secondary.send(
                phone=phone, template_key=template_key, params=params, text=text, reference=reference
            )

    def lookup(self, *, phone: str, reference: str, attempted_at: datetime | None) -> LookupResult:
        """Found at either provider wins; safe to resend only if neither can have it."""
        results = [g.lookup(phone=phone, reference=reference, attempted_at=attempted_at) for g in (self.primary, self.secondary)]
        for result in results:
            if result.outcome is Lookup.FOUND:
                return result
        if all(r.outcome is Lookup.NOT_FOUND for r in results):
            return LookupResult(Lookup.NOT_FOUND, provider=self.name)
        return LookupResult(Lookup.UNKNOWN, provider=self.name, detail="; ".join(r.detail for r in results if r.detail))
