"""The SMS gateway interface. Providers are not idempotent, so every call carries our own
reference and a gateway says, where it can, whether it already has a reference."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

# In an SDK's network error: the connection was never established, so the provider cannot have
# received the request and trying again (or another provider) cannot duplicate it.
NOT_CONNECTED_MARKERS = (
    "Connection refused",
    "Failed to establish a new connection",
    "Name or service not known",
    "NameResolutionError",
)


class GatewayError(Exception):
    """The provider refused or failed.

    ``retryable``: trying again later can help (network, provider fault, throttling).
    ``retry_after``: the provider throttled us; wait this many seconds (not counted as an attempt).
    ``uncertain``: the request may have reached the provider (a read timeout, a dropped
    connection); the next attempt must look the reference up before sending again, and no
    failover gateway may be tried.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retryable: bool = True,
        retry_after: int | None = None,
        uncertain: bool = False,
    ):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        self.uncertain = uncertain


@dataclass(frozen=True)
class SendResult:
    provider: str
    message_id: str


class Lookup(enum.Enum):
    FOUND = "found"  # the provider has our reference: the SMS went out, do not send again
    NOT_FOUND = "not_found"  # the provider can prove it never got it: sending is safe
    UNKNOWN = "unknown"  # cannot tell: a person must check the provider console


@dataclass(frozen=True)
class LookupResult:
    outcome: Lookup
    provider: str = ""
    message_id: str = ""
    detail: str = ""


class SmsGateway:
    name = "base"

    def send(self, *, phone: str, template_key: str, params: dict, text: str, reference: str = "") -> SendResult:
        raise NotImplementedError

    def lookup(self, *, phone: str, reference: str, attempted_at: datetime | None) -> LookupResult:
        """Did an earlier attempt with ``reference`` reach the provider? The safe default is UNKNOWN.

        Raise ``GatewayError`` when the question could not be asked now (network): it is retried.
        """
        return LookupResult(Lookup.UNKNOWN, provider=self.name, detail="this gateway cannot look up sends")
