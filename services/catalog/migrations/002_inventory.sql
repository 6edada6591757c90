-- Inventory lifecycle (reserve -> confirm on pickup | release on cancellation or expiry), stock
-- events coalesced per SKU, and the rest of the product story.
-- Invariants added here:
--   I5  stock_items.available = on_hand - reserved is a stored column and never negative;
--       stock_items.version counts the SKU's ledger rows (bumped by the ledger trigger only).
--   I6  reservations: 0 <= released <= quantity; RELEASED means everything was released.
--   I7  every ledger row marks its SKU in stock_dirty, in the same transaction: a stock change
--       can never commit without its StockLevelChanged being owed.

-- A producer imported from a spreadsheet may have no programme rating or story yet.
ALTER TABLE producers ADD COLUMN certifications text[] NOT NULL DEFAULT '{}';
ALTER TABLE producers ALTER COLUMN programme DROP NOT NULL;  -- NULL: stars must be NULL too
ALTER TABLE producers ALTER COLUMN story DROP NOT NULL;
ALTER TABLE products ALTER COLUMN story DROP NOT NULL;

ALTER TABLE products
    ADD COLUMN descriptions jsonb
        CHECK (descriptions IS NULL OR (descriptions ? 'vi' AND descriptions ? 'en')),
    ADD COLUMN shelf_life_days integer CHECK (shelf_life_days > 0),
    ADD COLUMN low_stock_threshold integer CHECK (low_stock_threshold >= 0);

ALTER TABLE stock_items
    ADD COLUMN version bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
    ADD COLUMN available integer GENERATED ALWAYS AS (on_hand - reserved) STORED
        CHECK (available >= 0);

ALTER TABLE stock_ledger DROP CONSTRAINT stock_ledger_reason_check;
ALTER TABLE stock_ledger ADD CONSTRAINT stock_ledger_reason_check
    CHECK (reason IN ('INITIAL', 'ADJUST', 'RESERVE', 'RELEASE', 'CONFIRM', 'EXPIRE'));
ALTER TABLE stock_ledger ADD COLUMN note text;

ALTER TABLE reservations
    ADD COLUMN released integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT reservations_released_within_quantity CHECK (released BETWEEN 0 AND quantity),
    ADD CONSTRAINT reservations_released_means_all
        CHECK (status <> 'RELEASED' OR released = quantity);
CREATE INDEX reservations_held_idx ON reservations (created_at) WHERE status = 'RESERVED';

-- SKUs whose level changed since their last StockLevelChanged: one row per SKU however many
-- changes, so a burst of reservations gives one event with the final figure.
CREATE TABLE stock_dirty (
    sku     text PRIMARY KEY REFERENCES stock_items,
    changes integer NOT NULL DEFAULT 1 CHECK (changes > 0),
    since   timestamptz NOT NULL DEFAULT now()
);

-- SKUs currently at or below their low-stock threshold that the producer was told about; the
-- row goes when the SKU is restocked, so the next crossing alerts again (once per crossing).
CREATE TABLE low_stock_alerts (
    sku        text PRIMARY KEY REFERENCES stock_items,
    available  integer NOT NULL,
    threshold  integer NOT NULL,
    alerted_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION stock_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock_items
       SET on_hand = on_hand + NEW.delta_on_hand,
           reserved = reserved + NEW.delta_reserved,
           version = version + 1
     WHERE sku = NEW.sku;
    INSERT INTO stock_dirty (sku) VALUES (NEW.sku)
        ON CONFLICT (sku) DO UPDATE SET changes = stock_dirty.changes + 1;
    RETURN NULL;
END $$;

-- I2 again, now that stock_items has a version: it too moves only with the ledger.
CREATE OR REPLACE FUNCTION stock_items_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.on_hand = 0 AND NEW.reserved = 0 AND NEW.version = 0 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.on_hand = OLD.on_hand AND NEW.reserved = OLD.reserved
       AND NEW.version = OLD.version AND NEW.sku = OLD.sku THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'stock_items changes only by appending to stock_ledger (% on %)',
        TG_OP, COALESCE(NEW.sku, OLD.sku) USING ERRCODE = 'restrict_violation';
END $$;

-- Stock already booked before this migration counts as its version.
ALTER TABLE stock_items DISABLE TRIGGER stock_items_guard;
UPDATE stock_items s SET version = v.n
  FROM (SELECT sku, count(*) AS n FROM stock_ledger GROUP BY sku) v WHERE v.sku = s.sku;
ALTER TABLE stock_items ENABLE TRIGGER stock_items_guard;
