from __future__ import annotations

from dataclasses import dataclass


class GatewayError(Exception):
    """The provider refused or failed; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class SendResult:
    provider: str
    message_id: str


class SmsGateway:
    name = "base"

    def send(self, *, phone: str, template_key: str, params: dict, text: str) -> SendResult:
        raise NotImplementedError
