"""Notification use cases: a scheduled pickup tells the producer what to prepare and when."""

from __future__ import annotations

import asyncpg
import structlog

from services.notifications.adapters import postgres as db
from services.notifications.adapters.providers import SmsProvider, SmsRequest
from services.notifications.domain.messages import ProducerAlertLine, render_new_order_alert
from services.notifications.domain.timezones import timezone_for_country
from shared.contracts.envelope import Envelope
from shared.contracts.events import PickupScheduled

NEW_ORDER_ALERT = "producer.new_order"


def alert_producer(provider: SmsProvider):
    async def handle(conn: asyncpg.Connection, env: Envelope, event: PickupScheduled):
        structlog.contextvars.bind_contextvars(
            order_id=event.order_id, shipment_id=event.shipment_id
        )
        contact = event.pickup_contact
        sms = render_new_order_alert(
            order_ref=event.order_ref,
            lines=[ProducerAlertLine(line.name, line.quantity) for line in event.lines],
            pickup_start=event.window_start,
            pickup_end=event.window_end,
            language=contact.sms_language,
            diacritics=contact.sms_diacritics,
            tz=timezone_for_country(event.location.country),
        )
        # One message per (event, type, recipient, channel), whatever the redeliveries.
        dedup_key = f"{env.event_id}:{NEW_ORDER_ALERT}:{contact.phone}:sms"
        message_id = await db.insert_message(
            conn,
            dedup_key=dedup_key,
            message_type=NEW_ORDER_ALERT,
            recipient=contact.phone,
            sms=sms,
            provider=provider.name,
            refs={
                "producer_id": event.producer_id,
                "order_id": event.order_id,
                "shipment_id": event.shipment_id,
            },
        )
        if message_id is None:
            return []
        result = await provider.send(SmsRequest(message_id, contact.phone, sms.text))
        status = {"accepted": "ACCEPTED", "unknown": "UNKNOWN"}.get(result.outcome, "FAILED")
        await db.record_status(conn, message_id, status, result.detail, result.provider_message_id)
        structlog.get_logger(__name__).info(
            "sms.recorded",
            message_id=str(message_id),
            to=contact.phone,
            status=status,
            encoding=sms.encoding,
            segments=sms.segments,
        )
        return []

    return handle
