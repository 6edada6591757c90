-- Seven channels, the full lifecycle, thin pushes waiting for their detail, and stock sync.
-- Invariants:
--   * an order's status is one of the canonical set; ON_HOLD orders carry their reason;
--   * a thin push is persisted (inbound_fetches) before it is acknowledged and stays until its
--     order detail has been fetched and applied: a failing platform API never loses it;
--   * one stock figure per listing, the latest version only (bursts coalesce into one push).
ALTER TABLE channel_accounts ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('ON_HOLD',
    'PENDING_STOCK', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'PICKUP_SCHEDULED', 'SHIPPED',
    'DELIVERED', 'RETURNING', 'RETURNED'));
ALTER TABLE orders ADD COLUMN hold_reason text;
ALTER TABLE orders ADD CONSTRAINT orders_hold_has_reason
    CHECK (status <> 'ON_HOLD' OR hold_reason IS NOT NULL);
ALTER TABLE orders ADD COLUMN producers text[] NOT NULL DEFAULT '{}';
ALTER TABLE orders ADD COLUMN placed_at timestamptz;
-- When the reservation saga gives up waiting for the catalog (PENDING_STOCK only).
ALTER TABLE orders ADD COLUMN stock_deadline timestamptz;
CREATE INDEX orders_by_status ON orders (status, created_at);
CREATE INDEX orders_stock_deadline ON orders (stock_deadline) WHERE status = 'PENDING_STOCK';
CREATE INDEX orders_producers ON orders USING gin (producers);

CREATE TABLE inbound_fetches (
    id              bigserial   PRIMARY KEY,
    platform        text        NOT NULL,
    account         text        NOT NULL,
    external_id     text        NOT NULL,
    delivery_id     text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    order_id        text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    UNIQUE (platform, account, delivery_id),
    CHECK ((state = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX inbound_fetches_due ON inbound_fetches (next_attempt_at) WHERE state = 'pending';

CREATE TABLE listing_stock (
    channel         text        NOT NULL,
    account         text        NOT NULL,
    channel_sku     text        NOT NULL,
    sku             text        NOT NULL,
    available       int         NOT NULL CHECK (available >= 0),
    version         bigint      NOT NULL,
    pushed_version  bigint,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    pushed_at       timestamptz,
    PRIMARY KEY (channel, account, channel_sku),
    CHECK (pushed_version IS NULL OR pushed_version <= version)
);
CREATE INDEX listing_stock_due ON listing_stock (next_attempt_at)
    WHERE pushed_version IS DISTINCT FROM version;
