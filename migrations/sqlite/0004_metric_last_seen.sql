-- When each row of counts was last seen: the time the server received the latest report that
-- evaluated the flag (yes + no > 0), epoch milliseconds. The admin API's `lastSeenAt` for a
-- flag in an environment is the max over its rows. SQLite dialect, paired with
-- migrations/postgres/0004_metric_last_seen.sql (same column).
--
-- Null for rows written before this migration and for rows with only variant counts; a flush
-- never replaces a later time with an earlier or a null one (see `add_metric_hour`).
alter table client_metric_hour add column last_seen bigint;
