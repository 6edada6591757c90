-- How far a reconciliation pull of each account has read (Shopee lets lost pushes be pulled
-- for 3 days; the next pull starts a little before this, so nothing falls between two pulls).
CREATE TABLE channel_cursors (
    platform    text        NOT NULL,
    account     text        NOT NULL,
    pulled_to   timestamptz NOT NULL,
    PRIMARY KEY (platform, account),
    FOREIGN KEY (platform, account) REFERENCES channel_accounts ON DELETE CASCADE
);
