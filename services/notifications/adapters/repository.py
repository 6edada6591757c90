"""The notifications repository: what the use cases remember between events (pickups' facts,
held digest alerts, reminders, buyers and the messages waiting for them), inside the unit of
work's transaction. The messages themselves and the recipients' preferences are the notifier's
`Messages` (services/notifications/notifier.py), kept by `PostgresMessages`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from services.notifications.adapters import postgres as db

Row = Mapping[str, Any]


class NotificationsRepository(Protocol):
    async def note_pickup(
        self,
        shipment_id: str,
        *,
        scheduled: bool = False,
        cancelled: bool = False,
        window: tuple[datetime, datetime] | None = None,
        window_at: datetime | None = None,
    ) -> tuple[Row, Row]:
        """Adds one event's facts to its pickup's; the facts before and after."""
        ...

    async def add_pending_alert(self, **alert: Any) -> datetime | None: ...

    async def withdraw_pending_alert(self, shipment_id: str) -> bool:
        """Drops a held new-order alert of this pickup; whether one was held."""
        ...

    async def take_due_digest(self) -> Sequence[Row]: ...

    async def schedule_reminder(self, **reminder: Any) -> None: ...

    async def move_reminder(
        self,
        shipment_id: str,
        *,
        window_start: datetime,
        window_end: datetime,
        remind_at: datetime,
        state: str,
        source_event_id: uuid.UUID,
    ) -> Row | None: ...

    async def cancel_reminder(self, shipment_id: str) -> Row | None: ...

    async def reminder(self, shipment_id: str) -> Row | None: ...

    async def take_due_reminders(self, limit: int) -> Sequence[Row]: ...

    async def lock_order(self, order_id: str) -> None: ...

    async def remember_buyer(self, **buyer: Any) -> None: ...

    async def buyer(self, order_id: str) -> Row | None: ...

    async def keep_waiting_buyer_message(self, **message: Any) -> None: ...

    async def take_waiting_buyer_messages(self, order_id: str) -> Sequence[Row]: ...

    async def message(self, message_id: uuid.UUID) -> Row | None: ...

    async def message_by_provider_id(
        self, provider: str, provider_message_id: str
    ) -> Row | None: ...

    async def settle_provider_message_id(
        self, message_id: uuid.UUID, provider_message_id: str
    ) -> None:
        """The provider's id of a message whose send was interrupted before it was recorded."""
        ...

    async def record_part(self, message_id: uuid.UUID, part: int, status: str) -> dict[int, str]:
        """Keep one part's report; every part's so far."""
        ...

    async def report_status(
        self, message_id: uuid.UUID, reported: str, detail: str | None
    ) -> tuple[str, str]:
        """A delivery report: always on the timeline, the status only moves forward. Returns
        the status before and after."""
        ...

    async def set_opted_out(self, address: str, opted_out: bool) -> None: ...

    async def claim_due(self, limit: int, lease_s: float) -> Sequence[Row]:
        """Messages due to be sent, now SENDING under a lease (commit before sending)."""
        ...

    async def claim_interrupted(self, limit: int, lease_s: float) -> Sequence[Row]:
        """SENDING messages whose sender died (lease expired): to reconcile."""
        ...

    async def switch_provider(
        self, message_id: uuid.UUID, index: int, name: str, detail: str
    ) -> None: ...

    async def retry_later(self, message_id: uuid.UUID, delay_s: float, detail: str) -> None: ...

    async def record_status(
        self,
        message_id: uuid.UUID,
        status: str,
        detail: str | None,
        provider_message_id: str | None = None,
        *,
        reason: str | None = None,
    ) -> None: ...


