-- Notifications (issue 5 item 5): channels a notice can go to (Slack incoming webhook, generic
-- signed webhook, PagerDuty Events v2), and the outbox of deliveries. Paired with
-- migrations/postgres/0011_notification.sql; the SQL is the same but for the id columns and
-- the type of `test`. Timestamps are epoch milliseconds.
create table notification_channel (
    channel_id   integer primary key autoincrement,
    name         text not null unique,
    -- slack | webhook | pagerduty
    kind         text not null,
    -- The kind's settings as JSON, secrets included (the Slack URL, the webhook's HMAC key,
    -- PagerDuty's routing key): they are needed to send. The API masks them and the events
    -- never carry them.
    config       text not null,
    created_at   bigint not null,
    updated_at   bigint not null
);

-- The outbox. A row is inserted in the transaction of the change it reports (so a notice is
-- sent if and only if that change commits) and updated by workers::notifications through the
-- ObservationWriter, with no event: sending is bookkeeping, not configuration.
create table notification_delivery (
    delivery_id      integer primary key autoincrement,
    -- Deleting a channel deletes its deliveries (a channel in use cannot be deleted).
    channel_id       bigint not null references notification_channel (channel_id) on delete cascade,
    -- NoticeKind::as_str() (incident.opened, incident.resolved, flags.disabled, flags.enabled).
    notice_kind      text not null,
    dedup_key        text not null,
    -- The Notice as JSON; the body is built from it and the channel at each attempt.
    notice           text not null,
    -- Queued by POST /api/admin/notification-channels/{id}/test. integer on SQLite (sqlx's Any
    -- driver cannot decode BOOLEAN), boolean on PostgreSQL.
    test             integer not null,
    -- pending | delivered | failed
    status           text not null,
    -- Requests started (a claim counts one).
    attempts         bigint not null,
    last_status_code bigint,
    last_error       text,
    created_at       bigint not null,
    -- When a pending delivery is due; null once delivered or failed.
    next_attempt_at  bigint,
    delivered_at     bigint,
    -- The replica sending it and until when its claim holds: another replica may take the
    -- row over only once lease_until has passed.
    lease_owner      text,
    lease_until      bigint
);
create index notification_delivery_due_idx on notification_delivery (next_attempt_at) where status = 'pending';
create index notification_delivery_channel_idx on notification_delivery (channel_id, delivery_id);
create index notification_delivery_created_idx on notification_delivery (created_at);

-- A flagwatch extension of Better Stack's monitor API: the channels told about the monitor's
-- incidents, as a JSON list of notification_channel ids.
alter table monitor add column notification_channels text not null default '[]';
