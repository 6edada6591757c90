"""The notifications service's tables (inside the caller's transaction)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from services.notifications.domain.reports import advance

DISPATCH_CHANNEL = "notifications_dispatch"


@dataclass(frozen=True)
class NewMessage:
    dedup_key: str
    message_type: str
    channel: str  # sms | email
    recipient: str
    language: str
    text: str
    encoding: str
    segments: int
    provider: str
    category: str = "transactional"
    subject: str | None = None
    status: str = "QUEUED"  # or FAILED / SUPPRESSED with a reason, never sent
    reason: str | None = None
    refs: dict[str, str | None] = field(default_factory=dict)
    event_at: datetime | None = None
    correlation_id: str | None = None


async def insert_message(conn: asyncpg.Connection, m: NewMessage) -> uuid.UUID | None:
    """The new message's id, or None when this dedup key was recorded before."""
    message_id = uuid.uuid4()
    inserted = await conn.fetchval(
        """INSERT INTO sms_messages (message_id, dedup_key, message_type, category, channel,
               recipient, producer_id, order_id, shipment_id, language, text, subject, encoding,
               segments, provider, status, reason, event_at, correlation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   $18, $19)
           ON CONFLICT (dedup_key) DO NOTHING RETURNING 1""",
        message_id,
        m.dedup_key,
        m.message_type,
        m.category,
        m.channel,
        m.recipient,
        m.refs.get("producer_id"),
        m.refs.get("order_id"),
        m.refs.get("shipment_id"),
        m.language,
        m.text,
        m.subject,
        m.encoding,
        m.segments,
        m.provider,
        m.status,
        m.reason,
        m.event_at,
        m.correlation_id,
    )
    if inserted is None:
        return None
    await _history(conn, message_id, m.status, m.reason)
    if m.status == "QUEUED":
        await conn.execute("SELECT pg_notify($1, '')", DISPATCH_CHANNEL)
    return message_id


