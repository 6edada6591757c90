-- Logistics planning: the network, parcels as planned per hub-wave, plans with their KPIs,
-- carrier tracking and outbound partner webhooks.
-- Invariants:
--   * a shipment belongs to one hub-wave at a time (run_id is that wave's id); a shipment on
--     hold has a reason and no wave;
--   * one plan state per hub-wave, whose status only moves open -> planned -> dispatched;
--   * a carrier update is stored once per (carrier, reference, code, time);
--   * one outbound delivery per (partner, event).
CREATE TABLE hubs (
    hub_id      text        PRIMARY KEY,
    config      jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE shipments DROP CONSTRAINT shipments_run_id_fkey;
ALTER TABLE shipments ALTER COLUMN run_id DROP NOT NULL;
ALTER TABLE shipments
    ADD COLUMN hub_id           text,
    ADD COLUMN order_ref        text,
    ADD COLUMN volume_ml        integer CHECK (volume_ml >= 0),
    ADD COLUMN parcels          integer NOT NULL DEFAULT 1 CHECK (parcels > 0),
    ADD COLUMN perishable       boolean NOT NULL DEFAULT false,
    ADD COLUMN cod_amount       bigint  NOT NULL DEFAULT 0 CHECK (cod_amount >= 0),
    ADD COLUMN currency         text,
    ADD COLUMN contact          jsonb,
    ADD COLUMN location         jsonb,
    ADD COLUMN shipping_address jsonb,
    ADD COLUMN hold_reason      text,
    ADD COLUMN deferrals        integer NOT NULL DEFAULT 0,
    ADD COLUMN window_start     timestamptz,
    ADD COLUMN window_end       timestamptz,
    ADD COLUMN carrier          text,
    ADD COLUMN tracking_number  text,
    ADD COLUMN carrier_status   text,
    ADD COLUMN status_at        timestamptz,
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT held_with_reason CHECK ((status = 'ON_HOLD') = (hold_reason IS NOT NULL)),
    ADD CONSTRAINT held_outside_waves CHECK (status <> 'ON_HOLD' OR run_id IS NULL);
CREATE INDEX shipments_wave ON shipments (run_id) WHERE status IN ('QUEUED', 'PICKUP_SCHEDULED');
CREATE INDEX shipments_order ON shipments (order_id);
CREATE INDEX shipments_tracking ON shipments (tracking_number) WHERE tracking_number IS NOT NULL;

CREATE TABLE wave_plans (
    wave_id       text        PRIMARY KEY,
    hub_id        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL CHECK (window_end > window_start),
    cutoff_at     timestamptz NOT NULL CHECK (cutoff_at <= window_start),
    status        text        NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'cutoff_queued', 'planned', 'dispatched')),
    plan          jsonb       NOT NULL DEFAULT '{"routes": []}',
    plan_id       text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wave_plans_due ON wave_plans (cutoff_at) WHERE status = 'open';

CREATE TABLE plans (
    plan_id        text        PRIMARY KEY,
    hub_id         text        NOT NULL,
    wave_id        text        NOT NULL REFERENCES wave_plans,
    plan           jsonb       NOT NULL,
    kpis           jsonb       NOT NULL,
    solve_seconds  real        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plans_hub_day ON plans (hub_id, created_at);

CREATE TABLE tracking_events (
    carrier          text        NOT NULL,
    reference        text        NOT NULL,
    code             text        NOT NULL,
    occurred_at      timestamptz NOT NULL,
    shipment_id      text        NOT NULL REFERENCES shipments,
    status           text        NOT NULL,
    applied          boolean     NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (carrier, reference, code, occurred_at)
);

CREATE TABLE partner_deliveries (
    id               bigserial   PRIMARY KEY,
    partner          text        NOT NULL,
    url              text        NOT NULL,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    topic            text        NOT NULL,
    event_key        text        NOT NULL,
    body             bytea       NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner, event_id)
);
CREATE INDEX partner_deliveries_due ON partner_deliveries (next_attempt_at)
    WHERE status = 'pending';