class PostgresNotifications:
    """The repository on one connection (adapters/postgres.py's tables)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def note_pickup(
        self,
        shipment_id: str,
        *,
        scheduled: bool = False,
        cancelled: bool = False,
        window: tuple[datetime, datetime] | None = None,
        window_at: datetime | None = None,
    ) -> tuple[Row, Row]:
        return await db.note_pickup(
            self.conn,
            shipment_id,
            scheduled=scheduled,
            cancelled=cancelled,
            window=window,
            window_at=window_at,
        )

    async def add_pending_alert(self, **alert: Any) -> datetime | None:
        return await db.add_pending_alert(self.conn, **alert)

    async def withdraw_pending_alert(self, shipment_id: str) -> bool:
        held = await self.conn.fetchval(
            "DELETE FROM pending_alerts WHERE shipment_id = $1 RETURNING 1", shipment_id
        )
        return bool(held)

    async def take_due_digest(self) -> Sequence[Row]:
        return await db.take_due_digest(self.conn)

    async def schedule_reminder(self, **reminder: Any) -> None:
        await db.schedule_reminder(self.conn, **reminder)

    async def move_reminder(
        self,
        shipment_id: str,
        *,
        window_start: datetime,
        window_end: datetime,
        remind_at: datetime,
        state: str,
        source_event_id: uuid.UUID,
    ) -> Row | None:
        return await db.move_reminder(
            self.conn,
            shipment_id,
            window_start=window_start,
            window_end=window_end,
            remind_at=remind_at,
            state=state,
            source_event_id=source_event_id,
        )

    async def cancel_reminder(self, shipment_id: str) -> Row | None:
        return await db.cancel_reminder(self.conn, shipment_id)

    async def reminder(self, shipment_id: str) -> Row | None:
        return await db.reminder(self.conn, shipment_id)

    async def take_due_reminders(self, limit: int) -> Sequence[Row]:
        return await db.take_due_reminders(self.conn, limit)

    async def lock_order(self, order_id: str) -> None:
        await db.lock_order(self.conn, order_id)

    async def remember_buyer(self, **buyer: Any) -> None:
        await db.remember_buyer(self.conn, **buyer)

    async def buyer(self, order_id: str) -> Row | None:
        return await db.buyer(self.conn, order_id)

    async def keep_waiting_buyer_message(self, **message: Any) -> None:
        await db.keep_waiting_buyer_message(self.conn, **message)

    async def take_waiting_buyer_messages(self, order_id: str) -> Sequence[Row]:
        return await db.take_waiting_buyer_messages(self.conn, order_id)

    async def message(self, message_id: uuid.UUID) -> Row | None:
        return await db.get_message(self.conn, message_id)

    async def message_by_provider_id(self, provider: str, provider_message_id: str) -> Row | None:
        return await db.find_by_provider_id(self.conn, provider, provider_message_id)

    async def settle_provider_message_id(
        self, message_id: uuid.UUID, provider_message_id: str
    ) -> None:
        await self.conn.execute(
            "UPDATE sms_messages SET provider_message_id = $2 WHERE message_id = $1",
            message_id,
            provider_message_id,
        )

    async def record_part(self, message_id: uuid.UUID, part: int, status: str) -> dict[int, str]:
        return await db.record_part(self.conn, message_id, part, status)

    async def report_status(
        self, message_id: uuid.UUID, reported: str, detail: str | None
    ) -> tuple[str, str]:
        return await db.report_status(self.conn, message_id, reported, detail)

    async def set_opted_out(self, address: str, opted_out: bool) -> None:
        await db.set_opted_out(self.conn, address, opted_out)

    async def claim_due(self, limit: int, lease_s: float) -> Sequence[Row]:
        return await db.claim_due(self.conn, limit, lease_s)

    async def claim_interrupted(self, limit: int, lease_s: float) -> Sequence[Row]:
        return await db.claim_interrupted(self.conn, limit, lease_s)

    async def switch_provider(
        self, message_id: uuid.UUID, index: int, name: str, detail: str
    ) -> None:
        await db.switch_provider(self.conn, message_id, index, name, detail)

    async def retry_later(self, message_id: uuid.UUID, delay_s: float, detail: str) -> None:
        await db.retry_later(self.conn, message_id, delay_s, detail)

    async def record_status(
        self,
        message_id: uuid.UUID,
        status: str,
        detail: str | None,
        provider_message_id: str | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        await db.record_status(
            self.conn, message_id, status, detail, provider_message_id, reason=reason
        )
