-- Check results (issue 4 item 5): every raw result, kept for PROBE_RESULTS_RETENTION_DAYS
-- (default 7), and roll-ups per minute (kept as long) and per hour (kept for good). They are
-- observations: written in batches by workers::results through the ObservationWriter, with no
-- event, so they never move the revision. Paired with migrations/postgres/0008_probe_result.sql;
-- the SQL is the same but for the type of `up`. Timestamps and buckets are epoch milliseconds.
-- Deleting a monitor deletes its results and roll-ups.
create table probe_result (
    monitor_id   bigint not null references monitor (monitor_id) on delete cascade,
    -- When the check ran.
    checked_at   bigint not null,
    -- integer on SQLite (sqlx's Any driver cannot decode BOOLEAN), boolean on PostgreSQL.
    up           integer not null,
    -- Wall time of the check, milliseconds; null if it could not be measured.
    response_ms  bigint,
    -- Cause::code() of a failed check (status_code, timeout, …); null when up.
    cause_code   text,
    -- HTTP status code, when there was one.
    status_code  bigint
);
-- Serves the retention delete (by checked_at) and per-monitor reads.
create index probe_result_monitor_checked_idx on probe_result (monitor_id, checked_at);
create index probe_result_checked_idx on probe_result (checked_at);

-- One row per monitor and minute (bucket = start of the minute). A batch adds to a row with
-- `on conflict … do update set checks = checks + excluded.checks …`, so batches (and replicas)
-- that cover the same minute add up. Average response time = response_ms_sum / checks.
create table probe_rollup_minute (
    monitor_id       bigint not null references monitor (monitor_id) on delete cascade,
    bucket           bigint not null,
    checks           bigint not null,
    -- How many of those checks were up.
    ups              bigint not null,
    response_ms_sum  bigint not null,
    response_ms_max  bigint not null,
    primary key (monitor_id, bucket)
);
create index probe_rollup_minute_bucket_idx on probe_rollup_minute (bucket);

-- The same per hour (bucket = start of the hour); never deleted.
create table probe_rollup_hour (
    monitor_id       bigint not null references monitor (monitor_id) on delete cascade,
    bucket           bigint not null,
    checks           bigint not null,
    ups              bigint not null,
    response_ms_sum  bigint not null,
    response_ms_max  bigint not null,
    primary key (monitor_id, bucket)
);
