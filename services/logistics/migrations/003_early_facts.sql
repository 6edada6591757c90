-- Facts that can arrive before the shipment they are about: topics keep order per key only, so
-- an order's OrderCancelled (orders.order.v1) can come before its StockReserved
-- (catalog.reservation.v1), and a carrier's update before the one that names our shipment.
-- Invariants:
--   * every cancellation of an order is kept, once per event, whether its shipments exist yet
--     or not; a shipment created later goes through each of them, oldest first;
--   * a carrier update about a shipment not known yet waits, once per (carrier, reference,
--     code, time) like a recorded one, naming a shipment or a tracking number; it is applied,
--     in the carrier's time order with the others, as soon as that shipment is known.
CREATE TABLE order_cancellations (
    event_id      uuid        PRIMARY KEY,
    order_id      text        NOT NULL,
    reason        text        NOT NULL,
    lines         jsonb       NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    after_pickup  boolean     NOT NULL,
    occurred_at   timestamptz NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_cancellations_order ON order_cancellations (order_id, occurred_at);

CREATE TABLE waiting_tracking (
    carrier          text        NOT NULL,
    reference        text        NOT NULL,
    code             text        NOT NULL,
    occurred_at      timestamptz NOT NULL,
    status           text        NOT NULL,
    shipment_id      text,
    tracking_number  text,
    reason           text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (carrier, reference, code, occurred_at),
    CHECK (shipment_id IS NOT NULL OR tracking_number IS NOT NULL)
);
CREATE INDEX waiting_tracking_shipment ON waiting_tracking (shipment_id)
    WHERE shipment_id IS NOT NULL;
CREATE INDEX waiting_tracking_number ON waiting_tracking (carrier, tracking_number)
    WHERE tracking_number IS NOT NULL;
