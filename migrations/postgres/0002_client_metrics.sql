-- What SDKs report about themselves: evaluation counts and who is connected. PostgreSQL dialect,
-- paired with migrations/sqlite/0002_client_metrics.sql (same tables and columns).
--
-- These are observations, not configuration: they are written without event rows, so they
-- never move the configuration revision (max(event_id)) and never change an SDK's ETag.
-- Timestamps are epoch milliseconds, like everywhere else.

-- Yes/no counts per flag, environment (from the SDK's token), application and hour.
-- Several flushes (and several replicas) add into the same row.
create table client_metric_hour (
    feature_name text not null,
    environment  text not null,
    app_name     text not null,
    -- start of the hour the SDK's bucket started in
    hour         bigint not null,
    yes          bigint not null,
    no           bigint not null,
    -- JSON object, variant name -> count
    variants     text not null,
    primary key (feature_name, environment, app_name, hour)
);
create index client_metric_hour_hour_idx on client_metric_hour (hour);
create index client_metric_hour_app_idx on client_metric_hour (app_name);

-- An application, as SDKs name it (`appName`). Description, url, color and icon are Unleash's
-- editable display fields; flagwatch keeps the columns but does not set them yet.
create table client_application (
    app_name    text primary key,
    description text,
    url         text,
    color       text,
    icon        text,
    -- JSON array of the strategy names the SDK says it implements (last registration wins)
    strategies  text not null,
    created_at  bigint not null,
    last_seen   bigint not null
);

-- Which projects and environments an application's tokens gave it access to ("usage").
create table client_application_usage (
    app_name    text not null,
    project     text not null,
    environment text not null,
    primary key (app_name, project, environment)
);

-- One running SDK instance of an application, per environment.
create table client_instance (
    app_name         text not null,
    instance_id      text not null,
    environment      text not null,
    sdk_version      text,
    platform_name    text,
    platform_version text,
    client_ip        text,
    created_at       bigint not null,
    last_seen        bigint not null,
    primary key (app_name, instance_id, environment)
);