class PostgresMessages:
    """The notifier's view of this database (services.notifications.notifier.Messages), inside
    the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def preferences(self, address: str) -> asyncpg.Record | None:
        return await preferences(self.conn, address)

    async def ads_sent_last_24h(self, recipient: str) -> int:
        return await ads_sent_last_24h(self.conn, recipient)

    async def add(self, message: NewMessage) -> uuid.UUID | None:
        return await insert_message(self.conn, message)


async def _history(
    conn: asyncpg.Connection, message_id: uuid.UUID, status: str, detail: str | None
) -> None:
    await conn.execute(
        "INSERT INTO sms_status_history (message_id, status, detail) VALUES ($1, $2, $3)",
        message_id,
        status,
        detail,
    )


async def record_status(
    conn: asyncpg.Connection,
    message_id: uuid.UUID,
    status: str,
    detail: str | None,
    provider_message_id: str | None = None,
    *,
    reason: str | None = None,
) -> None:
    """Set the status (dispatcher transitions, which may go back to RETRYING) and log it."""
    await conn.execute(
        """UPDATE sms_messages SET status = $2, updated_at = now(), lease_until = NULL,
               provider_message_id = coalesce($3, provider_message_id),
               reason = coalesce($4, reason),
               accepted_at = CASE WHEN $2 = 'ACCEPTED' THEN now() ELSE accepted_at END
           WHERE message_id = $1""",
        message_id,
        status,
        provider_message_id,
        reason,
    )
    await _history(conn, message_id, status, detail)


async def report_status(
    conn: asyncpg.Connection, message_id: uuid.UUID, reported: str, detail: str | None
) -> tuple[str, str]:
    """A delivery report: the timeline always records it; the status only moves forward.
    Returns (previous, new) status."""
    current = await conn.fetchval(
        "SELECT status FROM sms_messages WHERE message_id = $1 FOR UPDATE", message_id
    )
    new = advance(current, reported)
    if new != current:
        await conn.execute(
            "UPDATE sms_messages SET status = $2, updated_at = now(), lease_until = NULL "
            "WHERE message_id = $1",
            message_id,
            new,
        )
    await _history(conn, message_id, reported, detail)
    return current, new


_CLAIM = """
    UPDATE sms_messages m SET status = 'SENDING', attempts = m.attempts + 1,
           lease_until = now() + make_interval(secs => $2), updated_at = now()
    WHERE m.message_id IN (
        SELECT message_id FROM sms_messages
        WHERE status IN ('QUEUED', 'RETRYING') AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING m.*"""
_CLAIM_INTERRUPTED = """
    UPDATE sms_messages m SET lease_until = now() + make_interval(secs => $2), updated_at = now()
    WHERE m.message_id IN (
        SELECT message_id FROM sms_messages
        WHERE status = 'SENDING' AND lease_until < now()
        ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING m.*"""


async def claim_due(conn: asyncpg.Connection, limit: int, lease_s: float) -> list[asyncpg.Record]:
    """Messages due to be sent, now SENDING under a lease (commit before sending)."""
    rows = await conn.fetch(_CLAIM, limit, lease_s)
    for r in rows:
        await _history(conn, r["message_id"], "SENDING", f"via {r['provider']}")
    return rows


async def claim_interrupted(
    conn: asyncpg.Connection, limit: int, lease_s: float
) -> list[asyncpg.Record]:
    """SENDING messages whose sender died (lease expired): to reconcile, not to resend blindly."""
    return await conn.fetch(_CLAIM_INTERRUPTED, limit, lease_s)


async def switch_provider(
    conn: asyncpg.Connection, message_id: uuid.UUID, index: int, name: str, detail: str
) -> None:
    await conn.execute(
        "UPDATE sms_messages SET provider_index = $2, provider = $3, updated_at = now() "
        "WHERE message_id = $1",
        message_id,
        index,
        name,
    )
    await _history(conn, message_id, "SENDING", detail)


async def retry_later(
    conn: asyncpg.Connection, message_id: uuid.UUID, delay_s: float, detail: str
) -> None:
    """Back to the queue for another round through the chain, from its first provider."""
    await conn.execute(
        """UPDATE sms_messages SET status = 'RETRYING', lease_until = NULL, rounds = rounds + 1,
               provider_index = 0, next_attempt_at = now() + make_interval(secs => $2),
               updated_at = now()
           WHERE message_id = $1""",
        message_id,
        delay_s,
    )
    await _history(conn, message_id, "RETRYING", detail)


async def find_by_provider_id(
    conn: asyncpg.Connection, provider: str, provider_message_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM sms_messages WHERE provider = $1 AND provider_message_id = $2",
        provider,
        provider_message_id,
    )


async def get_message(conn: asyncpg.Connection, message_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM sms_messages WHERE message_id = $1", message_id)


async def record_part(
    conn: asyncpg.Connection, message_id: uuid.UUID, part: int, status: str
) -> dict[int, str]:
    """Keep one part's report (a later report of the same part replaces it); all parts so far."""
    await conn.execute(
        """INSERT INTO sms_part_reports (message_id, part, status) VALUES ($1, $2, $3)
           ON CONFLICT (message_id, part) DO UPDATE SET status = excluded.status, at = now()""",
        message_id,
        part,
        status,
    )
    rows = await conn.fetch(
        "SELECT part, status FROM sms_part_reports WHERE message_id = $1", message_id
    )
    return {r["part"]: r["status"] for r in rows}


async def list_messages(
    conn: asyncpg.Connection, limit: int = 50, status: str | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT message_id, message_type, category, channel, recipient, order_id, shipment_id,
                  language, text, encoding, segments, provider, provider_message_id, status,
                  reason, created_at
           FROM sms_messages WHERE ($2::text IS NULL OR status = $2)
           ORDER BY created_at DESC LIMIT $1""",
        limit,
        status,
    )
    return [dict(r) for r in rows]


async def message_details(conn: asyncpg.Connection, message_id: uuid.UUID) -> dict | None:
    row = await get_message(conn, message_id)
    if row is None:
        return None
    history = await conn.fetch(
        "SELECT status, detail, at FROM sms_status_history WHERE message_id = $1 ORDER BY id",
        message_id,
    )
    parts = await conn.fetch(
        "SELECT part, status, at FROM sms_part_reports WHERE message_id = $1 ORDER BY part",
        message_id,
    )
    return {
        **{k: v for k, v in dict(row).items() if k not in ("lease_until",)},
        "timeline": [dict(h) for h in history],
        "parts": [dict(p) for p in parts],
    }


async def preferences(conn: asyncpg.Connection, address: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM recipient_preferences WHERE address = $1", address)


async def set_opted_out(conn: asyncpg.Connection, address: str, opted_out: bool) -> None:
    await conn.execute(
        """INSERT INTO recipient_preferences (address, opted_out) VALUES ($1, $2)
           ON CONFLICT (address) DO UPDATE SET opted_out = $2, updated_at = now()""",
        address,
        opted_out,
    )


async def set_preferences(
    conn: asyncpg.Connection,
    address: str,
    *,
    language: str | None = None,
    diacritics: bool | None = None,
    channel: str | None = None,
) -> asyncpg.Record:
    """Set the given preferences (None leaves one as it is)."""
    return await conn.fetchrow(
        """INSERT INTO recipient_preferences (address, language, diacritics, channel)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (address) DO UPDATE SET
               language = coalesce($2, recipient_preferences.language),
               diacritics = coalesce($3, recipient_preferences.diacritics),
               channel = coalesce($4, recipient_preferences.channel), updated_at = now()
           RETURNING *""",
        address,
        language,
        diacritics,
        channel,
    )


async def ads_sent_last_24h(conn: asyncpg.Connection, recipient: str) -> int:
    return await conn.fetchval(
        """SELECT count(*) FROM sms_messages WHERE recipient = $1 AND category = 'advertising'
               AND created_at > now() - interval '24 hours'
               AND status NOT IN ('FAILED', 'SUPPRESSED')""",
        recipient,
    )


async def remember_buyer(conn: asyncpg.Connection, **buyer: Any) -> None:
    await conn.execute(
        """INSERT INTO buyers (order_id, order_ref, name, phone, email, language, tz, total,
               currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (order_id) DO NOTHING""",
        buyer["order_id"],
        buyer["order_ref"],
        buyer["name"],
        buyer["phone"],
        buyer["email"],
        buyer["language"],
        buyer["tz"],
        buyer["total"],
        buyer["currency"],
    )


async def buyer(conn: asyncpg.Connection, order_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM buyers WHERE order_id = $1", order_id)


async def add_pending_alert(conn: asyncpg.Connection, **alert: Any) -> datetime | None:
    """Hold a new-order alert for its producer's digest; due when the first held one is."""
    return await conn.fetchval(
        """INSERT INTO pending_alerts (event_id, recipient, producer_id, order_id, shipment_id,
               order_ref, lines, window_start, window_end, language, diacritics, tz, due_at,
               event_at, correlation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                   coalesce((SELECT min(due_at) FROM pending_alerts WHERE recipient = $2),
                            now() + make_interval(secs => $13)), $14, $15)
           ON CONFLICT (event_id, recipient) DO NOTHING RETURNING due_at""",
        alert["event_id"],
        alert["recipient"],
        alert["producer_id"],
        alert["order_id"],
        alert["shipment_id"],
        alert["order_ref"],
        json.dumps(alert["lines"]),
        alert["window_start"],
        alert["window_end"],
        alert["language"],
        alert["diacritics"],
        alert["tz"],
        alert["window_s"],
        alert["event_at"],
        alert["correlation_id"],
    )


async def take_due_digest(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """One producer's held alerts whose digest window closed, deleted in the caller's
    transaction (so they turn into exactly one message, or stay held)."""
    recipient = await conn.fetchval(
        """SELECT recipient FROM pending_alerts WHERE due_at <= now()
           ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED"""
    )
    if recipient is None:
        return []
    return await conn.fetch(
        "DELETE FROM pending_alerts WHERE recipient = $1 RETURNING * ", recipient
    )


async def schedule_reminder(conn: asyncpg.Connection, **r: Any) -> None:
    await conn.execute(
        """INSERT INTO pickup_reminders (shipment_id, order_id, order_ref, producer_id, recipient,
               language, diacritics, tz, lines, window_start, window_end, remind_at,
               source_event_id, correlation_id, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (shipment_id) DO NOTHING""",
        r["shipment_id"],
        r["order_id"],
        r["order_ref"],
        r["producer_id"],
        r["recipient"],
        r["language"],
        r["diacritics"],
        r["tz"],
        json.dumps(r["lines"]),
        r["window_start"],
        r["window_end"],
        r["remind_at"],
        r["source_event_id"],
        r["correlation_id"],
        r["state"],
    )


async def move_reminder(
    conn: asyncpg.Connection,
    shipment_id: str,
    *,
    window_start: datetime,
    window_end: datetime,
    remind_at: datetime,
    state: str,
    source_event_id: uuid.UUID,
) -> asyncpg.Record | None:
    """The reminder of a rescheduled pickup: a new window, to be reminded again."""
    return await conn.fetchrow(
        """UPDATE pickup_reminders SET window_start = $2, window_end = $3, remind_at = $4,
               state = $5, source_event_id = $6
           WHERE shipment_id = $1 AND state <> 'cancelled' RETURNING *""",
        shipment_id,
        window_start,
        window_end,
        remind_at,
        state,
        source_event_id,
    )


async def cancel_reminder(conn: asyncpg.Connection, shipment_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE pickup_reminders SET state = 'cancelled' WHERE shipment_id = $1 RETURNING *",
        shipment_id,
    )


async def reminder(conn: asyncpg.Connection, shipment_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM pickup_reminders WHERE shipment_id = $1", shipment_id)


async def take_due_reminders(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """UPDATE pickup_reminders SET state = 'sent' WHERE shipment_id IN (
               SELECT shipment_id FROM pickup_reminders
               WHERE state = 'scheduled' AND remind_at <= now()
               ORDER BY remind_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING *""",
        limit,
    )


async def lock_order(conn: asyncpg.Connection, order_id: str) -> None:
    """An order's OrderPlaced and the buyer messages about it take turns, so each sees what the
    other committed: a message either finds the buyer or waits where OrderPlaced will find it.
    Namespaced so other services' keys on the same text cannot collide."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('notifications.order:' || $1, 0))",
        order_id,
    )


async def keep_waiting_buyer_message(conn: asyncpg.Connection, **m: Any) -> None:
    await conn.execute(
        """INSERT INTO waiting_buyer_messages (event_id, message_type, event_type, order_id,
               shipment_id, context, promo, event_at, correlation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
        m["event_id"],
        m["message_type"],
        m["event_type"],
        m["order_id"],
        m["shipment_id"],
        m["context"],
        m["promo"],
        m["event_at"],
        m["correlation_id"],
    )


async def take_waiting_buyer_messages(
    conn: asyncpg.Connection, order_id: str
) -> list[asyncpg.Record]:
    """The order's waiting buyer messages, oldest event first, removed in the caller's
    transaction (so each becomes its message exactly once, or keeps waiting)."""
    rows = await conn.fetch(
        "DELETE FROM waiting_buyer_messages WHERE order_id = $1 RETURNING *", order_id
    )
    return sorted(rows, key=lambda r: (r["event_at"], r["received_at"]))


async def note_pickup(
    conn: asyncpg.Connection,
    shipment_id: str,
    *,
    scheduled: bool = False,
    cancelled: bool = False,
    window: tuple[datetime, datetime] | None = None,
    window_at: datetime | None = None,
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """Adds one event's facts to its pickup's; returns the facts before and after. A window
    replaces the known one only when its event is newer."""
    await conn.execute(
        "INSERT INTO pickup_facts (shipment_id) VALUES ($1) ON CONFLICT DO NOTHING", shipment_id
    )
    before = await conn.fetchrow(
        "SELECT * FROM pickup_facts WHERE shipment_id = $1 FOR UPDATE", shipment_id
    )
    start, end = window or (None, None)
    after = await conn.fetchrow(
        """UPDATE pickup_facts SET scheduled = scheduled OR $2, cancelled = cancelled OR $3,
               window_start = CASE WHEN $6 THEN $4 ELSE window_start END,
               window_end = CASE WHEN $6 THEN $5 ELSE window_end END,
               window_at = CASE WHEN $6 THEN $7 ELSE window_at END
           WHERE shipment_id = $1 RETURNING *""",
        shipment_id,
        scheduled,
        cancelled,
        start,
        end,
        window is not None and (before["window_at"] is None or window_at > before["window_at"]),
        window_at,
    )
    return before, after
