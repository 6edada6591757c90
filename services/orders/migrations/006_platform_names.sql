-- One name per sales platform (shared/contracts/platforms.py) in the stock figures to push.
-- listing_stock mirrors the catalog's listings, whose channel could be an alias until the
-- catalog's migration 003 (`tiktok_shop`): such a figure was never pushed ("no tiktok_shop
-- account"). It takes the platform's name, its account and channel SKU are trimmed and NFC as
-- the catalog's now are, and it is due again; where two figures become one listing the newer
-- version is kept. Channel accounts are not renamed: the platform calls the webhook URL that
-- holds the name as it is, and every order id derives from it.

CREATE OR REPLACE FUNCTION pg_temp.normalised(value text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(normalize(value, NFC), format('^%s+|%s+$', space, space), '', 'g')
      FROM (VALUES ('[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a'
                    '\u2028\u2029\u202f\u205f\u3000]')) AS s(space)
$$;

CREATE TEMP TABLE listing_renames ON COMMIT DROP AS
    SELECT l.channel, l.account, l.channel_sku, l.sku, l.available, l.version,
           p.name AS new_channel,
           pg_temp.normalised(l.account) AS new_account,
           pg_temp.normalised(l.channel_sku) AS new_channel_sku
      FROM listing_stock l
      JOIN (VALUES ('shopify', 'shopify'), ('woocommerce', 'woocommerce'),
                   ('shopee', 'shopee'), ('lazada', 'lazada'),
                   ('tiktok-shop', 'tiktok-shop'), ('tiki', 'tiki'), ('manual', 'manual'),
                   ('tiktok', 'tiktok-shop'), ('tiktokshop', 'tiktok-shop'),
                   ('tik-tok', 'tiktok-shop'), ('tik-tok-shop', 'tiktok-shop'),
                   ('woo', 'woocommerce'), ('woo-commerce', 'woocommerce'))
           AS p(alias, name)
        ON p.alias = replace(l.channel, '_', '-')
     WHERE (l.channel, l.account, l.channel_sku)
           IS DISTINCT FROM (p.name, pg_temp.normalised(l.account),
                             pg_temp.normalised(l.channel_sku))
       AND pg_temp.normalised(l.account) <> '' AND pg_temp.normalised(l.channel_sku) <> '';

DELETE FROM listing_stock l USING listing_renames r
 WHERE (l.channel, l.account, l.channel_sku) = (r.channel, r.account, r.channel_sku);
INSERT INTO listing_stock (channel, account, channel_sku, sku, available, version)
    SELECT DISTINCT ON (new_channel, new_account, new_channel_sku)
           new_channel, new_account, new_channel_sku, sku, available, version
      FROM listing_renames
     ORDER BY new_channel, new_account, new_channel_sku, version DESC
    ON CONFLICT (channel, account, channel_sku) DO UPDATE
       SET sku = EXCLUDED.sku, available = EXCLUDED.available, version = EXCLUDED.version,
           pushed_version = NULL, attempts = 0, next_attempt_at = now(), last_error = NULL
     WHERE listing_stock.version < EXCLUDED.version;
