-- Guards: the kill switch (src/domain/guard.rs). A guard ties a signal to flags; a trip is one
-- firing of a guard, with the flags it holds. Paired with migrations/postgres/0010_guard.sql;
-- the SQL is the same but for the id columns. Timestamps are epoch milliseconds.
create table guard (
    guard_id            integer primary key autoincrement,
    name                text not null unique,
    -- monitor | betterstack | sla
    signal_kind         text not null,
    -- The flagwatch monitor of a 'monitor' or 'sla' signal. No cascade: deleting a monitor that
    -- guards flags is refused, so a kill switch never disappears as a side effect.
    monitor_id          bigint references monitor (monitor_id),
    -- The Better Stack monitor id or pronounceable name of a 'betterstack' signal.
    betterstack_monitor text,
    -- The SLA thresholds of an 'sla' signal, as JSON.
    sla                 text,
    -- The flags: a JSON list of {project, feature, environment}, or a
    -- {recently_enabled_hours, environment} object.
    target              text not null,
    -- keep_disabled | re_enable | notify_only
    on_recovery         text not null,
    -- JSON list of notification channel ids.
    channels            text not null,
    created_at          bigint not null,
    updated_at          bigint not null
);
create index guard_monitor_idx on guard (monitor_id);
create index guard_betterstack_idx on guard (lower(betterstack_monitor));

create table guard_trip (
    trip_id             integer primary key autoincrement,
    -- A guard's trips go with it; the events keep the audit trail.
    guard_id            bigint not null references guard (guard_id) on delete cascade,
    -- The flagwatch incident that fired a monitor guard.
    incident_id         bigint references incident (incident_id) on delete set null,
    -- The Better Stack incident id that fired a webhook guard.
    external_incident   text,
    reason              text not null,
    started_at          bigint not null,
    -- null while the trip is open.
    ended_at            bigint,
    -- re_enabled | kept_disabled | notified
    outcome             text
);
-- At most one open trip per guard, enforced here: a guard firing again continues its trip.
create unique index guard_trip_one_open on guard_trip (guard_id) where ended_at is null;

create table guard_trip_flag (
    trip_id             bigint not null references guard_trip (trip_id) on delete cascade,
    project             text not null,
    feature_name        text not null,
    environment         text not null,
    -- disabled (the guard switched it off) | already_off
    action              text not null,
    -- The feature-environment-disabled event the guard wrote.
    event_id            bigint,
    primary key (trip_id, feature_name, environment)
);
create index guard_trip_flag_feature_idx on guard_trip_flag (feature_name, environment);
