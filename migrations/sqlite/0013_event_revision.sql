-- The configuration revision is the highest id of an event that changes what SDKs are served:
-- one naming a flag, or a segment event (src/domain/event.rs, moves_revision; as Unleash's
-- getMaxRevisionId). Monitor, incident, heartbeat, token, guard and notification events do not
-- count. This partial index holds exactly those events, so Reader::revision reads its last
-- entry however long the event log grows. Its condition must stay word for word the one
-- Reader::revision queries (src/store/sql.rs, revision_predicate; a unit test compares them),
-- or the planner will not use it. Paired with migrations/postgres/0013_event_revision.sql; the
-- SQL is the same.
create index event_revision_idx on event (event_id)
    where feature_name is not null or type in ('segment-created', 'segment-updated', 'segment-deleted');
