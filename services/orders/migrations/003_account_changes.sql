-- Tell the orders processes when a channel account changes (a rotation, a new secret), so their
-- short-lived account cache never verifies a push with a secret that was rotated out.
CREATE FUNCTION channel_accounts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('channel_accounts', COALESCE(NEW.platform, OLD.platform) || '/'
                      || COALESCE(NEW.account, OLD.account));
    RETURN NULL;
END $$;
CREATE TRIGGER channel_accounts_notify AFTER INSERT OR UPDATE OR DELETE ON channel_accounts
    FOR EACH ROW EXECUTE FUNCTION channel_accounts_notify();
