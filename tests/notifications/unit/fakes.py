"""In-memory fakes of the notifications repositories and unit of work, to drive its use cases
through the bus without a database.

They keep what the tables keep (one message per dedup key, one pickup's facts, held alerts,
reminders, buyers and the messages waiting for them) and leave out what only the database does:
locks, the dispatcher's wake-up, and a rollback of the repositories (the PostgreSQL tests cover
those)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications.adapters.postgres import NewMessage
from services.notifications.adapters.repository import Row
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.domain.reports import advance
from services.notifications.handlers import Handlers
from services.notifications.notifier import Notifier
from shared.messaging.bus import MessageBus
from tests.shared.fake_uow import InMemoryUnitOfWork


@dataclass
class Store:
    """What the notifications database holds, in memory."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    messages: dict[str, NewMessage] = field(default_factory=dict)  # by dedup key
    rows: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # status, timeline
    preferences: dict[str, dict[str, Any]] = field(default_factory=dict)
    pickups: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)
    buyers: dict[str, dict[str, Any]] = field(default_factory=dict)
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def opt_out(self, address: str, opted_out: bool = True) -> None:
        prefs = self.preferences.setdefault(
            address, {"address": address, "language": None, "diacritics": None, "channel": None}
        )
        prefs["opted_out"] = opted_out


class FakeMessages:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def preferences(self, address: str) -> Mapping[str, Any] | None:
        return self.store.preferences.get(address)

    async def ads_sent_last_24h(self, recipient: str) -> int:
        return sum(
            m.recipient == recipient
            and m.category == "advertising"
            and m.status not in ("FAILED", "SUPPRESSED")
            for m in self.store.messages.values()
        )

    async def add(self, message: NewMessage) -> uuid.UUID | None:
        if message.dedup_key in self.store.messages:
            return None
        self.store.messages[message.dedup_key] = message
        message_id = uuid.uuid4()
        self.store.rows[message_id] = {
            "message_id": message_id,
            "provider": message.provider,
            "provider_message_id": None,
            "segments": message.segments,
            "status": message.status,
            "channel": message.channel,
            "recipient": message.recipient,
            "text": message.text,
            "subject": message.subject,
            "encoding": message.encoding,
            "message_type": message.message_type,
            "event_at": message.event_at,
            "correlation_id": message.correlation_id,
            "order_id": message.refs.get("order_id"),
            "shipment_id": message.refs.get("shipment_id"),
            "provider_index": 0,
            "rounds": 0,
            "lease_until": None,
            "parts": {},
            "timeline": [message.status],
        }
        return message_id


