"""SMS providers. `dev` records the message and sends nothing: it is what `make run` and the
tests use. Real providers (Twilio, eSMS.vn, SpeedSMS) plug in behind the same protocol."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, Protocol

Outcome = Literal["accepted", "retryable", "permanent", "unknown"]


@dataclass(frozen=True)
class SmsRequest:
    message_id: uuid.UUID
    recipient: str
    text: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    detail: str | None = None


class SmsProvider(Protocol):
    name: str

    async def send(self, request: SmsRequest) -> SendResult: ...


class DevProvider:
    """Accepts everything; the message row in the database is the record of what was sent."""

    name = "dev"

    async def send(self, request: SmsRequest) -> SendResult:
        return SendResult("accepted", provider_message_id=f"dev-{request.message_id}")
