"""Prometheus metrics shared by every service. One process serves one service, so the default
registry is enough; the label `service` keeps a merged scrape readable."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CONSUMED = Counter(
    "ovop_messages_consumed_total",
    "Kafka messages a consumer finished with, by outcome (handled, duplicate, dead_lettered).",
    ["service", "consumer", "topic", "outcome"],
)
MESSAGES_PUBLISHED = Counter(
    "ovop_messages_published_total",
    "Messages the outbox relay published and the broker acknowledged.",
    ["service", "topic"],
)
HANDLER_SECONDS = Histogram(
    "ovop_handler_duration_seconds",
    "Time to handle one message, retries included.",
    ["service", "consumer", "event_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HANDLER_FAILURES = Counter(
    "ovop_handler_failures_total",
    "Failed handler attempts, by reason (an exception class name or a validation reason).",
    ["service", "consumer", "reason"],
)
DEAD_LETTERED = Counter(
    "ovop_dead_lettered_total",
    "Messages sent to a dead-letter topic, by reason.",
    ["service", "consumer", "topic", "reason"],
)
OUTBOX_BACKLOG = Gauge(
    "ovop_outbox_backlog",
    "Outbox rows not yet acknowledged by the broker.",
    ["service"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "ovop_outbox_publish_failures_total",
    "Outbox relay publish attempts that failed (the rows stay and are retried).",
    ["service", "reason"],
)
REQUESTS_REJECTED = Counter(
    "ovop_requests_rejected_total",
    "HTTP requests refused before any change, by endpoint and reason.",
    ["service", "endpoint", "reason"],
)
