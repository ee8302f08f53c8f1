-- Webhook sources and their delivery log (issue 5 item 3). A source is a receiver URL,
-- /api/webhooks/betterstack/<secret>, that Better Stack posts incident webhooks to; every
-- delivery accepted through it is logged once, in the transaction that acts on it.
-- Paired with migrations/postgres/0012_webhook_source.sql; the SQL is the same but for the id
-- columns and the type of `legacy_path`. Timestamps are epoch milliseconds.
create table webhook_source (
    webhook_source_id    integer primary key autoincrement,
    name                 text not null,
    -- What posts to it: 'betterstack' (the only kind so far).
    kind                 text not null,
    -- SHA-256 (hex) of the secret in the receiver URL; the secret is shown once, never stored.
    secret_hash          text not null,
    -- Basic auth every delivery must carry (Better Stack's auth_username/auth_password), or
    -- both null. Only the password's SHA-256 is kept.
    basic_username       text,
    basic_password_hash  text,
    -- Also accept deliveries at POST /webhook/betteruptime (the tutorial middleware's URL).
    -- integer on SQLite (sqlx's Any driver cannot decode BOOLEAN), boolean on PostgreSQL.
    legacy_path          integer not null,
    created_at           bigint not null,
    updated_at           bigint not null
);
create unique index webhook_source_name_idx on webhook_source (name);
create unique index webhook_source_secret_idx on webhook_source (secret_hash);

create table webhook_delivery (
    webhook_delivery_id  integer primary key autoincrement,
    -- Deleting a source deletes its log.
    webhook_source_id    bigint not null references webhook_source (webhook_source_id) on delete cascade,
    -- What makes a redelivery the same delivery (domain::webhook::DedupKey):
    -- 'incident:<incident id>:<event>[:<the event's timestamp>]', or, for payloads without an
    -- incident id, 'body:<SHA-256 of the body>:<id of the delivery about the same monitor it
    -- follows, or 0>'.
    dedup_key            text not null,
    received_at          bigint not null,
    -- The event, normalised: started, acknowledged, resolved, down, up, or any other word.
    event                text not null,
    -- Better Stack's incident and monitor, as the payload named them.
    incident_id          text,
    monitor_id           text,
    monitor_name         text,
    -- processed (guards acted), recorded (nothing to do), no_flags_mapped (no guard watches
    -- the monitor).
    outcome              text not null,
    -- JSON: what each guard did, [{id, name, trip_id, flags}].
    guards               text not null
);
-- The same delivery twice is one row: a second insert is a unique violation, answered as a
-- duplicate.
create unique index webhook_delivery_dedup_idx on webhook_delivery (webhook_source_id, dedup_key);
-- The log, newest first, and the latest delivery about a monitor.
create index webhook_delivery_source_idx on webhook_delivery (webhook_source_id, webhook_delivery_id);
