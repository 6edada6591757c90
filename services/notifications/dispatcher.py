"""The sender: takes committed messages to the providers, exactly once.

1. A handler records the message (QUEUED, unique dedup key) in its own transaction: nothing is
   sent from inside a consumer transaction, whatever the provider (`dev` included), so a
   transaction that rolls back sends nothing.
2. The dispatcher claims due messages (`FOR UPDATE SKIP LOCKED`), marks them SENDING with a
   lease and the provider about to be used, and commits; only then does it call the provider,
   with the message id as idempotency key where the provider has one (eSMS `RequestId`).
3. It records the outcome: ACCEPTED, a fallback to the next provider, RETRYING later, FAILED,
   or UNKNOWN (a provider without idempotency may have taken it).
4. A SENDING message whose lease ran out belongs to a sender that died between the provider's
   answer and the commit. It is never resent blindly: with an idempotency key it is sent again
   (the provider answers "duplicate" if it had it), otherwise it becomes UNKNOWN and its delivery
   report (whose URL carries our message id) settles it.

Each step that changes a message (claim, fallback, outcome) is a command to the service's bus,
in a unit of work of its own: committed before the next provider call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from services.notifications import metrics
from services.notifications.adapters import postgres as db
from services.notifications.adapters.email import EmailRequest, SmtpSender
from services.notifications.adapters.providers import (
    RECIPIENT_FAULTS,
    SendResult,
    SmsProvider,
    SmsRequest,
    send_with_retries,
)
from services.notifications.commands import (
    ClaimDue,
    ClaimInterrupted,
    RecordSendOutcome,
    RetryLater,
    SwitchProvider,
)
from services.notifications.settings import NotificationSettings
from shared.messaging.bus import MessageBus

Bus = MessageBus[Any]

log = structlog.get_logger(__name__)


def _record_accepted(row, provider: str, channel: str) -> None:
    metrics.SENT.labels(provider, channel, row["message_type"]).inc()
    metrics.STATES.labels(provider, "ACCEPTED").inc()
    if row["event_at"] is not None:
        latency = (datetime.now(UTC) - row["event_at"]).total_seconds()
        metrics.ACCEPT_LATENCY.labels(provider, channel, row["message_type"]).observe(
            max(0.0, latency)
        )


class Dispatcher:
    def __init__(
        self,
        settings: NotificationSettings,
        sms: Sequence[SmsProvider],
        email: SmtpSender | None = None,
    ) -> None:
        if not sms:
            raise ValueError("at least one SMS provider is needed")
        self.settings = settings
        self.sms = list(sms)
        self.email = email
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(max(1, settings.dispatch_concurrency))

    async def run(self, service) -> None:
        """Background job: send due messages, woken by NOTIFY or the poll interval."""
        pool: asyncpg.Pool = service.pool  # for LISTEN only: every change goes to the bus
        bus: Bus = service.bus
        listener = await pool.acquire()

        def wake(*_: object) -> None:
            self._wake.set()

        try:
            await listener.add_listener(db.DISPATCH_CHANNEL, wake)
            while True:
                self._wake.clear()
                if await self.pass_once(bus) == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.settings.dispatch_poll_s)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(db.DISPATCH_CHANNEL, wake)
            await pool.release(listener)

    async def pass_once(self, bus: Bus) -> int:
        # No more than can be sent at once: a claimed row's lease runs while it waits its turn.
        limit = max(1, self.settings.dispatch_concurrency)
        lease = self.settings.send_lease_s
        interrupted = await bus.handle(ClaimInterrupted(limit, lease))
        due = await bus.handle(ClaimDue(limit, lease))
        jobs = [self._guarded(bus, row, True) for row in interrupted]
        jobs += [self._guarded(bus, row, False) for row in due]
        await asyncio.gather(*jobs)
        return len(jobs)

    async def _guarded(self, bus: Bus, row, interrupted: bool) -> None:
        async with self._slots:
            structlog.contextvars.bind_contextvars(
                message_id=str(row["message_id"]),
                correlation_id=row["correlation_id"],
                order_id=row["order_id"],
                shipment_id=row["shipment_id"],
            )
            try:
                if interrupted:
                    await self._reconcile(bus, row)
                elif row["channel"] == "email":
                    await self._deliver_email(bus, row)
                else:
                    await self._deliver_sms(bus, row)
            except Exception:
                # The row stays SENDING under its lease and is reconciled when the lease ends.
                log.exception("dispatch.crashed")

    def _provider(self, name: str) -> tuple[int, SmsProvider] | None:
        for index, provider in enumerate(self.sms):
            if provider.name == name:
                return index, provider
        return None

    async def _reconcile(self, bus: Bus, row) -> None:
        found = self._provider(row["provider"]) if row["channel"] == "sms" else None
        if found and found[1].idempotent:
            log.warning("dispatch.interrupted_resend", provider=row["provider"])
            await self._deliver_sms(bus, row, start=found[0], note="resent after interruption")
            return
        detail = "send interrupted before its outcome was recorded; awaiting a delivery report"
        await bus.handle(RecordSendOutcome(row["message_id"], "UNKNOWN", detail, reason="unknown"))
        metrics.STATES.labels(row["provider"], "UNKNOWN").inc()
        log.warning("dispatch.interrupted_unknown", provider=row["provider"])

    async def _send(self, provider, request) -> SendResult:
        s = self.settings
        result = await send_with_retries(
            provider,
            request,
            attempts=s.send_attempts,
            backoff_initial_s=s.backoff_initial_s,
            backoff_max_s=s.backoff_max_s,
        )
        metrics.SEND_ATTEMPTS.labels(provider.name, result.outcome).inc()
        return result

    async def _deliver_sms(self, bus: Bus, row, start: int | None = None, note: str = "") -> None:
        index = row["provider_index"] if start is None else start
        index = min(index, len(self.sms) - 1)
        request = SmsRequest(
            row["message_id"], row["recipient"], row["text"], unicode=row["encoding"] == "UCS-2"
        )
        current = row["provider"]
        while True:
            provider = self.sms[index]
            if provider.name != current:
                await bus.handle(
                    SwitchProvider(
                        row["message_id"],
                        index,
                        provider.name,
                        f"fallback to {provider.name}: {note}",
                    )
                )
                current = provider.name
            result = await self._send(provider, request)
            if result.outcome == "retryable" or (
                result.outcome == "permanent" and result.reason not in RECIPIENT_FAULTS
            ):
                if index + 1 < len(self.sms):
                    note = f"{provider.name} {result.outcome}: {result.detail}"
                    index += 1
                    continue
            await self._settle(bus, row, provider.name, "sms", result)
            return

    async def _deliver_email(self, bus: Bus, row) -> None:
        if self.email is None:
            result = SendResult("permanent", detail="no SMTP server", reason="smtp_not_configured")
            await self._settle(bus, row, "smtp", "email", result)
            return
        request = EmailRequest(row["message_id"], row["recipient"], row["subject"], row["text"])
        await self._settle(bus, row, "smtp", "email", await self._send(self.email, request))

    async def _settle(self, bus: Bus, row, provider: str, channel: str, result: SendResult) -> None:
        message_id = row["message_id"]
        step: object
        if result.outcome == "accepted":
            detail = result.detail or f"accepted by {provider}"
            step = RecordSendOutcome(message_id, "ACCEPTED", detail, result.provider_message_id)
        elif result.outcome == "unknown":
            step = RecordSendOutcome(message_id, "UNKNOWN", result.detail, reason="unknown")
        elif result.outcome == "retryable" and row["rounds"] + 1 < self.settings.send_rounds:
            delay = self.settings.round_delay_s * 2 ** row["rounds"]
            step = RetryLater(message_id, delay, f"{provider}: {result.detail}")
        else:
            reason = result.reason or result.outcome
            detail = f"{provider}: {result.detail}"
            step = RecordSendOutcome(message_id, "FAILED", detail, reason=reason)
        await bus.handle(step)
        if result.outcome == "accepted":
            _record_accepted(row, provider, channel)
        elif result.outcome == "unknown":
            metrics.STATES.labels(provider, "UNKNOWN").inc()
        elif result.outcome == "permanent" or row["rounds"] + 1 >= self.settings.send_rounds:
            metrics.FAILED.labels(provider, channel, result.reason or result.outcome).inc()
            metrics.STATES.labels(provider, "FAILED").inc()
        log.info(
            "dispatch.settled",
            provider=provider,
            outcome=result.outcome,
            reason=result.reason,
            to=row["recipient"],
        )
