-- Logistics: pickup runs (one village's shipments in one wave) and shipments.
-- Invariants:
--   * one shipment per (order, producer);
--   * a shipment belongs to exactly one run, and a run to one hub and one wave;
--   * a pickup window ends after it starts.
CREATE TABLE pickup_runs (
    run_id        text        PRIMARY KEY,
    hub_id        text        NOT NULL,
    wave_id       text        NOT NULL,
    village       text        NOT NULL,
    province      text        NOT NULL,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL CHECK (window_end > window_start),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shipments (
    shipment_id  text        PRIMARY KEY,
    order_id     text        NOT NULL,
    producer_id  text        NOT NULL,
    run_id       text        NOT NULL REFERENCES pickup_runs,
    status       text        NOT NULL DEFAULT 'PICKUP_SCHEDULED',
    weight_g     integer     NOT NULL CHECK (weight_g >= 0),
    lines        jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, producer_id)
);
CREATE INDEX shipments_run ON shipments (run_id);
