-- Catalog: producers, products, channel listings, stock, its ledger and order reservations.
-- Invariants, enforced here so that no code path can break them:
--   I1  stock_items: 0 <= reserved <= on_hand (nothing is ever oversold or negative).
--   I2  stock_ledger is append-only (UPDATE, DELETE and TRUNCATE raise), and stock_items
--       changes only by appending to it: a trigger applies each row's deltas, and direct
--       writes to on_hand/reserved raise. So, per SKU, on_hand = SUM(delta_on_hand) and
--       reserved = SUM(delta_reserved), always.
--   I3  reservations: one row per (order_id, sku), quantity > 0, a known status.
--   I4  money is integer minor units plus an ISO 4217 code; weights and volumes are positive;
--       an OCOP producer carries 3-5 stars, OTOP 1-5 or none, OVOP none.

CREATE TABLE producers (
    producer_id    text PRIMARY KEY CHECK (producer_id ~ '^PRD-[A-Z]{2}-[0-9]{3}$'),
    name           text NOT NULL CHECK (name <> ''),
    kind           text NOT NULL CHECK (kind IN ('cooperative', 'household', 'enterprise')),
    village        text NOT NULL,
    ward           text,
    district       text,
    province       text NOT NULL,
    country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    lat            double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon            double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    pickup_notes   text NOT NULL DEFAULT '',
    phone          text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    languages      text[] NOT NULL CHECK (cardinality(languages) > 0),
    sms_language   text NOT NULL,
    sms_diacritics boolean NOT NULL DEFAULT false,
    programme      text NOT NULL CHECK (programme IN ('OCOP', 'OVOP', 'OTOP')),
    stars          smallint,
    story          jsonb NOT NULL CHECK (story ? 'vi' AND story ? 'en'),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE programme
               WHEN 'OCOP' THEN stars IS NOT NULL AND stars BETWEEN 3 AND 5  -- NULL would pass
               WHEN 'OTOP' THEN stars IS NULL OR stars BETWEEN 1 AND 5
               ELSE stars IS NULL
           END)
);

CREATE TABLE products (
    sku         text PRIMARY KEY CHECK (sku ~ '^[A-Z0-9]+(-[A-Z0-9]+)+$'),
    producer_id text NOT NULL REFERENCES producers,
    names       jsonb NOT NULL CHECK (names ? 'vi' AND names ? 'en'),
    price       bigint NOT NULL CHECK (price >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    weight_g    integer NOT NULL CHECK (weight_g > 0),
    volume_ml   integer CHECK (volume_ml > 0),
    perishable  boolean NOT NULL DEFAULT false,
    story       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_producer_idx ON products (producer_id);

-- How a sales channel's account names our product (e.g. a Shopify variant SKU).
CREATE TABLE channel_listings (
    channel     text NOT NULL CHECK (channel ~ '^[a-z][a-z0-9_]*$'),
    account     text NOT NULL CHECK (account <> ''),
    channel_sku text NOT NULL CHECK (channel_sku <> ''),
    sku         text NOT NULL REFERENCES products,
    PRIMARY KEY (channel, account, channel_sku)
);

CREATE TABLE stock_items (
    sku      text PRIMARY KEY REFERENCES products,
    on_hand  integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    CHECK (reserved <= on_hand)
);

CREATE TABLE stock_ledger (
    id             bigserial PRIMARY KEY,
    sku            text NOT NULL REFERENCES stock_items,
    delta_on_hand  integer NOT NULL,
    delta_reserved integer NOT NULL,
    reason         text NOT NULL
                   CHECK (reason IN ('INITIAL', 'ADJUST', 'RESERVE', 'RELEASE', 'CONFIRM')),
    order_id       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (delta_on_hand <> 0 OR delta_reserved <> 0),
    CHECK (order_id IS NOT NULL OR reason IN ('INITIAL', 'ADJUST'))
);
CREATE INDEX stock_ledger_sku_idx ON stock_ledger (sku);
CREATE INDEX stock_ledger_order_idx ON stock_ledger (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE reservations (
    order_id   text NOT NULL CHECK (order_id <> ''),
    sku        text NOT NULL REFERENCES stock_items,
    quantity   integer NOT NULL CHECK (quantity > 0),
    status     text NOT NULL CHECK (status IN ('RESERVED', 'CONFIRMED', 'RELEASED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, sku)
);

-- I2: the ledger is history; correcting it means appending a compensating row.
CREATE FUNCTION stock_ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER stock_ledger_no_update_delete BEFORE UPDATE OR DELETE ON stock_ledger
    FOR EACH ROW EXECUTE FUNCTION stock_ledger_forbid_change();
CREATE TRIGGER stock_ledger_no_truncate BEFORE TRUNCATE ON stock_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION stock_ledger_forbid_change();

-- I2: each ledger row moves the stock; the CHECKs of stock_items then enforce I1.
CREATE FUNCTION stock_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock_items
       SET on_hand = on_hand + NEW.delta_on_hand,
           reserved = reserved + NEW.delta_reserved
     WHERE sku = NEW.sku;
    RETURN NULL;
END $$;

CREATE TRIGGER stock_ledger_apply AFTER INSERT ON stock_ledger
    FOR EACH ROW EXECUTE FUNCTION stock_ledger_apply();

-- I2: stock_items starts at zero and moves only from stock_ledger_apply (trigger depth > 1).
CREATE FUNCTION stock_items_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.on_hand = 0 AND NEW.reserved = 0 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.on_hand = OLD.on_hand AND NEW.reserved = OLD.reserved
       AND NEW.sku = OLD.sku THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'stock_items changes only by appending to stock_ledger (% on %)',
        TG_OP, COALESCE(NEW.sku, OLD.sku) USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER stock_items_guard BEFORE INSERT OR UPDATE ON stock_items
    FOR EACH ROW EXECUTE FUNCTION stock_items_guard();