class FakeNotifications:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._ids = iter(range(1, 1_000_000))

    async def note_pickup(
        self,
        shipment_id: str,
        *,
        scheduled: bool = False,
        cancelled: bool = False,
        window: tuple[datetime, datetime] | None = None,
        window_at: datetime | None = None,
    ) -> tuple[Row, Row]:
        facts = self.store.pickups.setdefault(
            shipment_id,
            {
                "shipment_id": shipment_id,
                "scheduled": False,
                "cancelled": False,
                "window_start": None,
                "window_end": None,
                "window_at": None,
            },
        )
        before = dict(facts)
        facts["scheduled"] = facts["scheduled"] or scheduled
        facts["cancelled"] = facts["cancelled"] or cancelled
        if window is not None and (
            before["window_at"] is None or (window_at and window_at > before["window_at"])
        ):
            facts["window_start"], facts["window_end"] = window
            facts["window_at"] = window_at
        return before, dict(facts)

    async def add_pending_alert(self, **alert: Any) -> datetime | None:
        held = [a for a in self.store.pending if a["recipient"] == alert["recipient"]]
        if any(a["event_id"] == alert["event_id"] for a in held):
            return None
        due = min(
            (a["due_at"] for a in held),
            default=self.store.now() + timedelta(seconds=alert["window_s"]),
        )
        row = {k: v for k, v in alert.items() if k != "window_s"}
        row |= {"id": next(self._ids), "lines": json.dumps(alert["lines"]), "due_at": due}
        self.store.pending.append(row)
        return due

    async def withdraw_pending_alert(self, shipment_id: str) -> bool:
        before = len(self.store.pending)
        self.store.pending = [a for a in self.store.pending if a["shipment_id"] != shipment_id]
        return len(self.store.pending) < before

    async def take_due_digest(self) -> Sequence[Row]:
        due = sorted(
            (a for a in self.store.pending if a["due_at"] <= self.store.now()),
            key=lambda a: a["due_at"],
        )
        if not due:
            return []
        recipient = due[0]["recipient"]
        taken = [a for a in self.store.pending if a["recipient"] == recipient]
        self.store.pending = [a for a in self.store.pending if a["recipient"] != recipient]
        return taken

    async def schedule_reminder(self, **reminder: Any) -> None:
        row = reminder | {"lines": json.dumps(reminder["lines"])}
        self.store.reminders.setdefault(reminder["shipment_id"], row)

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
        row = self.store.reminders.get(shipment_id)
        if row is None or row["state"] == "cancelled":
            return None
        row.update(
            window_start=window_start,
            window_end=window_end,
            remind_at=remind_at,
            state=state,
            source_event_id=source_event_id,
        )
        return dict(row)

    async def cancel_reminder(self, shipment_id: str) -> Row | None:
        row = self.store.reminders.get(shipment_id)
        if row is not None:
            row["state"] = "cancelled"
        return row

    async def reminder(self, shipment_id: str) -> Row | None:
        return self.store.reminders.get(shipment_id)

    async def take_due_reminders(self, limit: int) -> Sequence[Row]:
        due = sorted(
            (
                r
                for r in self.store.reminders.values()
                if r["state"] == "scheduled" and r["remind_at"] <= self.store.now()
            ),
            key=lambda r: r["remind_at"],
        )[:limit]
        for r in due:
            r["state"] = "sent"
        return due

    async def lock_order(self, order_id: str) -> None:
        return None

    async def remember_buyer(self, **buyer: Any) -> None:
        self.store.buyers.setdefault(buyer["order_id"], buyer)

    async def buyer(self, order_id: str) -> Row | None:
        return self.store.buyers.get(order_id)

    async def keep_waiting_buyer_message(self, **message: Any) -> None:
        if not any(
            w["event_id"] == message["event_id"] and w["message_type"] == message["message_type"]
            for w in self.store.waiting
        ):
            self.store.waiting.append(message)

    async def take_waiting_buyer_messages(self, order_id: str) -> Sequence[Row]:
        taken = [w for w in self.store.waiting if w["order_id"] == order_id]
        self.store.waiting = [w for w in self.store.waiting if w["order_id"] != order_id]
        return sorted(taken, key=lambda w: w["event_at"])

    async def message(self, message_id: uuid.UUID) -> Row | None:
        return self.store.rows.get(message_id)

    async def message_by_provider_id(self, provider: str, provider_message_id: str) -> Row | None:
        return next(
            (
                r
                for r in self.store.rows.values()
                if (r["provider"], r["provider_message_id"]) == (provider, provider_message_id)
            ),
            None,
        )

    async def settle_provider_message_id(
        self, message_id: uuid.UUID, provider_message_id: str
    ) -> None:
        self.store.rows[message_id]["provider_message_id"] = provider_message_id

    async def record_part(self, message_id: uuid.UUID, part: int, status: str) -> dict[int, str]:
        parts = self.store.rows[message_id]["parts"]
        parts[part] = status
        return dict(parts)

    async def report_status(
        self, message_id: uuid.UUID, reported: str, detail: str | None
    ) -> tuple[str, str]:
        row = self.store.rows[message_id]
        before = row["status"]
        row["status"] = advance(before, reported)
        row["timeline"].append(reported)
        return before, row["status"]

    async def set_opted_out(self, address: str, opted_out: bool) -> None:
        self.store.opt_out(address, opted_out)

    def _sending(self, rows: list[dict[str, Any]], lease_s: float) -> list[dict[str, Any]]:
        for r in rows:
            r["status"], r["lease_until"] = "SENDING", self.store.now() + timedelta(seconds=lease_s)
            r["timeline"].append("SENDING")
        return [dict(r) for r in rows]

    async def claim_due(self, limit: int, lease_s: float) -> Sequence[Row]:
        due = [r for r in self.store.rows.values() if r["status"] in ("QUEUED", "RETRYING")]
        return self._sending(due[:limit], lease_s)

    async def claim_interrupted(self, limit: int, lease_s: float) -> Sequence[Row]:
        now = self.store.now()
        lapsed = [
            r
            for r in self.store.rows.values()
            if r["status"] == "SENDING" and r["lease_until"] < now
        ]
        return self._sending(lapsed[:limit], lease_s)

    async def switch_provider(
        self, message_id: uuid.UUID, index: int, name: str, detail: str
    ) -> None:
        self.store.rows[message_id].update(provider_index=index, provider=name)

    async def retry_later(self, message_id: uuid.UUID, delay_s: float, detail: str) -> None:
        row = self.store.rows[message_id]
        row.update(status="RETRYING", rounds=row["rounds"] + 1, provider_index=0)
        row["timeline"].append("RETRYING")

    async def record_status(
        self,
        message_id: uuid.UUID,
        status: str,
        detail: str | None,
        provider_message_id: str | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        row = self.store.rows[message_id]
        row["status"] = status
        row["provider_message_id"] = provider_message_id or row["provider_message_id"]
        row["timeline"].append(status)


class FakeUnitOfWork(InMemoryUnitOfWork, NotificationsUnitOfWork):
    """The fake inbox keeps only what a commit claimed, as the database does; the repositories
    are not rolled back. Notifications raises no event: `outbox` stays empty."""

    def __init__(self, store: Store | None = None) -> None:
        super().__init__("notifications")
        self.store = store or Store()
        self.messages = FakeMessages(self.store)
        self.notifications = FakeNotifications(self.store)


def fake_bus(uow: FakeUnitOfWork, notifier: Notifier) -> MessageBus[NotificationsUnitOfWork]:
    """The service's own bus and handler list, every unit of work being `uow`."""
    return MessageBus(lambda: uow, commands=Handlers(notifier).commands)
