-- Uptime monitors, configured through Better Stack's v2 monitor API (/api/v2/monitors).
-- Paired with migrations/postgres/0005_monitor.sql. Flags here are 0/1 integers (sqlx's Any driver cannot decode SQLite's BOOLEAN).
-- Units as Better Stack: check_frequency, confirmation_period and recovery_period in seconds;
-- request_timeout in seconds for HTTP types (status, expected_status_code, keyword,
-- keyword_absence) and in milliseconds for ping, tcp, udp and dns.
create table monitor (
    monitor_id            integer primary key autoincrement,
    monitor_type          text not null,
    -- http(s) URL for HTTP types; a bare host for ping/tcp/udp; host[:port] of the nameserver for dns.
    url                   text not null,
    pronounceable_name    text not null,
    check_frequency       bigint not null,
    request_timeout       bigint not null,
    confirmation_period   bigint not null,
    recovery_period       bigint not null,
    -- lower case: get, head, post, put, patch, delete, options.
    http_method           text not null,
    -- JSON array of {"name", "value"}.
    request_headers       text not null,
    -- HTTP body, UDP payload, or the domain a dns check queries.
    request_body          text not null,
    -- JSON array of integers.
    expected_status_codes text not null,
    required_keyword      text,
    follow_redirects      integer not null,
    remember_cookies      integer not null,
    verify_ssl            integer not null,
    -- days before certificate expiry to warn; null or -1: no warning.
    ssl_expiration        bigint,
    port                  bigint,
    auth_username         text,
    auth_password         text,
    paused                integer not null,
    -- "HH:MM:SS" in maintenance_timezone; both or neither.
    maintenance_from      text,
    maintenance_to        text,
    maintenance_timezone  text not null,
    -- JSON array of "mon".."sun".
    maintenance_days      text not null,
    -- JSON object of the Better Stack attributes that have no effect here (regions,
    -- call/sms/email/push, policy_id, team_name…): stored and returned as given.
    pass_through          text not null,
    -- pending (no check yet), paused, maintenance, up, validating or down.
    status                text not null,
    paused_at             bigint,
    last_checked_at       bigint,
    created_at            bigint not null,
    updated_at            bigint not null
);
create index monitor_url_idx on monitor (url);
create index monitor_pronounceable_name_idx on monitor (pronounceable_name);
