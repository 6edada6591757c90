-- Identifiers as operators have them, and one name per sales platform.
-- Invariants changed here:
--   I8  producer ids, SKUs, accounts and channel SKUs are identifiers (is_identifier): 1 to 255
--       characters, NFC, no space at either end, no control character, line break, zero-width
--       or direction mark. The services refuse the rest of Unicode category C too
--       (shared/contracts/identifiers.py). This replaces the ASCII patterns that refused
--       operators' own ids.
--   I9  a listing's channel is a platform's name (shared/contracts/platforms.py).
-- Stored producer ids and SKUs matched those ASCII patterns, so they are identifiers already.
-- Stored listings are converted: a platform's alias becomes its name (`tiktok_shop` ->
-- `tiktok-shop`), accounts and channel SKUs are trimmed and NFC. A listing that cannot be
-- converted, or two that would become one but map different SKUs, stop the migration with
-- their keys: nothing is dropped. The SKUs of converted listings are marked in stock_dirty, so
-- their next StockLevelChanged names the listings as they are now.

CREATE FUNCTION is_identifier(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT char_length(value) BETWEEN 1 AND 255
           AND value IS NFC NORMALIZED
           AND value !~ '^[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]'
           AND value !~ '[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]$'
           AND value !~ ('[\u0001-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e'
                         '\u2060-\u2064\ufeff]')
    $$;

ALTER TABLE producers DROP CONSTRAINT producers_producer_id_check;
ALTER TABLE products DROP CONSTRAINT products_sku_check;
ALTER TABLE channel_listings
    DROP CONSTRAINT channel_listings_channel_check,
    DROP CONSTRAINT channel_listings_account_check,
    DROP CONSTRAINT channel_listings_channel_sku_check;

-- NFC, then without what str.strip() removes: the services' own normalisation.
CREATE OR REPLACE FUNCTION pg_temp.normalised(value text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(normalize(value, NFC), format('^%s+|%s+$', space, space), '', 'g')
      FROM (VALUES ('[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a'
                    '\u2028\u2029\u202f\u205f\u3000]')) AS s(space)
$$;

-- The old pattern allowed lower-case letters, digits and `_`: fold `_` to `-`, then aliases.
CREATE TEMP TABLE listing_renames ON COMMIT DROP AS
    SELECT l.channel, l.account, l.channel_sku, l.sku,
           p.name AS new_channel,
           pg_temp.normalised(l.account) AS new_account,
           pg_temp.normalised(l.channel_sku) AS new_channel_sku
      FROM channel_listings l
      LEFT JOIN (VALUES ('shopify', 'shopify'), ('woocommerce', 'woocommerce'),
                        ('shopee', 'shopee'), ('lazada', 'lazada'),
                        ('tiktok-shop', 'tiktok-shop'), ('tiki', 'tiki'), ('manual', 'manual'),
                        ('tiktok', 'tiktok-shop'), ('tiktokshop', 'tiktok-shop'),
                        ('tik-tok', 'tiktok-shop'), ('tik-tok-shop', 'tiktok-shop'),
                        ('woo', 'woocommerce'), ('woo-commerce', 'woocommerce'))
                AS p(alias, name)
             ON p.alias = replace(l.channel, '_', '-');

DO $$
DECLARE
    unconvertible text;
    clashing text;
BEGIN
    SELECT string_agg(format('(%L, %L, %L)', channel, account, channel_sku), ', ')
      INTO unconvertible
      FROM listing_renames
     WHERE new_channel IS NULL OR NOT is_identifier(new_account)
        OR NOT is_identifier(new_channel_sku);
    IF unconvertible IS NOT NULL THEN
        RAISE EXCEPTION 'channel_listings (channel, account, channel_sku) not convertible: %',
            unconvertible
            USING HINT = 'Give each a platform name (shared/contracts/platforms.py) and an '
                         'account and channel SKU of 1 to 255 printable characters, or delete it.';
    END IF;
    SELECT string_agg(format('(%L, %L, %L)', new_channel, new_account, new_channel_sku), ', ')
      INTO clashing
      FROM (SELECT new_channel, new_account, new_channel_sku FROM listing_renames
             GROUP BY 1, 2, 3 HAVING count(DISTINCT sku) > 1) c;
    IF clashing IS NOT NULL THEN
        RAISE EXCEPTION 'channel_listings that would become one but map different SKUs: %',
            clashing
            USING HINT = 'Delete the listing that is wrong, then migrate again.';
    END IF;
END $$;

DELETE FROM listing_renames
 WHERE (channel, account, channel_sku) = (new_channel, new_account, new_channel_sku);

DELETE FROM channel_listings l USING listing_renames r
 WHERE (l.channel, l.account, l.channel_sku) = (r.channel, r.account, r.channel_sku);
INSERT INTO channel_listings (channel, account, channel_sku, sku)
    SELECT DISTINCT new_channel, new_account, new_channel_sku, sku FROM listing_renames
    ON CONFLICT DO NOTHING;  -- the same listing under its new name already (same SKU: checked)
INSERT INTO stock_dirty (sku) SELECT DISTINCT sku FROM listing_renames JOIN stock_items USING (sku)
    ON CONFLICT (sku) DO UPDATE SET changes = stock_dirty.changes + 1;

ALTER TABLE producers
    ADD CONSTRAINT producers_producer_id_check CHECK (is_identifier(producer_id));
ALTER TABLE products ADD CONSTRAINT products_sku_check CHECK (is_identifier(sku));
ALTER TABLE channel_listings
    ADD CONSTRAINT channel_listings_channel_check CHECK (channel IN ('shopify', 'woocommerce',
        'shopee', 'lazada', 'tiktok-shop', 'tiki', 'manual')),
    ADD CONSTRAINT channel_listings_account_check CHECK (is_identifier(account)),
    ADD CONSTRAINT channel_listings_channel_sku_check CHECK (is_identifier(channel_sku));
