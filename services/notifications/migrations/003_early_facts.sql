-- Facts that can arrive before the ones they depend on. A buyer's message about a shipment
-- (logistics.shipment.v1) can come before the order's OrderPlaced (orders.order.v1), which
-- carries the buyer's contact; a pickup's change or cancellation can come before the pickup.
-- Invariants:
--   * a buyer message waits at most once per (event, message type) until its order is known,
--     and becomes its message in the transaction that learns the order (so it is recorded
--     exactly once, under the dedup key of the event that caused it);
--   * one row of facts per pickup (shipment): whether it was scheduled and cancelled, and the
--     window of the latest event that gave one; a cancelled pickup is never announced.
CREATE TABLE waiting_buyer_messages (
    event_id        uuid        NOT NULL,
    message_type    text        NOT NULL,
    event_type      text        NOT NULL,
    order_id        text        NOT NULL,
    shipment_id     text,
    context         jsonb       NOT NULL CHECK (jsonb_typeof(context) = 'object'),
    promo           text,
    event_at        timestamptz NOT NULL,
    correlation_id  text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, message_type)
);
CREATE INDEX waiting_buyer_messages_order ON waiting_buyer_messages (order_id, event_at);

CREATE TABLE pickup_facts (
    shipment_id   text        PRIMARY KEY,
    scheduled     boolean     NOT NULL DEFAULT false,
    cancelled     boolean     NOT NULL DEFAULT false,
    window_start  timestamptz,
    window_end    timestamptz,
    window_at     timestamptz,
    CHECK ((window_start IS NULL) = (window_end IS NULL)
           AND (window_start IS NULL) = (window_at IS NULL)),
    CHECK (window_end > window_start),
    CHECK (NOT scheduled OR window_start IS NOT NULL)
);

-- Pickups announced before this migration: their later changes and cancellations still reach
-- the producer, and any later event's window is newer.
INSERT INTO pickup_facts (shipment_id, scheduled, cancelled, window_start, window_end, window_at)
SELECT shipment_id, true, state = 'cancelled', window_start, window_end, '-infinity'
FROM pickup_reminders
ON CONFLICT (shipment_id) DO NOTHING;
