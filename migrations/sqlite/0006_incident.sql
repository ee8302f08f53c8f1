-- Incidents and the monitor status machine (src/domain/incident.rs), Better Stack's semantics:
-- an incident opens when a monitor goes down (after confirmation_period seconds of failure)
-- and resolves when it is up again (after recovery_period seconds of success).
-- Paired with migrations/postgres/0006_incident.sql; the SQL is the same but for the id column.
-- Timestamps are epoch milliseconds.
create table incident (
    incident_id      integer primary key autoincrement,
    -- Deleting a monitor deletes its incidents.
    monitor_id       bigint not null references monitor (monitor_id) on delete cascade,
    started_at       bigint not null,
    -- null while the incident is open.
    resolved_at      bigint,
    -- Cause::code() of the failure that confirmed "down" (status_code, timeout, connection_refused,
    -- dns_error, keyword_missing…); null if the check named none.
    cause_code       text,
    -- The cause as a sentence, returned as Better Stack's "cause".
    cause            text not null,
    -- What the failing check saw: HTTP status code (if any) and its one-line detail.
    response_status  bigint,
    response_detail  text not null
);
-- At most one open incident per monitor, enforced here rather than by the code that opens them:
-- a second open incident for a monitor is a unique violation (StoreError::Conflict).
create unique index incident_one_open on incident (monitor_id) where resolved_at is null;
create index incident_monitor_started_idx on incident (monitor_id, started_at);
create index incident_started_idx on incident (started_at);

-- The status machine's memory, kept on the monitor row next to status and last_checked_at
-- (from 0005). SQLite adds one column per statement.
-- Start of the current run of failed checks; null after a success.
alter table monitor add column failing_since bigint;
-- Start of the current run of successful checks; null after a failure.
alter table monitor add column succeeding_since bigint;
-- Response time of the last check, in milliseconds.
alter table monitor add column last_response_ms bigint;
