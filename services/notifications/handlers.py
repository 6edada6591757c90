"""Notification use cases: each event becomes at most one message per (event, message type,
recipient, channel), recorded in the handler's transaction. Sending happens after the commit
(services/notifications/dispatcher.py), except with the `dev` provider, which only records.

Producer: new order (or a digest of several), pickup reminder, pickup changed or cancelled, low
stock. Buyer (remembered from OrderPlaced): confirmed, shipped, out for delivery, delivered,
cancelled, by SMS or email.

Topics keep order per key only, so a fact can come before the one it depends on: a buyer
message before its order's OrderPlaced waits for it, and each pickup's facts (scheduled,
changed, cancelled) are kept together, so the producer hears of the latest window once and
never of a pickup already cancelled. The outcome is the same whichever arrives first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import phonenumbers
import structlog
from jinja2 import TemplateError

from services.notifications import metrics
from services.notifications.adapters import postgres as db
from services.notifications.adapters.providers import SmsRequest
from services.notifications.config import NotificationSettings
from services.notifications.dispatcher import Dispatcher, record_accepted_metrics
from services.notifications.domain import templates as t
from services.notifications.domain.encoding import count_segments
from services.notifications.domain.messages import (
    DigestOrder,
    ProducerAlertLine,
    RenderedSms,
    render_digest,
    render_sms,
    render_subject,
)
from services.notifications.domain.rules import advertising_allowed, advertising_text
from services.notifications.domain.templates import UnknownTemplate
from services.notifications.domain.timezones import timezone_for_country
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
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
from shared.messaging.consumer import PermanentError
from shared.phones import normalise_phone

log = structlog.get_logger(__name__)
# A whole order is cancelled once, but orders may say so twice: when it cancels the order, and
# again when it releases a reservation that reached it after that. Both answer as one source.
_WHOLE_ORDER_CANCELLED = uuid.UUID("3f6d2b8e-9c41-5e7a-b0d2-6a8c4e1f7d93")


@dataclass(frozen=True)
class Source:
    """The event a message answers: its id is part of the dedup key."""

    event_id: uuid.UUID
    correlation_id: str | None
    event_at: datetime

    @classmethod
    def of(cls, env: Envelope) -> Source:
        return cls(env.event_id, env.correlation_id, env.occurred_at)


@dataclass(frozen=True)
class Recipient:
    raw: str
    language: str | None
    diacritics: bool
    tz: str


def timezone_for_phone(phone: str, default: str = "Asia/Ho_Chi_Minh") -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, "VN"))
    except phonenumbers.NumberParseException:
        return default
    return timezone_for_country(region or "", default)


class Notifier:
    """Renders and records messages; the composition root gives it the dispatcher."""

    def __init__(
        self,
        settings: NotificationSettings,
        dispatcher: Dispatcher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.clock = clock

    async def sms(
        self,
        conn: asyncpg.Connection,
        source: Source,
        message_type: str,
        to: Recipient,
        *,
        context: dict[str, Any],
        lines: list[ProducerAlertLine] | None = None,
        budget: int,
        refs: dict[str, str | None],
        rendered: RenderedSms | None = None,
        promo: str | None = None,
    ) -> uuid.UUID | None:
        phone = normalise_phone(to.raw, "VN")
        dedup_key = f"{source.event_id}:{message_type}:{phone or to.raw}:sms"
        try:
            sms = rendered or render_sms(
                message_type, language=to.language, diacritics=to.diacritics, tz=to.tz,
                context=context, lines=lines or [], segment_budget=budget,
            )  # fmt: skip
        except (UnknownTemplate, TemplateError) as exc:  # retrying cannot fix a template
            raise PermanentError(f"template {message_type}: {exc}") from exc
        category, send_at = "transactional", None
        status, reason = "QUEUED", None
        if phone is None:
            status, reason = "FAILED", f"invalid_phone: {to.raw!r} is not a valid number"
        elif (prefs := await db.preferences(conn, phone)) is not None and prefs["opted_out"]:
            status, reason = "SUPPRESSED", "opted_out"
        elif (
            prefs is not None
            and rendered is None
            and (prefs["language"] or prefs["diacritics"] is not None)
        ):  # the recipient's own setting wins over the one the event carries
            to = Recipient(to.raw, prefs["language"] or to.language,
                           to.diacritics if prefs["diacritics"] is None else prefs["diacritics"],
                           to.tz)  # fmt: skip
            sms = render_sms(
                message_type, language=to.language, diacritics=to.diacritics, tz=to.tz,
                context=context, lines=lines or [], segment_budget=budget,
            )  # fmt: skip
        elif promo:
            sms, category, send_at = await self._advertising(conn, phone, to, sms, promo, context,
                                                             message_type, budget)  # fmt: skip
        message = db.NewMessage(
            dedup_key=dedup_key, message_type=message_type, channel="sms",
            recipient=phone or to.raw, language=sms.language, text=sms.text,
            encoding=sms.encoding, segments=sms.segments, provider=self.dispatcher.sms[0].name,
            category=category, status=status, reason=reason, refs=refs, send_at=send_at,
            event_at=source.event_at, correlation_id=source.correlation_id,
        )  # fmt: skip
        message_id = await db.insert_message(conn, message)
        if message_id is None:
            return None
        metrics.SEGMENTS.labels(message_type, sms.encoding).observe(sms.segments)
        if status != "QUEUED":
            metrics.FAILED.labels("none", "sms", reason.split(":")[0] if reason else status).inc()
            log.warning("sms.not_sent", status=status, reason=reason, to=to.raw)
            return message_id
        inline = self.dispatcher.inline
        if inline is not None and send_at is None:
            # Nothing leaves the database with `dev`: its send is this transaction.
            result = await inline.send(SmsRequest(message_id, message.recipient, sms.text))
            await db.record_status(
                conn, message_id, "ACCEPTED", f"recorded by {inline.name}",
                result.provider_message_id,
            )  # fmt: skip
            record_accepted_metrics(
                {"message_type": message_type, "event_at": source.event_at}, inline.name, "sms"
            )
        log.info(
            "sms.recorded", message_id=str(message_id), to=message.recipient,
            encoding=sms.encoding, segments=sms.segments, message_type=message_type,
        )  # fmt: skip
        return message_id

    async def _advertising(self, conn, phone, to, sms, promo, context, message_type, budget):
        """A promotional line makes the message advertising (Decree 91): only within the hours
        and the daily limit, labelled, with opt-out text. Otherwise the customer-care part goes
        alone, at once, rather than waiting for the morning."""
        decision = advertising_allowed(self.clock(), to.tz, await db.ads_sent_last_24h(conn, phone))
        if decision.send_at is None or decision.send_at > self.clock():
            log.info("sms.promotion_dropped", reason=decision.reason)
            return sms, "transactional", None
        with_promo = render_sms(
            message_type, language=to.language, diacritics=to.diacritics, tz=to.tz,
            context={**context, "promo": promo}, segment_budget=budget,
        )  # fmt: skip
        text = advertising_text(with_promo.text, with_promo.language, self.settings.ad_sender)
        measured = count_segments(text)
        ad = RenderedSms(text, measured.encoding, measured.segments, with_promo.language)
        return ad, "advertising", None

    async def email(
        self,
        conn: asyncpg.Connection,
        source: Source,
        message_type: str,
        address: str,
        language: str | None,
        tz: str,
        context: dict[str, Any],
        refs: dict[str, str | None],
    ) -> uuid.UUID | None:
        body = render_sms(message_type, language=language, diacritics=True, tz=tz,
                          context=context, segment_budget=99)  # fmt: skip
        measured = count_segments(body.text)
        return await db.insert_message(
            conn,
            db.NewMessage(
                dedup_key=f"{source.event_id}:{message_type}:{address.lower()}:email",
                message_type=message_type, channel="email", recipient=address,
                language=body.language, text=body.text,
                subject=render_subject(message_type, body.language, context),
                encoding=measured.encoding, segments=measured.segments, provider="smtp",
                refs=refs, event_at=source.event_at, correlation_id=source.correlation_id,
            ),
        )  # fmt: skip


def _bind(**ids: str | None) -> None:
    structlog.contextvars.bind_contextvars(**ids)


def _lines(lines) -> list[ProducerAlertLine]:
    return [ProducerAlertLine(line.name, line.quantity) for line in lines]


class Handlers:
    """One handler per event; each returns no events (notifications publish nothing)."""

    def __init__(self, notifier: Notifier) -> None:
        self.n = notifier
        self.s = notifier.settings

    # --- producers ---------------------------------------------------------------------------
    async def pickup_scheduled(self, conn, env: Envelope, e: PickupScheduled) -> list:
        _bind(order_id=e.order_id, shipment_id=e.shipment_id)
        before, facts = await db.note_pickup(
            conn, e.shipment_id, scheduled=True, window=(e.window_start, e.window_end),
            window_at=env.occurred_at,
        )  # fmt: skip
        if facts["cancelled"] or before["scheduled"]:
            log.info("sms.pickup_not_announced", cancelled=facts["cancelled"])
            return []
        # A change that came first is newer than this event: the producer hears the final window.
        start, end = facts["window_start"], facts["window_end"]
        c = e.pickup_contact
        to = Recipient(c.phone, c.sms_language, c.sms_diacritics,
                       timezone_for_country(e.location.country))  # fmt: skip
        refs = {"producer_id": e.producer_id, "order_id": e.order_id, "shipment_id": e.shipment_id}
        phone = normalise_phone(c.phone, "VN")
        lines = [{"name": ln.name, "quantity": ln.quantity} for ln in e.lines]
        if self.s.digest_window_s > 0 and phone is not None:
            await db.add_pending_alert(
                conn, event_id=env.event_id, recipient=phone, producer_id=e.producer_id,
                order_id=e.order_id, shipment_id=e.shipment_id, order_ref=e.order_ref,
                lines=lines, window_start=start, window_end=end,
                language=c.sms_language, diacritics=c.sms_diacritics, tz=to.tz,
                window_s=self.s.digest_window_s, event_at=env.occurred_at,
                correlation_id=env.correlation_id,
            )  # fmt: skip
        else:
            await self.n.sms(
                conn, Source.of(env), t.NEW_ORDER, to,
                context={"ref": e.order_ref, "start": start, "end": end},
                lines=_lines(e.lines), budget=self.s.producer_sms_budget, refs=refs,
            )  # fmt: skip
        if phone is not None:
            remind_at = start - timedelta(seconds=self.s.reminder_lead_s)
            await db.schedule_reminder(
                conn, shipment_id=e.shipment_id, order_id=e.order_id, order_ref=e.order_ref,
                producer_id=e.producer_id, recipient=phone, language=c.sms_language,
                diacritics=c.sms_diacritics, tz=to.tz, lines=lines,
                window_start=start, window_end=end, remind_at=remind_at,
                source_event_id=env.event_id, correlation_id=env.correlation_id,
                state="scheduled" if remind_at > self.n.clock() else "skipped",
            )  # fmt: skip
        return []

    async def _producer_to(self, conn, shipment_id: str, contact) -> Recipient:
        known = await db.reminder(conn, shipment_id)
        tz = known["tz"] if known else timezone_for_phone(contact.phone)
        return Recipient(contact.phone, contact.sms_language, contact.sms_diacritics, tz)

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
            conn, e.shipment_id, window_start=e.window_start, window_end=e.window_end,
            remind_at=remind_at, source_event_id=env.event_id,
            state="scheduled" if remind_at > self.n.clock() else "skipped",
        )  # fmt: skip
        await self.n.sms(
            conn, Source.of(env), t.PICKUP_CHANGED, to,
            context={"ref": e.order_ref, "start": e.window_start, "end": e.window_end},
            budget=self.s.producer_sms_budget,
            refs={"producer_id": e.producer_id, "order_id": e.order_id,
                  "shipment_id": e.shipment_id},
        )  # fmt: skip
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
        await self.n.sms(
            conn, Source.of(env), t.PICKUP_CANCELLED, to, context={"ref": e.order_ref},
            budget=self.s.producer_sms_budget,
            refs={"producer_id": e.producer_id, "order_id": e.order_id,
                  "shipment_id": e.shipment_id},
        )  # fmt: skip
        return []

    async def low_stock(self, conn, env: Envelope, e: LowStockDetected) -> list:
        # No order in this event: the journey that caused it (its correlation id) is the order's.
        _bind(order_id=env.correlation_id, sku=e.sku)
        c = e.contact
        to = Recipient(c.phone, c.sms_language, c.sms_diacritics, timezone_for_phone(c.phone))
        await self.n.sms(
            conn, Source.of(env), t.LOW_STOCK, to,
            context={"available": e.available, "threshold": e.threshold},
            lines=[ProducerAlertLine(e.product_name, 1)],  # the name, shortened like a line
            budget=self.s.producer_sms_budget, refs={"producer_id": e.producer_id},
        )  # fmt: skip
        return []

    # --- buyers ------------------------------------------------------------------------------
    async def order_placed(self, conn, env: Envelope, e: OrderPlaced) -> list:
        _bind(order_id=e.order_id)
        buyer = e.buyer
        address = e.shipping_address
        country = (address.country if address and address.country else "VN").upper()
        phone_raw = (buyer.phone if buyer else None) or (address.phone if address else None)
        email = buyer.email if buyer else None
        if not phone_raw and not email:
            metrics.SKIPPED.labels("OrderPlaced", "no_buyer_contact").inc()
        await db.lock_order(conn, e.order_id)
        # Remembered even without a contact: messages that came first then stop waiting.
        await db.remember_buyer(
            conn, order_id=e.order_id, order_ref=e.order_ref,
            name=buyer.name if buyer else None,
            # An invalid number is kept as given: its messages then fail with the reason.
            phone=(normalise_phone(phone_raw, country) or phone_raw) if phone_raw else None,
            email=email, language=(buyer.language if buyer else None)
            or ("vi" if country == "VN" else "en"),
            tz=timezone_for_country(country), total=e.total, currency=e.currency,
        )  # fmt: skip
        known = await db.buyer(conn, e.order_id)
        for w in await db.take_waiting_buyer_messages(conn, e.order_id):
            await self._message_buyer(
                conn, known, Source(w["event_id"], w["correlation_id"], w["event_at"]),
                w["event_type"], w["message_type"], w["context"], w["shipment_id"], w["promo"],
            )  # fmt: skip
        return []

    async def _tell_buyer(
        self, conn, env: Envelope, order_id: str, message_type: str, context: dict[str, Any],
        shipment_id: str | None = None, promo: str | None = None, source: Source | None = None,
    ) -> list:  # fmt: skip
        _bind(order_id=order_id, shipment_id=shipment_id)
        source = source or Source.of(env)
        await db.lock_order(conn, order_id)
        buyer = await db.buyer(conn, order_id)
        if buyer is None:
            # Its OrderPlaced, which names the buyer, comes on another topic: wait for it.
            await db.keep_waiting_buyer_message(
                conn, event_id=source.event_id, message_type=message_type,
                event_type=env.event_type, order_id=order_id, shipment_id=shipment_id,
                context=context, promo=promo, event_at=env.occurred_at,
                correlation_id=env.correlation_id,
            )  # fmt: skip
            metrics.WAITING.labels(env.event_type).inc()
            log.info("notify.waiting_for_order")
            return []
        await self._message_buyer(conn, buyer, source, env.event_type, message_type,
                                  context, shipment_id, promo)  # fmt: skip
        return []

    async def _message_buyer(
        self, conn, buyer, source: Source, event_type: str, message_type: str,
        context: dict[str, Any], shipment_id: str | None, promo: str | None,
    ) -> None:  # fmt: skip
        order_id = buyer["order_id"]
        context = {"ref": buyer["order_ref"], "total": buyer["total"],
                   "currency": buyer["currency"], **context}  # fmt: skip
        refs = {"order_id": order_id, "shipment_id": shipment_id}
        phone, email = buyer["phone"], buyer["email"]
        prefs = await db.preferences(conn, phone) if phone else None
        wants_email = prefs is not None and (prefs["channel"] == "email" or prefs["opted_out"])
        if email and self.s.smtp_host and (wants_email or not phone):
            await self.n.email(conn, source, message_type, email, buyer["language"],
                               buyer["tz"], context, refs)  # fmt: skip
        elif phone:
            to = Recipient(phone, buyer["language"], False, buyer["tz"])
            await self.n.sms(conn, source, message_type, to, context=context,
                             budget=self.s.buyer_sms_budget, refs=refs, promo=promo)  # fmt: skip
        else:
            metrics.SKIPPED.labels(event_type, "no_channel").inc()

    async def order_confirmed(self, conn, env: Envelope, e: OrderConfirmed) -> list:
        return await self._tell_buyer(conn, env, e.order_id, t.ORDER_CONFIRMED, {})

    async def order_cancelled(self, conn, env: Envelope, e: OrderCancelled) -> list:
        partial = sum(line.quantity for line in e.lines)
        source = Source.of(env)
        if not e.lines:  # the whole order: its message is the order's, whichever event says so
            source = replace(source, event_id=uuid.uuid5(_WHOLE_ORDER_CANCELLED, e.order_id))
        return await self._tell_buyer(
            conn, env, e.order_id, t.ORDER_CANCELLED,
            {"partial": partial, "after_pickup": e.after_pickup}, source=source,
        )  # fmt: skip

    async def shipment(self, conn, env: Envelope, e: ShipmentEvent) -> list:
        message_type = {
            ShipmentPickedUp: t.SHIPPED,
            ShipmentDispatchedForDelivery: t.OUT_FOR_DELIVERY,
            ShipmentDelivered: t.DELIVERED,
        }[type(e)]
        context: dict[str, Any] = {"tracking_url": e.tracking_url or "", "cod": e.cod_amount or 0}
        if e.currency:
            context["currency"] = e.currency
        promo = self.s.delivered_promo if message_type == t.DELIVERED else None
        return await self._tell_buyer(conn, env, e.order_id, message_type, context,
                                      e.shipment_id, promo)  # fmt: skip


async def flush_digest(conn: asyncpg.Connection, notifier: Notifier) -> int:
    """Turn one producer's held new-order alerts, whose window closed, into one SMS; in the
    caller's transaction, so the alerts are either all in that message or all still held."""
    rows = await db.take_due_digest(conn)
    if not rows:
        return 0
    rows = sorted(rows, key=lambda r: r["id"])
    first = rows[0]
    orders = [
        DigestOrder(r["order_ref"], tuple(ProducerAlertLine(**ln) for ln in json.loads(r["lines"])))
        for r in rows
    ]
    sms = render_digest(
        orders=orders, pickup_start=min(r["window_start"] for r in rows),
        pickup_end=max(r["window_end"] for r in rows), language=first["language"],
        diacritics=first["diacritics"], tz=first["tz"],
        segment_budget=notifier.settings.producer_sms_budget,
    )  # fmt: skip
    source = Source(first["event_id"], first["correlation_id"], min(r["event_at"] for r in rows))
    to = Recipient(first["recipient"], first["language"], first["diacritics"], first["tz"])
    await notifier.sms(
        conn, source, t.NEW_ORDER, to, context={}, budget=notifier.settings.producer_sms_budget,
        refs={"producer_id": first["producer_id"], "order_id": first["order_id"],
              "shipment_id": first["shipment_id"]},
        rendered=sms,
    )  # fmt: skip
    log.info("sms.digest_flushed", orders=len(rows), producer_id=first["producer_id"])
    return len(rows)


async def send_due_reminders(conn: asyncpg.Connection, notifier: Notifier, limit: int = 50) -> int:
    """Pickup reminders whose time came, each recorded as a message in the caller's
    transaction (the reminder is marked sent in the same one)."""
    rows = await db.take_due_reminders(conn, limit)
    for r in rows:
        await notifier.sms(
            conn, Source(r["source_event_id"], r["correlation_id"], r["remind_at"]),
            t.PICKUP_REMINDER,
            Recipient(r["recipient"], r["language"], r["diacritics"], r["tz"]),
            context={"ref": r["order_ref"], "start": r["window_start"], "end": r["window_end"]},
            lines=[ProducerAlertLine(**ln) for ln in json.loads(r["lines"])],
            budget=notifier.settings.producer_sms_budget,
            refs={"producer_id": r["producer_id"], "order_id": r["order_id"],
                  "shipment_id": r["shipment_id"]},
        )  # fmt: skip
    return len(rows)
