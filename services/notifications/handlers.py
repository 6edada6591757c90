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
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import phonenumbers
import structlog

from services.notifications import metrics
from services.notifications.adapters import postgres as db
from services.notifications.domain import templates as t
from services.notifications.domain.messages import ProducerAlertLine
from services.notifications.domain.timezones import timezone_for_country
from services.notifications.notifier import Notifier, OutgoingSms, Recipient, Source
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    Contact,
    LowStockDetected,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PickupCancelled,
    PickupRescheduled,
    PickupScheduled,
    ShipmentEvent,
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


class Handlers:
    """One handler per event; each returns no events (notifications publish nothing)."""

    def __init__(self, notifier: Notifier) -> None:
        self.n = notifier
        self.s = notifier.settings

    async def _pickup_sms(
        self,
        conn,
        env: Envelope,
        e: PickupScheduled | PickupRescheduled | PickupCancelled,
        message_type: str,
        to: Recipient,
        context: dict[str, Any],
        lines: tuple[ProducerAlertLine, ...] = (),
    ) -> None:
        budget = self.s.producer_sms_budget
        out = OutgoingSms(Source.of(env), message_type, to, budget, _pickup_refs(e), context, lines)
        await self.n.sms(db.PostgresMessages(conn), out)

    # --- producers ---------------------------------------------------------------------------
    async def pickup_scheduled(self, conn, env: Envelope, e: PickupScheduled) -> list:
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, facts = await db.note_pickup(
            conn,
            e.shipment_id,
            scheduled=True,
            window=(e.window_start, e.window_end),
            window_at=env.occurred_at,
        )
        if facts["cancelled"] or before["scheduled"]:
            log.info("sms.pickup_not_announced", cancelled=facts["cancelled"])
            return []
        # A change that came first is newer than this event: the producer hears the final window.
        window = (facts["window_start"], facts["window_end"])
        to = _recipient(e.pickup_contact, timezone_for_country(e.location.country))
        phone = normalise_phone(to.raw, "VN")
        if self.s.digest_window_s > 0 and phone is not None:
            await self._hold_for_digest(conn, env, e, to, phone, window)
        else:
            context = {"ref": e.order_ref, "start": window[0], "end": window[1]}
            await self._pickup_sms(conn, env, e, t.NEW_ORDER, to, context, _lines(e.lines))
        if phone is not None:
            await self._schedule_reminder(conn, env, e, to, phone, window)
        return []

    async def _hold_for_digest(self, conn, env: Envelope, e: PickupScheduled, to, phone, window):
        await db.add_pending_alert(
            conn,
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

    async def _schedule_reminder(self, conn, env: Envelope, e: PickupScheduled, to, phone, window):
        remind_at = window[0] - timedelta(seconds=self.s.reminder_lead_s)
        await db.schedule_reminder(
            conn,
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

    async def _producer_to(self, conn, shipment_id: str, contact: Contact) -> Recipient:
        known = await db.reminder(conn, shipment_id)
        return _recipient(contact, known["tz"] if known else timezone_for_phone(contact.phone))

    async def pickup_rescheduled(self, conn, env: Envelope, e: PickupRescheduled) -> list:
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, facts = await db.note_pickup(
            conn, e.shipment_id, window=(e.window_start, e.window_end), window_at=env.occurred_at
        )
        if facts["cancelled"] or not facts["scheduled"]:
            # Not announced yet: its PickupScheduled will carry this window. Or cancelled.
            log.info("sms.pickup_change_not_sent", cancelled=facts["cancelled"])
            return []
        if before["window_at"] is not None and env.occurred_at <= before["window_at"]:
            log.info("sms.pickup_change_stale")  # a newer window is known and was told
            return []
        to = await self._producer_to(conn, e.shipment_id, e.pickup_contact)
        remind_at = e.window_start - timedelta(seconds=self.s.reminder_lead_s)
        await db.move_reminder(
            conn,
            e.shipment_id,
            window_start=e.window_start,
            window_end=e.window_end,
            remind_at=remind_at,
            source_event_id=env.event_id,
            state="scheduled" if remind_at > self.n.clock() else "skipped",
        )
        context = {"ref": e.order_ref, "start": e.window_start, "end": e.window_end}
        await self._pickup_sms(conn, env, e, t.PICKUP_CHANGED, to, context)
        return []

    async def pickup_cancelled(self, conn, env: Envelope, e: PickupCancelled) -> list:
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, _ = await db.note_pickup(conn, e.shipment_id, cancelled=True)
        if before["cancelled"] or not before["scheduled"]:
            # Told already, or never announced: its PickupScheduled, if it comes, stays silent.
            log.info("sms.pickup_cancellation_not_sent", cancelled_before=before["cancelled"])
            return []
        to = await self._producer_to(conn, e.shipment_id, e.pickup_contact)
        await db.cancel_reminder(conn, e.shipment_id)
        held = await conn.fetchval(
            "DELETE FROM pending_alerts WHERE shipment_id = $1 RETURNING 1", e.shipment_id
        )
        if held:  # the producer never heard of this order: nothing to take back
            log.info("sms.held_alert_withdrawn")
            return []
        context = {"ref": e.order_ref}
        await self._pickup_sms(conn, env, e, t.PICKUP_CANCELLED, to, context)
        return []

    async def low_stock(self, conn, env: Envelope, e: LowStockDetected) -> list:
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
        await self.n.sms(db.PostgresMessages(conn), out)
        return []

    # --- buyers ------------------------------------------------------------------------------
    async def order_placed(self, conn, env: Envelope, e: OrderPlaced) -> list:
        _bind(order_id=e.order_id)
        buyer, address = e.buyer, e.shipping_address
        country = (address.country if address and address.country else "VN").upper()
        phone_raw = (buyer.phone if buyer else None) or (address.phone if address else None)
        email = buyer.email if buyer else None
        if not phone_raw and not email:
            metrics.SKIPPED.labels("OrderPlaced", "no_buyer_contact").inc()
        await db.lock_order(conn, e.order_id)
        # Remembered even without a contact: messages that came first then stop waiting.
        await db.remember_buyer(
            conn,
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
        known = await db.buyer(conn, e.order_id)
        for w in await db.take_waiting_buyer_messages(conn, e.order_id):
            source = Source(w["event_id"], w["correlation_id"], w["event_at"])
            await self._message_buyer(
                conn,
                known,
                source,
                w["event_type"],
                w["message_type"],
                w["context"],
                w["shipment_id"],
                w["promo"],
            )
        return []

    async def _tell_buyer(
        self,
        conn,
        env: Envelope,
        order_id: str,
        message_type: str,
        context: dict[str, Any],
        shipment_id: str | None = None,
        promo: str | None = None,
        source: Source | None = None,
    ) -> list:
        _bind(order_id=order_id, shipment_id=shipment_id)
        source = source or Source.of(env)
        await db.lock_order(conn, order_id)
        buyer = await db.buyer(conn, order_id)
        if buyer is None:
            # Its OrderPlaced, which names the buyer, comes on another topic: wait for it.
            await db.keep_waiting_buyer_message(
                conn,
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
            return []
        await self._message_buyer(
            conn, buyer, source, env.event_type, message_type, context, shipment_id, promo
        )
        return []

    async def _message_buyer(
        self,
        conn,
        buyer,
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
        prefs = await db.preferences(conn, phone) if phone else None
        wants_email = prefs is not None and (prefs["channel"] == "email" or prefs["opted_out"])
        messages = db.PostgresMessages(conn)
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

    async def order_confirmed(self, conn, env: Envelope, e: OrderConfirmed) -> list:
        return await self._tell_buyer(conn, env, e.order_id, t.ORDER_CONFIRMED, {})

    async def order_cancelled(self, conn, env: Envelope, e: OrderCancelled) -> list:
        partial = sum(line.quantity for line in e.lines)
        source = Source.of(env)
        if not e.lines:  # the whole order: its message is the order's, whichever event says so
            source = replace(source, event_id=uuid.uuid5(_WHOLE_ORDER_CANCELLED, e.order_id))
        context = {"partial": partial, "after_pickup": e.after_pickup}
        return await self._tell_buyer(
            conn, env, e.order_id, t.ORDER_CANCELLED, context, source=source
        )

    async def shipment(self, conn, env: Envelope, e: ShipmentEvent) -> list:
        message_type = _SHIPMENT_MESSAGES[type(e)]
        context: dict[str, Any] = {"tracking_url": e.tracking_url or "", "cod": e.cod_amount or 0}
        if e.currency:
            context["currency"] = e.currency
        promo = self.s.delivered_promo if message_type == t.DELIVERED else None
        return await self._tell_buyer(
            conn, env, e.order_id, message_type, context, e.shipment_id, promo
        )
