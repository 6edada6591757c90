-- Exactly-once sending, channels, delivery reports, preferences, digests and reminders.
-- Invariants:
--   * a message is recorded (status QUEUED, unique dedup_key) and committed before any provider
--     sees it; a send in flight is SENDING with a lease, so a restarted sender finds it and
--     reconciles it instead of sending blindly;
--   * a recipient that is not a valid address can only be recorded as FAILED or SUPPRESSED;
--   * a pending digest alert or reminder belongs to exactly one message once flushed.
ALTER TABLE sms_messages DROP CONSTRAINT IF EXISTS sms_messages_recipient_check;
ALTER TABLE sms_messages
    ADD COLUMN channel         text        NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'email')),
    ADD COLUMN subject         text,
    ADD COLUMN reason          text,
    ADD COLUMN provider_index  integer     NOT NULL DEFAULT 0,
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN rounds          integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_until     timestamptz,
    ADD COLUMN event_at        timestamptz,
    ADD COLUMN accepted_at     timestamptz,
    ADD COLUMN correlation_id  text,
    ADD CONSTRAINT sms_messages_status_check CHECK (status IN (
        'QUEUED', 'RETRYING', 'SENDING', 'ACCEPTED', 'UNKNOWN', 'SENT', 'DELIVERED',
        'UNDELIVERED', 'FAILED', 'SUPPRESSED')),
    ADD CONSTRAINT sms_messages_address_check CHECK (
        status IN ('FAILED', 'SUPPRESSED')
        OR (channel = 'sms' AND recipient ~ '^\+[1-9][0-9]{6,14}$')
        OR (channel = 'email' AND recipient ~ '^[^@\s]+@[^@\s]+$')),
    ADD CONSTRAINT sms_messages_sending_leased CHECK (status <> 'SENDING' OR lease_until IS NOT NULL);
CREATE INDEX sms_messages_due ON sms_messages (next_attempt_at)
    WHERE status IN ('QUEUED', 'RETRYING', 'SENDING');
CREATE INDEX sms_messages_provider_id ON sms_messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX sms_messages_recipient_ads ON sms_messages (recipient, created_at)
    WHERE category = 'advertising';
CREATE INDEX sms_status_history_message ON sms_status_history (message_id, id);

-- One row per part of a long message that a provider reported on.
CREATE TABLE sms_part_reports (
    message_id  uuid        NOT NULL REFERENCES sms_messages,
    part        integer     NOT NULL CHECK (part >= 1),
    status      text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, part)
);

CREATE TABLE recipient_preferences (
    address     text        PRIMARY KEY,
    opted_out   boolean     NOT NULL DEFAULT false,
    language    text,
    diacritics  boolean,
    channel     text        CHECK (channel IN ('sms', 'email')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Buyers, remembered from OrderPlaced for the order's later updates.
CREATE TABLE buyers (
    order_id    text        PRIMARY KEY,
    order_ref   text        NOT NULL,
    name        text,
    phone       text,
    email       text,
    language    text,
    tz          text        NOT NULL,
    total       bigint      NOT NULL,
    currency    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- New-order alerts waiting for their producer's digest window to close.
CREATE TABLE pending_alerts (
    id              bigserial   PRIMARY KEY,
    event_id        uuid        NOT NULL,
    recipient       text        NOT NULL,
    producer_id     text        NOT NULL,
    order_id        text        NOT NULL,
    shipment_id     text,
    order_ref       text        NOT NULL,
    lines           jsonb       NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    language        text        NOT NULL,
    diacritics      boolean     NOT NULL,
    tz              text        NOT NULL,
    due_at          timestamptz NOT NULL,
    event_at        timestamptz NOT NULL,
    correlation_id  text,
    UNIQUE (event_id, recipient)
);
CREATE INDEX pending_alerts_recipient ON pending_alerts (recipient, due_at);

-- A reminder before each scheduled pickup; a reschedule moves it, a cancellation drops it.
CREATE TABLE pickup_reminders (
    shipment_id     text        PRIMARY KEY,
    order_id        text        NOT NULL,
    order_ref       text        NOT NULL,
    producer_id     text        NOT NULL,
    recipient       text        NOT NULL,
    language        text        NOT NULL,
    diacritics      boolean     NOT NULL,
    tz              text        NOT NULL,
    lines           jsonb       NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    remind_at       timestamptz NOT NULL,
    source_event_id uuid        NOT NULL,
    correlation_id  text,
    state           text        NOT NULL DEFAULT 'scheduled'
                                CHECK (state IN ('scheduled', 'sent', 'cancelled', 'skipped'))
);
CREATE INDEX pickup_reminders_due ON pickup_reminders (remind_at) WHERE state = 'scheduled';
