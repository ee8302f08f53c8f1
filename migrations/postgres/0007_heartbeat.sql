-- Heartbeats (cron monitoring), Better Stack's /api/v2/heartbeats. A heartbeat is a row in
-- `monitor` with monitor_type 'heartbeat', so its status, streaks and incidents are the
-- monitor's (one status machine, incident.monitor_id, incident_one_open) and every ping goes
-- through the same code as a check result. The monitor API and the scheduler never see these
-- rows: every query that reads monitors as checkable monitors excludes monitor_type 'heartbeat'.
-- Paired with migrations/sqlite/0007_heartbeat.sql; the SQL is the same. SQLite adds one
-- column per statement; all are null on the other monitor types.
--
-- How a heartbeat maps onto monitor's columns from 0005:
--   check_frequency      = Better Stack's `period`, seconds between expected pings.
--   pronounceable_name   = `name`.
--   url                  = '' (the ping URL is built from heartbeat_token and the request's host).
--   confirmation_period  = recovery_period = 0: one missed ping or failure report is down, one
--                          ping is up again.
--   paused, status, paused_at, created_at, updated_at, pass_through: as for monitors.

-- Better Stack's `grace`: seconds after a missed period before the heartbeat is down.
alter table monitor add column heartbeat_grace bigint;
-- The secret part of the public ping URL /api/v1/heartbeat/<token>: 24 random base62
-- characters (~143 bits). Stored as is, unlike API tokens (SHA-256): Better Stack returns the
-- ping URL on every read of a heartbeat, so it must be recoverable. It only lets its holder
-- report this one heartbeat's pings; it grants no API access. Kept out of the audit log.
alter table monitor add column heartbeat_token text;
-- When the last ping (success or failure report) arrived; null until the first one. The
-- "missed" clock starts at the first ping, as Better Stack's: a heartbeat never pinged stays
-- pending. Cleared when the heartbeat is resumed after a pause.
alter table monitor add column last_ping_at bigint;
-- When the missed-ping worker last reported this heartbeat as missed, so that it reports it
-- once per period while the pings stay missing (and, across replicas, only once).
alter table monitor add column heartbeat_missed_at bigint;
create unique index monitor_heartbeat_token_idx on monitor (heartbeat_token);
