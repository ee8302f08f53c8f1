-- flagwatch schema, SQLite dialect. Paired with migrations/postgres/0001_init.sql:
-- the same tables, columns and constraints; only the types differ where the dialects do.
-- Conventions: lowercase SQL, singular table names, timestamps as epoch milliseconds
-- (bigint), structured values (constraints, parameters, variants) as JSON text.
-- Booleans are integers (0/1) here, since sqlx's Any driver cannot decode SQLite's BOOLEAN.

-- A project groups flags; "default" always exists.
create table project (
    project_id  text primary key,
    name        text not null,
    description text,
    created_at  bigint not null
);

-- Environments apply to every project (Unleash's project_environments is not modelled).
create table environment (
    name       text primary key,
    type       text not null,
    sort_order bigint not null,
    enabled    integer not null,
    created_at bigint not null
);

create table feature (
    name            text primary key,
    project_id      text not null references project (project_id),
    type            text not null,
    description     text,
    impression_data integer not null,
    stale           integer not null,
    created_at      bigint not null,
    created_by      text not null,
    created_by_user_id bigint,
    -- null while live; archived flags are hidden from SDKs and can be revived or deleted.
    archived_at     bigint
);
create index feature_project_idx on feature (project_id);

-- Per-environment state of a flag. A missing row means "disabled, no variants",
-- so creating an environment needs no backfill.
create table feature_environment (
    feature_name text not null references feature (name) on delete cascade,
    environment  text not null references environment (name) on delete cascade,
    enabled      integer not null,
    -- feature-level (legacy) variants for this environment, JSON array.
    variants     text not null,
    primary key (feature_name, environment)
);

create table feature_strategy (
    strategy_id  text primary key,
    feature_name text not null references feature (name) on delete cascade,
    environment  text not null references environment (name) on delete cascade,
    name         text not null,
    title        text,
    disabled     integer not null,
    sort_order   bigint not null,
    parameters   text not null, -- JSON object, string values
    constraints  text not null, -- JSON array
    variants     text not null, -- JSON array of strategy variants
    created_at   bigint not null
);
create index feature_strategy_feature_idx on feature_strategy (feature_name, environment);

create table segment (
    segment_id  integer primary key autoincrement,
    name        text not null unique,
    description text,
    project_id  text references project (project_id),
    constraints text not null, -- JSON array
    created_at  bigint not null,
    created_by  text not null
);

-- Deleting a segment that a strategy uses is refused (409), hence "restrict".
create table feature_strategy_segment (
    strategy_id text not null references feature_strategy (strategy_id) on delete cascade,
    segment_id  bigint not null references segment (segment_id) on delete restrict,
    primary key (strategy_id, segment_id)
);

create table tag_type (
    name        text primary key,
    description text,
    icon        text
);

create table feature_tag (
    feature_name text not null references feature (name) on delete cascade,
    tag_type     text not null references tag_type (name) on delete cascade,
    tag_value    text not null,
    created_at   bigint not null,
    primary key (feature_name, tag_type, tag_value)
);

-- API tokens. Only a SHA-256 of the secret is stored; the secret is shown once.
create table api_token (
    token_id      text primary key,
    secret_hash   text not null unique,
    -- "<project>:<environment>." plus a few characters, enough to recognise a token in a list.
    secret_prefix text not null,
    token_name    text not null,
    type          text not null,      -- admin | backend | frontend
    environment   text not null,      -- "*" for admin tokens
    projects      text not null,      -- JSON array, ["*"] for all projects
    expires_at    bigint,
    created_at    bigint not null
);

-- The audit log and the revision counter: revision = max(event_id), as in Unleash.
create table event (
    event_id           integer primary key autoincrement,
    type               text not null,
    created_at         bigint not null,
    created_by         text not null,
    created_by_user_id bigint,
    project            text,
    feature_name       text,
    environment        text,
    data               text, -- JSON
    pre_data           text, -- JSON
    tags               text not null -- JSON array
);
create index event_feature_idx on event (feature_name);
create index event_type_idx on event (type);

insert into project (project_id, name, description, created_at)
values ('default', 'Default', 'Default project', 0);
insert into environment (name, type, sort_order, enabled, created_at)
values ('development', 'development', 2, true, 0), ('production', 'production', 3, true, 0);
insert into tag_type (name, description, icon)
values ('simple', 'Used to simplify filtering of features', '#');
