"""Notification use cases: each event becomes at most one message per (event, message type,
recipient, channel), recorded in the handler's transaction. Every message, whatever the
provider, is sent after the commit by the dispatcher (services/notifications/dispatcher.py).

Producer: new order (or a digest of several), pickup reminder, pickup changed or cancelled, low
stock. Buyer (remembered from OrderPlaced): confirmed, shipped, out for delivery, delivered,
cancelled, by SMS or email.

Topics keep order per key only, so a fact can come before the one it depends on: a buyer
message before its order's OrderPlaced waits for it, and each pickup's facts (scheduled,
changed, cancelled) are kept together, so the producer hears of the latest window once and
never of a pickup already cancelled. The outcome is the same whichever arrives first.

Each handler takes its command and the unit of work it runs in, and records through the unit of
work's repositories (the messages, and what it remembers). Notifications raises no event. The
bus lists them (`Handlers.commands`); the jobs' passes (digest, reminders) are here too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import phonenumbers
import structlog

from services.notifications import metrics
from services.notifications.adapters.repository import Row
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.commands import (
    AlertLowStock,
    AnnouncePickup,
    AnnouncePickupCancellation,
    AnnouncePickupChange,
    ChangeOptOut,
    ClaimDue,
    ClaimInterrupted,
    FlushDigest,
    RecordDeliveryReport,
    RecordSendOutcome,
    RememberBuyer,
    RetryLater,
    SendDueReminders,
    SwitchProvider,
    TellBuyerCancelled,
    TellBuyerConfirmed,
    TellBuyerShipment,
)
from services.notifications.domain import templates as t
from services.notifications.domain.messages import DigestOrder, ProducerAlertLine, render_digest
from services.notifications.domain.reports import aggregate_parts
from services.notifications.domain.timezones import timezone_for_country
from services.notifications.notifier import Notifier, OutgoingSms, Recipient, Source
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    Contact,
    PickupCancelled,
    PickupRescheduled,
    PickupScheduled,
)
from shared.contracts.logistics import (
    ShipmentDelivered,
    ShipmentDispatchedForDelivery,
    ShipmentPickedUp,
)
from shared.phones import normalise_phone

log = structlog.get_logger(__name__)
# A whole order is cancelled once, but orders may say so twice: when it cancels the order, and
# again when it releases a reservation that reached it after that. Both answer as one source.
_WHOLE_ORDER_CANCELLED = uuid.UUID("3f6d2b8e-9c41-5e7a-b0d2-6a8c4e1f7d93")
_SHIPMENT_MESSAGES = {
    ShipmentPickedUp: t.SHIPPED,
    ShipmentDispatchedForDelivery: t.OUT_FOR_DELIVERY,
    ShipmentDelivered: t.DELIVERED,
}


def timezone_for_phone(phone: str, default: str = "Asia/Ho_Chi_Minh") -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, "VN"))
    except phonenumbers.NumberParseException:
        return default
    return timezone_for_country(region or "", default)


def _bind(**ids: str | None) -> None:
    structlog.contextvars.bind_contextvars(**ids)


def _lines(lines) -> tuple[ProducerAlertLine, ...]:
    return tuple(ProducerAlertLine(line.name, line.quantity) for line in lines)


def _pickup_refs(e: PickupScheduled | PickupRescheduled | PickupCancelled) -> dict[str, str]:
    return {"producer_id": e.producer_id, "order_id": e.order_id, "shipment_id": e.shipment_id}


def _recipient(contact: Contact, tz: str) -> Recipient:
    return Recipient(contact.phone, contact.sms_language, contact.sms_diacritics, tz)


def _shipment_refs(row: Row) -> dict[str, str | None]:
    return {k: row[k] for k in ("producer_id", "order_id", "shipment_id")}


def _held_lines(raw: str) -> tuple[ProducerAlertLine, ...]:
    return tuple(ProducerAlertLine(**line) for line in json.loads(raw))


class Handlers:
    """The use cases, each `(command, unit of work)`; they raise no event (notifications
    publishes nothing). `commands` lists them for the bus."""

    def __init__(self, notifier: Notifier) -> None:
        self.n = notifier
        self.s = notifier.settings

    @property
    def commands(self) -> Mapping[type, Any]:
        return {
            AnnouncePickup: self.pickup_scheduled,
            AnnouncePickupChange: self.pickup_rescheduled,
            AnnouncePickupCancellation: self.pickup_cancelled,
            AlertLowStock: self.low_stock,
            RememberBuyer: self.order_placed,
            TellBuyerConfirmed: self.order_confirmed,
            TellBuyerCancelled: self.order_cancelled,
            TellBuyerShipment: self.shipment,
            FlushDigest: self.flush_digest,
            SendDueReminders: self.send_due_reminders,
            RecordDeliveryReport: record_delivery_report,
            ChangeOptOut: change_opt_out,
            **DISPATCH_HANDLERS,
        }

    async def _pickup_sms(
        self,
        uow: NotificationsUnitOfWork,
        env: Envelope,
        e: PickupScheduled | PickupRescheduled | PickupCancelled,
        message_type: str,
        to: Recipient,
        context: dict[str, Any],
        lines: tuple[ProducerAlertLine, ...] = (),
    ) -> None:
        budget = self.s.producer_sms_budget
        out = OutgoingSms(Source.of(env), message_type, to, budget, _pickup_refs(e), context, lines)
        await self.n.sms(uow.messages, out)

    # --- producers ---------------------------------------------------------------------------
    async def pickup_scheduled(self, cmd: AnnouncePickup, uow: NotificationsUnitOfWork) -> None:
        env, e = cmd.envelope, cmd.event
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, facts = await uow.notifications.note_pickup(
            e.shipment_id,
            scheduled=True,
            window=(e.window_start, e.window_end),
            window_at=env.occurred_at,
        )
        if facts["cancelled"] or before["scheduled"]:
            log.info("sms.pickup_not_announced", cancelled=facts["cancelled"])
            return
        # A change that came first is newer than this event: the producer hears the final window.
        window = (facts["window_start"], facts["window_end"])
        to = _recipient(e.pickup_contact, timezone_for_country(e.location.country))
        phone = normalise_phone(to.raw, "VN")
        if self.s.digest_window_s > 0 and phone is not None:
            await self._hold_for_digest(uow, env, e, to, phone, window)
        else:
            context = {"ref": e.order_ref, "start": window[0], "end": window[1]}
            await self._pickup_sms(uow, env, e, t.NEW_ORDER, to, context, _lines(e.lines))
        if phone is not None:
            await self._schedule_reminder(uow, env, e, to, phone, window)

    async def _hold_for_digest(
        self, uow: NotificationsUnitOfWork, env: Envelope, e: PickupScheduled, to, phone, window
    ) -> None:
        await uow.notifications.add_pending_alert(
            event_id=env.event_id,
            recipient=phone,
            producer_id=e.producer_id,
            order_id=e.order_id,
            shipment_id=e.shipment_id,
            order_ref=e.order_ref,
            lines=[{"name": ln.name, "quantity": ln.quantity} for ln in e.lines],
            window_start=window[0],
            window_end=window[1],
            language=to.language,
            diacritics=to.diacritics,
            tz=to.tz,
            window_s=self.s.digest_window_s,
            event_at=env.occurred_at,
            correlation_id=env.correlation_id,
        )

    async def _schedule_reminder(
        self, uow: NotificationsUnitOfWork, env: Envelope, e: PickupScheduled, to, phone, window
    ) -> None:
        remind_at = window[0] - timedelta(seconds=self.s.reminder_lead_s)
        await uow.notifications.schedule_reminder(
            shipment_id=e.shipment_id,
            order_id=e.order_id,
            order_ref=e.order_ref,
            producer_id=e.producer_id,
            recipient=phone,
            language=to.language,
            diacritics=to.diacritics,
            tz=to.tz,
            lines=[{"name": ln.name, "quantity": ln.quantity} for ln in e.lines],
            window_start=window[0],
            window_end=window[1],
            remind_at=remind_at,
            source_event_id=env.event_id,
            correlation_id=env.correlation_id,
            state="scheduled" if remind_at > self.n.clock() else "skipped",
        )

    async def _producer_to(
        self, uow: NotificationsUnitOfWork, shipment_id: str, contact: Contact
    ) -> Recipient:
        known = await uow.notifications.reminder(shipment_id)
        return _recipient(contact, known["tz"] if known else timezone_for_phone(contact.phone))

    async def pickup_rescheduled(
        self, cmd: AnnouncePickupChange, uow: NotificationsUnitOfWork
    ) -> None:
        env, e = cmd.envelope, cmd.event
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, facts = await uow.notifications.note_pickup(
            e.shipment_id, window=(e.window_start, e.window_end), window_at=env.occurred_at
        )
        if facts["cancelled"] or not facts["scheduled"]:
            # Not announced yet: its PickupScheduled will carry this window. Or cancelled.
            log.info("sms.pickup_change_not_sent", cancelled=facts["cancelled"])
            return
        if before["window_at"] is not None and env.occurred_at <= before["window_at"]:
            log.info("sms.pickup_change_stale")  # a newer window is known and was told
            return
        to = await self._producer_to(uow, e.shipment_id, e.pickup_contact)
        remind_at = e.window_start - timedelta(seconds=self.s.reminder_lead_s)
        await uow.notifications.move_reminder(
            e.shipment_id,
            window_start=e.window_start,
            window_end=e.window_end,
            remind_at=remind_at,
            source_event_id=env.event_id,
            state="scheduled" if remind_at > self.n.clock() else "skipped",
        )
        context = {"ref": e.order_ref, "start": e.window_start, "end": e.window_end}
        await self._pickup_sms(uow, env, e, t.PICKUP_CHANGED, to, context)

    async def pickup_cancelled(
        self, cmd: AnnouncePickupCancellation, uow: NotificationsUnitOfWork
    ) -> None:
        env, e = cmd.envelope, cmd.event
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, _ = await uow.notifications.note_pickup(e.shipment_id, cancelled=True)
        if before["cancelled"] or not before["scheduled"]:
            # Told already, or never announced: its PickupScheduled, if it comes, stays silent.
            log.info("sms.pickup_cancellation_not_sent", cancelled_before=before["cancelled"])
            return
        to = await self._producer_to(uow, e.shipment_id, e.pickup_contact)
        await uow.notifications.cancel_reminder(e.shipment_id)
        if await uow.notifications.withdraw_pending_alert(e.shipment_id):
            # The producer never heard of this order: nothing to take back.
            log.info("sms.held_alert_withdrawn")
            return
        context = {"ref": e.order_ref}
        await self._pickup_sms(uow, env, e, t.PICKUP_CANCELLED, to, context)

    async def low_stock(self, cmd: AlertLowStock, uow: NotificationsUnitOfWork) -> None:
        env, e = cmd.envelope, cmd.event
        # No order in this event: the journey that caused it (its correlation id) is the order's.
        _bind(order_id=env.correlation_id, sku=e.sku)
        out = OutgoingSms(
            Source.of(env),
            t.LOW_STOCK,
            _recipient(e.contact, timezone_for_phone(e.contact.phone)),
            self.s.producer_sms_budget,
            {"producer_id": e.producer_id},
            context={"available": e.available, "threshold": e.threshold},
            lines=(ProducerAlertLine(e.product_name, 1),),  # the name, shortened like a line
        )
        await self.n.sms(uow.messages, out)

    # --- jobs --------------------------------------------------------------------------------
    async def flush_digest(self, _: FlushDigest, uow: NotificationsUnitOfWork) -> int:
        """One producer's held alerts in one SMS: in this unit of work, so the alerts are either
        all in that message or all still held."""
        rows = sorted(await uow.notifications.take_due_digest(), key=lambda r: r["id"])
        if not rows:
            return 0
        first = rows[0]
        to = Recipient(first["recipient"], first["language"], first["diacritics"], first["tz"])
        budget = self.s.producer_sms_budget
        sms = render_digest(
            orders=[DigestOrder(r["order_ref"], _held_lines(r["lines"])) for r in rows],
            pickup_start=min(r["window_start"] for r in rows),
            pickup_end=max(r["window_end"] for r in rows),
            language=to.language,
            diacritics=to.diacritics,
            tz=to.tz,
            segment_budget=budget,
        )
        source = Source(
            first["event_id"], first["correlation_id"], min(r["event_at"] for r in rows)
        )
        out = OutgoingSms(source, t.NEW_ORDER, to, budget, _shipment_refs(first), rendered=sms)
        await self.n.sms(uow.messages, out)
        log.info("sms.digest_flushed", orders=len(rows), producer_id=first["producer_id"])
        return len(rows)

    async def send_due_reminders(self, cmd: SendDueReminders, uow: NotificationsUnitOfWork) -> int:
        """Pickup reminders whose time came, each recorded as a message in this unit of work
        (the reminder is marked sent in the same one)."""
        rows = await uow.notifications.take_due_reminders(cmd.limit)
        for r in rows:
            out = OutgoingSms(
                Source(r["source_event_id"], r["correlation_id"], r["remind_at"]),
                t.PICKUP_REMINDER,
                Recipient(r["recipient"], r["language"], r["diacritics"], r["tz"]),
                self.s.producer_sms_budget,
                _shipment_refs(r),
                context={"ref": r["order_ref"], "start": r["window_start"], "end": r["window_end"]},
                lines=_held_lines(r["lines"]),
            )
            await self.n.sms(uow.messages, out)
        return len(rows)

    # --- buyers ------------------------------------------------------------------------------
    async def order_placed(self, cmd: RememberBuyer, uow: NotificationsUnitOfWork) -> None:
        e = cmd.event
        _bind(order_id=e.order_id)
        buyer, address = e.buyer, e.shipping_address
        country = (address.country if address and address.country else "VN").upper()
        phone_raw = (buyer.phone if buyer else None) or (address.phone if address else None)
        email = buyer.email if buyer else None
        if not phone_raw and not email:
            metrics.SKIPPED.labels("OrderPlaced", "no_buyer_contact").inc()
        await uow.notifications.lock_order(e.order_id)
        # Remembered even without a contact: messages that came first then stop waiting.
        await uow.notifications.remember_buyer(
            order_id=e.order_id,
            order_ref=e.order_ref,
            name=buyer.name if buyer else None,
            # An invalid number is kept as given: its messages then fail with the reason.
            phone=(normalise_phone(phone_raw, country) or phone_raw) if phone_raw else None,
            email=email,
            language=(buyer.language if buyer else None) or ("vi" if country == "VN" else "en"),
            tz=timezone_for_country(country),
            total=e.total,
            currency=e.currency,
        )
        known = await uow.notifications.buyer(e.order_id)
        assert known is not None  # remembered just above, or before
        for w in await uow.notifications.take_waiting_buyer_messages(e.order_id):
            source = Source(w["event_id"], w["correlation_id"], w["event_at"])
            await self._message_buyer(
                uow,
                known,
                source,
                w["event_type"],
                w["message_type"],
                w["context"],
                w["shipment_id"],
                w["promo"],
            )

    async def _tell_buyer(
        self,
        uow: NotificationsUnitOfWork,
        env: Envelope,
        order_id: str,
        message_type: str,
        context: dict[str, Any],
        shipment_id: str | None = None,
        promo: str | None = None,
        source: Source | None = None,
    ) -> None:
        _bind(order_id=order_id, shipment_id=shipment_id)
        source = source or Source.of(env)
        await uow.notifications.lock_order(order_id)
        buyer = await uow.notifications.buyer(order_id)
        if buyer is None:
            # Its OrderPlaced, which names the buyer, comes on another topic: wait for it.
            await uow.notifications.keep_waiting_buyer_message(
                event_id=source.event_id,
                message_type=message_type,
                event_type=env.event_type,
                order_id=order_id,
                shipment_id=shipment_id,
                context=context,
                promo=promo,
                event_at=env.occurred_at,
                correlation_id=env.correlation_id,
            )
            metrics.WAITING.labels(env.event_type).inc()
            log.info("notify.waiting_for_order")
            return
        await self._message_buyer(
            uow, buyer, source, env.event_type, message_type, context, shipment_id, promo
        )

    async def _message_buyer(
        self,
        uow: NotificationsUnitOfWork,
        buyer: Row,
        source: Source,
        event_type: str,
        message_type: str,
        context: dict[str, Any],
        shipment_id: str | None,
        promo: str | None,
    ) -> None:
        context = {
            "ref": buyer["order_ref"],
            "total": buyer["total"],
            "currency": buyer["currency"],
            **context,
        }
        refs = {"order_id": buyer["order_id"], "shipment_id": shipment_id}
        phone, email = buyer["phone"], buyer["email"]
        messages = uow.messages
        prefs = await messages.preferences(phone) if phone else None
        wants_email = prefs is not None and (prefs["channel"] == "email" or prefs["opted_out"])
        if email and self.s.smtp_host and (wants_email or not phone):
            to = Recipient(email, buyer["language"], True, buyer["tz"])
            await self.n.email(messages, source, message_type, to, context, refs)
        elif phone:
            to = Recipient(phone, buyer["language"], False, buyer["tz"])
            out = OutgoingSms(
                source,
                message_type,
                to,
                self.s.buyer_sms_budget,
                refs,
                context=context,
                promo=promo,
            )
            await self.n.sms(messages, out)
        else:
            metrics.SKIPPED.labels(event_type, "no_channel").inc()

    async def order_confirmed(self, cmd: TellBuyerConfirmed, uow: NotificationsUnitOfWork) -> None:
        await self._tell_buyer(uow, cmd.envelope, cmd.event.order_id, t.ORDER_CONFIRMED, {})

    async def order_cancelled(self, cmd: TellBuyerCancelled, uow: NotificationsUnitOfWork) -> None:
        env, e = cmd.envelope, cmd.event
        partial = sum(line.quantity for line in e.lines)
        source = Source.of(env)
        if not e.lines:  # the whole order: its message is the order's, whichever event says so
            source = replace(source, event_id=uuid.uuid5(_WHOLE_ORDER_CANCELLED, e.order_id))
        context = {"partial": partial, "after_pickup": e.after_pickup}
        await self._tell_buyer(uow, env, e.order_id, t.ORDER_CANCELLED, context, source=source)

    async def shipment(self, cmd: TellBuyerShipment, uow: NotificationsUnitOfWork) -> None:
        env, e = cmd.envelope, cmd.event
        message_type = _SHIPMENT_MESSAGES[type(e)]
        context: dict[str, Any] = {"tracking_url": e.tracking_url or "", "cod": e.cod_amount or 0}
        if e.currency:
            context["currency"] = e.currency
        promo = self.s.delivered_promo if message_type == t.DELIVERED else None
        await self._tell_buyer(uow, env, e.order_id, message_type, context, e.shipment_id, promo)


# --- the providers' callbacks ------------------------------------------------------------------
async def record_delivery_report(
    cmd: RecordDeliveryReport, uow: NotificationsUnitOfWork
) -> str | None:
    repo = uow.notifications
    if cmd.message_id is not None:
        row = await repo.message(cmd.message_id)
    elif cmd.provider_message_id is not None:
        row = await repo.message_by_provider_id(cmd.provider, cmd.provider_message_id)
    else:
        row = None
    if row is None:
        return None
    message_id = row["message_id"]
    if cmd.message_id and cmd.provider_message_id and row["provider_message_id"] is None:
        await repo.settle_provider_message_id(message_id, cmd.provider_message_id)
    metrics.DELIVERY_REPORTS.labels(row["provider"], cmd.reported).inc()
    reported, detail = cmd.reported, cmd.detail
    if cmd.part is not None and row["segments"] > 1:
        parts = await repo.record_part(message_id, cmd.part, reported)
        reported = aggregate_parts(row["segments"], parts) or "SENT"
        detail = f"part {cmd.part}/{row['segments']} {parts[cmd.part]}; {detail}"
    before, after = await repo.report_status(message_id, reported, detail)
    if after != before:
        metrics.STATES.labels(row["provider"], after).inc()
    return after


async def change_opt_out(cmd: ChangeOptOut, uow: NotificationsUnitOfWork) -> None:
    await uow.notifications.set_opted_out(cmd.phone, cmd.opted_out)


# --- the dispatcher's steps --------------------------------------------------------------------
async def claim_due(cmd: ClaimDue, uow: NotificationsUnitOfWork) -> Sequence[Row]:
    return await uow.notifications.claim_due(cmd.limit, cmd.lease_s)


async def claim_interrupted(cmd: ClaimInterrupted, uow: NotificationsUnitOfWork) -> Sequence[Row]:
    return await uow.notifications.claim_interrupted(cmd.limit, cmd.lease_s)


async def switch_provider(cmd: SwitchProvider, uow: NotificationsUnitOfWork) -> None:
    await uow.notifications.switch_provider(cmd.message_id, cmd.index, cmd.provider, cmd.detail)


async def retry_later(cmd: RetryLater, uow: NotificationsUnitOfWork) -> None:
    await uow.notifications.retry_later(cmd.message_id, cmd.delay_s, cmd.detail)


async def record_send_outcome(cmd: RecordSendOutcome, uow: NotificationsUnitOfWork) -> None:
    await uow.notifications.record_status(
        cmd.message_id, cmd.status, cmd.detail, cmd.provider_message_id, reason=cmd.reason
    )


DISPATCH_HANDLERS: Mapping[type, Any] = {
    ClaimDue: claim_due,
    ClaimInterrupted: claim_interrupted,
    SwitchProvider: switch_provider,
    RetryLater: retry_later,
    RecordSendOutcome: record_send_outcome,
}
