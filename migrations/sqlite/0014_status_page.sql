-- Public status pages (issue 6 item 2), configured through Better Stack's v2 status-page API
-- (/api/v2/status-pages and their /resources) and shown without a token at /status/<subdomain>.
-- Paired with migrations/postgres/0014_status_page.sql; the SQL is the same but for the id
-- columns and the types of the flags. Timestamps are epoch milliseconds.
create table status_page (
    status_page_id           integer primary key autoincrement,
    company_name             text not null,
    -- An http(s) URL the page links back to, or null.
    company_url              text,
    -- The page's slug: /status/<subdomain>. Lower case letters, digits and hyphens.
    subdomain                text not null unique,
    -- A Rails zone name or an IANA id (src/domain/timezone.rs): the page's days and times.
    timezone                 text not null,
    -- Days of history shown (Better Stack's 7–365).
    history                  bigint not null,
    -- Plain text shown above the status, or null.
    announcement             text,
    -- integer on SQLite (sqlx's Any driver cannot decode BOOLEAN), boolean on PostgreSQL.
    published                integer not null,
    hide_from_search_engines integer not null,
    -- light | dark
    theme                    text not null,
    -- The page asks for a password (HTTP Basic): password_hash holds 'sha256$<salt>$<hex>'
    -- of the password; the password itself is never stored, returned or logged.
    password_enabled         integer not null,
    password_hash            text,
    -- Better Stack attributes that have no effect here, as given (JSON object).
    pass_through             text not null,
    created_at               bigint not null,
    updated_at               bigint not null
);

-- What a page shows: monitors and heartbeats (both are monitor rows, see 0007), in position
-- order, each under its public name. Deleting a page deletes its resources. Deleting a monitor
-- removes it from every page in the service, with an event per resource; the cascade on
-- resource_id is only the backstop.
create table status_page_resource (
    status_page_resource_id  integer primary key autoincrement,
    status_page_id           bigint not null references status_page (status_page_id) on delete cascade,
    -- Monitor | Heartbeat (Better Stack's names).
    resource_type            text not null,
    resource_id              bigint not null references monitor (monitor_id) on delete cascade,
    public_name              text not null,
    explanation              text,
    position                 bigint not null,
    -- plain | history | intraday_history | response_times
    widget_type              text not null,
    pass_through             text not null,
    created_at               bigint not null,
    updated_at               bigint not null
);
-- A monitor shows at most once on a page.
create unique index status_page_resource_once on status_page_resource (status_page_id, resource_id);
create index status_page_resource_monitor_idx on status_page_resource (resource_id);
