-- Monitor leases: several replicas with the scheduler on share the checking, each monitor
-- checked by at most one of them at a time (DESIGN.md, "Scaling out"). Paired with
-- migrations/postgres/0015_monitor_lease.sql; the SQL is the same. Written by
-- workers::scheduler through the ObservationWriter, with no event: leases are bookkeeping,
-- not configuration. Timestamps are epoch milliseconds.

-- The replicas running the scheduler, each renewing its row with its leases; the live ones
-- (expires_at in the future) split the monitors between them.
create table monitor_lease_holder (
    -- A replica id generated at start ('probe-<ulid>'); a restarted process is another holder.
    holder     text primary key,
    expires_at bigint not null
);

-- Who checks which monitor. A lease whose expires_at has passed is free for any replica to
-- claim; deleting a monitor deletes its lease.
create table monitor_lease (
    monitor_id bigint primary key references monitor (monitor_id) on delete cascade,
    holder     text not null,
    expires_at bigint not null
);

create index monitor_lease_holder_idx on monitor_lease (holder);
