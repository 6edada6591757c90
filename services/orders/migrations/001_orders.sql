-- Orders: channel accounts, every accepted webhook delivery, canonical orders and their history.
-- Invariants:
--   * a channel account holds one or two secrets (two only during a rotation);
--   * a delivery (platform, account, delivery_id) is accepted once: redeliveries conflict;
--   * an order is identified by (channel, account, external_id); order_id is derived from it;
--   * every status an order takes is in order_status_history, with its source.
CREATE TABLE channel_accounts (
    platform    text        NOT NULL,
    account     text        NOT NULL,
    secrets     text[]      NOT NULL CHECK (cardinality(secrets) BETWEEN 1 AND 2),
    created_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz,
    PRIMARY KEY (platform, account)
);

CREATE TABLE webhook_deliveries (
    platform     text        NOT NULL,
    account      text        NOT NULL,
    delivery_id  text        NOT NULL,
    topic        text,
    order_id     text,
    raw_body     bytea       NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, account, delivery_id),
    FOREIGN KEY (platform, account) REFERENCES channel_accounts ON DELETE RESTRICT
);

CREATE TABLE orders (
    order_id        text        PRIMARY KEY,
    channel         text        NOT NULL,
    account         text        NOT NULL,
    external_id     text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('PENDING_STOCK', 'CONFIRMED',
                        'REJECTED', 'CANCELLED', 'PICKUP_SCHEDULED', 'SHIPPED', 'DELIVERED')),
    channel_status  text,
    channel_updated_at timestamptz NOT NULL,
    canonical       jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, account, external_id)
);

CREATE TABLE order_status_history (
    id          bigserial   PRIMARY KEY,
    order_id    text        NOT NULL REFERENCES orders,
    status      text        NOT NULL,
    reason      text,
    source      text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);
