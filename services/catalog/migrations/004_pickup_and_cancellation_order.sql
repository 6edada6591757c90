-- A parcel's pickup (ShipmentPickedUp, logistics.shipment.v1) and its order's cancellation
-- (OrderCancelled, orders.order.v1) come on different topics, so either can arrive first.
-- Stock moves as if they had been handled in the order they happened, by their own times: units
-- cancelled before the pickup (or at the same time) stay on the shelf; units cancelled after it
-- had left with the parcel.
-- Invariants added here:
--   I8  a reservation records its parcel's pickup once (picked_up_at, when the carrier took it),
--       and a CONFIRMED reservation has one;
--   I9  every new ledger row says when what caused it happened (event_at: the cancellation's or
--       the pickup's own time; the booking time otherwise). Older rows do not know (NULL).
ALTER TABLE reservations ADD COLUMN picked_up_at timestamptz;
UPDATE reservations SET picked_up_at = updated_at WHERE status = 'CONFIRMED';
ALTER TABLE reservations ADD CONSTRAINT reservations_confirmed_picked_up
    CHECK (status <> 'CONFIRMED' OR picked_up_at IS NOT NULL);

ALTER TABLE stock_ledger ADD COLUMN event_at timestamptz;
ALTER TABLE stock_ledger ALTER COLUMN event_at SET DEFAULT now();
ALTER TABLE stock_ledger ADD CONSTRAINT stock_ledger_event_at_known
    CHECK (event_at IS NOT NULL) NOT VALID;
