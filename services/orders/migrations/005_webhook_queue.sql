-- Full-order pushes (Shopify, WooCommerce) are acknowledged once verified and stored here; the
-- `apply_webhooks` job turns them into orders (see services/orders/webhook_queue.py). Invariants:
--   * a row is deleted only after the order it carries has been committed (the delete comes
--     after; a crash in between re-applies it, which is a duplicate delivery: a no-op);
--   * a row that cannot become an order stays, with its reason, as a dead-letter entry that
--     no pass takes again; a row that kept failing for other reasons ends there too;
--   * a lease (`leased_until`) lets replicas share the rows and a crashed worker's rows return.
CREATE TABLE webhook_queue (
    id              bigserial   PRIMARY KEY,
    platform        text        NOT NULL,
    account         text        NOT NULL,
    headers         jsonb       NOT NULL,  -- the platform's own (x-...) headers, signature included
    raw_body        bytea       NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    attempts        int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    leased_until    timestamptz NOT NULL DEFAULT '-infinity',
    last_error      text,
    rejected_reason text,
    rejected_at     timestamptz,
    CHECK ((rejected_reason IS NULL) = (rejected_at IS NULL))
    -- No foreign key to channel_accounts: the webhook has just verified the account, and a
    -- key check locks the account's row for every push (all of a shop's pushes on one row).
    -- A push whose account was removed meanwhile is rejected when applied.
);
CREATE INDEX webhook_queue_due ON webhook_queue (id) WHERE rejected_reason IS NULL;
-- A push (a few KB) stays inline and uncompressed: compressing it cost more CPU than it saved,
-- and the row lives only until it is applied.
ALTER TABLE webhook_queue SET (toast_tuple_target = 8160);
