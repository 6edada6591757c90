-- SMS messages and their status timeline.
-- Invariants:
--   * one message per (event, message type, recipient, channel): dedup_key is unique, so a
--     redelivered event can never send a second SMS;
--   * the encoding and segment count recorded are those of the text recorded.
CREATE TABLE sms_messages (
    message_id           uuid        PRIMARY KEY,
    dedup_key            text        NOT NULL UNIQUE,
    message_type         text        NOT NULL,
    category             text        NOT NULL DEFAULT 'transactional'
                                     CHECK (category IN ('transactional', 'advertising')),
    recipient            text        NOT NULL CHECK (recipient ~ '^\+[1-9][0-9]{6,14}$'),
    producer_id          text,
    order_id             text,
    shipment_id          text,
    language             text        NOT NULL,
    text                 text        NOT NULL,
    encoding             text        NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
    segments             integer     NOT NULL CHECK (segments >= 1),
    provider             text        NOT NULL,
    provider_message_id  text,
    status               text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_messages_created ON sms_messages (created_at DESC);

CREATE TABLE sms_status_history (
    id          bigserial   PRIMARY KEY,
    message_id  uuid        NOT NULL REFERENCES sms_messages,
    status      text        NOT NULL,
    detail      text,
    at          timestamptz NOT NULL DEFAULT now()
);
