"""The notifications service's Prometheus metrics (listed in docs/operations.md, "Metrics", which
the dashboard and alerts read; `channel` tells SMS from email)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SENT = Counter(
    "ovop_sms_sent_total",
    "Messages a provider accepted, by provider, channel and message type.",
    ["provider", "channel", "message_type"],
)
FAILED = Counter(
    "ovop_sms_failed_total",
    "Messages that failed or were suppressed, by provider ('none': never sent) and reason.",
    ["provider", "channel", "reason"],
)
SEND_ATTEMPTS = Counter(
    "ovop_sms_send_attempts_total",
    "Provider calls, by provider and outcome (accepted, retryable, permanent, unknown).",
    ["provider", "outcome"],
)
SEGMENTS = Histogram(
    "ovop_sms_segments",
    "SMS parts per message, by message type and encoding.",
    ["message_type", "encoding"],
    buckets=(1, 2, 3, 4, 5, 6, 8, 10),
)
ACCEPT_LATENCY = Histogram(
    "ovop_notification_latency_seconds",
    "From the event that caused a message to the provider accepting it.",
    ["provider", "channel", "message_type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
DELIVERY_REPORTS = Counter(
    "ovop_sms_delivery_reports_total",
    "Delivery reports received, by provider and the status they report.",
    ["provider", "status"],
)
STATES = Counter(
    "ovop_notification_states_total",
    "Messages entering a status (ACCEPTED, UNKNOWN, SENT, DELIVERED, UNDELIVERED, FAILED...).",
    ["provider", "state"],
)
SKIPPED = Counter(
    "ovop_notifications_skipped_total",
    "Events that produced no message, by reason (no_buyer_contact, no_channel...).",
    ["event_type", "reason"],
)
WAITING = Counter(
    "ovop_notifications_waiting_total",
    "Buyer messages held until their order's OrderPlaced arrives (it came later, on another"
    " topic), by event type.",
    ["event_type"],
)
