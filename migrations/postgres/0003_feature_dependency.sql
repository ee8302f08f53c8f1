-- Flag dependencies ("parent" flags), as Unleash's client API sends them in `dependencies`.
-- Paired with migrations/sqlite/0003_feature_dependency.sql.
-- No foreign key on `parent`: a child whose parent does not exist is served as written and
-- evaluates to off in every SDK, which is what the client specification expects.
create table feature_dependency (
    child    text not null references feature (name) on delete cascade,
    parent   text not null,
    -- true: the parent must be enabled; false: it must be disabled.
    enabled  boolean not null,
    -- JSON array of parent variant names, one of which the parent must give; [] = any.
    variants text not null,
    primary key (child, parent)
);
