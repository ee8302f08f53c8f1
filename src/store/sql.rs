//! The queries, written once for both backends (see the module docs of `store`).

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::{Any, AnyRow};
use sqlx::{Row, Transaction};
use tokio::sync::OwnedMutexGuard;

use crate::domain::Timestamp;
use crate::domain::event::{
    Actor, Event, EventQuery, NewEvent, REVISION_TYPES_WITHOUT_FEATURE, moves_revision,
};
use crate::domain::feature::{
    Environment, Feature, FeatureDependency, FeatureEnvironment, FeatureMetadata, Project, Tag,
};
use crate::domain::heartbeat::{Heartbeat, HeartbeatSpec};
use crate::domain::incident::{
    Incident, IncidentFilter, MonitorState, NewIncident, Policy, Status,
};
use crate::domain::metrics::{
    Application, ApplicationUsage, ClientInstance, Counts, LastSeen, MetricHour, MetricKey,
};
use crate::domain::monitor::{Monitor, MonitorSpec, MonitorType};
use crate::domain::probe::{DnsRecordType, ProbeRecord, Rollup};
use crate::domain::segment::{Segment, SegmentSpec};
use crate::domain::strategy::{Strategy, Variant};
use crate::domain::token::{ApiToken, TokenKind};
use crate::store::StoreError;
use crate::store::query::Sql;

type Result<T> = std::result::Result<T, StoreError>;

/// Which flags to load. Everything unset matches all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureFilter {
    pub name: Option<String>,
    /// Any of these projects.
    pub projects: Option<Vec<String>>,
    /// Exact prefix (Unleash's `LIKE 'prefix%'`, without the wildcards).
    pub name_prefix: Option<String>,
    /// Flags carrying any of these tags.
    pub tags: Vec<Tag>,
    /// `Some(false)`: live flags only; `Some(true)`: archived only; `None`: both.
    pub archived: Option<bool>,
}

impl FeatureFilter {
    pub fn live() -> Self {
        Self {
            archived: Some(false),
            ..Self::default()
        }
    }

    /// `where …` over the `feature` table, for a query or a sub-query.
    fn where_clause(&self, sql: &mut Sql) {
        sql.push(" where 1 = 1");
        if let Some(name) = &self.name {
            sql.push(" and name = ").text(name.clone());
        }
        if let Some(projects) = &self.projects {
            sql.push(" and ").any_of("project_id", projects);
        }
        if let Some(prefix) = &self.name_prefix {
            // PostgreSQL has no substr(text, int, bigint), and integers bind as bigint.
            sql.push(" and substr(name, 1, cast(")
                .int(prefix.chars().count() as i64)
                .push(" as integer)) = ")
                .text(prefix.clone());
        }
        if !self.tags.is_empty() {
            sql.push(" and name in (select feature_name from feature_tag where 1 = 0");
            for tag in &self.tags {
                sql.push(" or (tag_type = ").text(tag.tag_type.clone());
                sql.push(" and tag_value = ")
                    .text(tag.value.clone())
                    .push(")");
            }
            sql.push(")");
        }
        match self.archived {
            Some(true) => sql.push(" and archived_at is not null"),
            Some(false) => sql.push(" and archived_at is null"),
            None => sql,
        };
    }

    /// `feature_name in (select name from feature where …)`.
    fn feature_names(&self, sql: &mut Sql) {
        sql.push(" feature_name in (select name from feature");
        self.where_clause(sql);
        sql.push(")");
    }
}

/// A consistent read of the store. Dropping it ends the transaction.
pub struct Reader {
    pub(super) tx: Transaction<'static, Any>,
}

/// One change and its events, committed together or not at all.
pub struct Writer {
    pub(super) reader: Reader,
    writes: u32,
    events: u32,
    /// The last event appended that moves the revision ([`moves_revision`]).
    revision: Option<i64>,
    /// Held for SQLite, which allows one writer at a time: serialising writers here turns
    /// "database is locked" errors into a short wait.
    _exclusive: Option<OwnedMutexGuard<()>>,
    /// PostgreSQL: the channel a commit that moved the revision is announced on, with the new
    /// revision as payload (see [`super::RevisionListener`]).
    notify: Option<&'static str>,
    /// Set when the transaction queued a notification delivery (`store::notifications`), so
    /// the service wakes the delivery worker once it commits.
    pub(super) queued_notices: bool,
}

impl std::ops::Deref for Writer {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }
}

pub(super) fn to_json(value: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

pub(super) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

/// SQLite reports a `boolean` column as an integer when it has no declared type to go by.
pub(super) fn get_bool(row: &AnyRow, column: &str) -> Result<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

fn project_from(row: &AnyRow) -> Result<Project> {
    Ok(Project {
        id: row.try_get("project_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn environment_from(row: &AnyRow) -> Result<Environment> {
    Ok(Environment {
        name: row.try_get("name")?,
        env_type: row.try_get("type")?,
        sort_order: row.try_get("sort_order")?,
        enabled: get_bool(row, "enabled")?,
    })
}

fn strategy_from(row: &AnyRow, segments: Vec<i64>) -> Result<Strategy> {
    Ok(Strategy {
        id: row.try_get("strategy_id")?,
        name: row.try_get("name")?,
        title: row.try_get("title")?,
        disabled: get_bool(row, "disabled")?,
        sort_order: row.try_get("sort_order")?,
        constraints: from_json(row.try_get::<&str, _>("constraints")?)?,
        parameters: from_json(row.try_get::<&str, _>("parameters")?)?,
        variants: from_json(row.try_get::<&str, _>("variants")?)?,
        segments,
    })
}

fn segment_from(row: &AnyRow) -> Result<Segment> {
    Ok(Segment {
        id: row.try_get("segment_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        project: row.try_get("project_id")?,
        constraints: from_json(row.try_get::<&str, _>("constraints")?)?,
        created_by: row.try_get("created_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn token_from(row: &AnyRow) -> Result<ApiToken> {
    let kind: String = row.try_get("type")?;
    Ok(ApiToken {
        id: row.try_get("token_id")?,
        secret_hash: row.try_get("secret_hash")?,
        secret_prefix: row.try_get("secret_prefix")?,
        name: row.try_get("token_name")?,
        kind: TokenKind::parse(&kind).map_err(|e| anyhow::anyhow!("stored token type: {e}"))?,
        environment: row.try_get("environment")?,
        projects: from_json(row.try_get::<&str, _>("projects")?)?,
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn event_from(row: &AnyRow) -> Result<Event> {
    let json = |column: &str| -> Result<Option<serde_json::Value>> {
        row.try_get::<Option<String>, _>(column)?
            .map(|t| from_json(&t))
            .transpose()
    };
    Ok(Event {
        id: row.try_get("event_id")?,
        event_type: row.try_get("type")?,
        created_by: row.try_get("created_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
        created_by_user_id: row.try_get("created_by_user_id")?,
        data: json("data")?,
        pre_data: json("pre_data")?,
        tags: from_json(row.try_get::<&str, _>("tags")?)?,
        feature_name: row.try_get("feature_name")?,
        project: row.try_get("project")?,
        environment: row.try_get("environment")?,
    })
}

/// [`moves_revision`] in SQL, with literals: PostgreSQL uses a partial index only when it can
/// prove the query's condition implies the index's, which it cannot for bound parameters.
/// `migrations/*/0013_event_revision.sql` index the same condition, word for word.
fn revision_predicate() -> String {
    let types: Vec<String> = REVISION_TYPES_WITHOUT_FEATURE
        .iter()
        .map(|t| format!("'{t}'"))
        .collect();
    format!("feature_name is not null or type in ({})", types.join(", "))
}

/// The newest revision-moving event. Both planners answer `max` from the last entry of the
/// partial index (SQLite: "SEARCH event USING INDEX event_revision_idx"; PostgreSQL: a
/// backward index-only scan with limit 1).
fn revision_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "select max(event_id) from event where {}",
            revision_predicate()
        )
    });
    &SQL
}

impl Reader {
    pub(super) fn new(tx: Transaction<'static, Any>) -> Self {
        Self { tx }
    }

    /// The configuration revision: the highest id of an event that moves it
    /// ([`moves_revision`]), 0 if there is none yet. One step down the partial index
    /// `event_revision_idx` on both backends, however long the event log.
    pub async fn revision(&mut self) -> Result<i64> {
        let rev: Option<i64> = sqlx::query_scalar(revision_sql())
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(rev.unwrap_or(0))
    }

    pub async fn projects(&mut self) -> Result<Vec<Project>> {
        let rows = sqlx::query("select * from project order by project_id")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(project_from).collect()
    }

    pub async fn project(&mut self, id: &str) -> Result<Option<Project>> {
        let row = sqlx::query("select * from project where project_id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(project_from).transpose()
    }

    /// Live flags per project.
    pub async fn feature_counts(&mut self) -> Result<HashMap<String, i64>> {
        let rows = sqlx::query(
            "select project_id, count(*) as n from feature where archived_at is null group by project_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("project_id")?, r.try_get("n")?)))
            .collect()
    }

    pub async fn environments(&mut self) -> Result<Vec<Environment>> {
        let rows = sqlx::query("select * from environment order by sort_order, name")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(environment_from).collect()
    }

    pub async fn environment(&mut self, name: &str) -> Result<Option<Environment>> {
        let row = sqlx::query("select * from environment where name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(environment_from).transpose()
    }

    pub async fn feature(&mut self, name: &str) -> Result<Option<Feature>> {
        let filter = FeatureFilter {
            name: Some(name.to_string()),
            ..FeatureFilter::default()
        };
        Ok(self.features(&filter).await?.into_iter().next())
    }

    /// Flags with their environments, strategies, variants and tags, sorted by name.
    pub async fn features(&mut self, filter: &FeatureFilter) -> Result<Vec<Feature>> {
        let mut sql = Sql::new("select * from feature");
        filter.where_clause(&mut sql);
        sql.push(" order by name");
        let feature_rows = sql.query().fetch_all(&mut *self.tx).await?;
        if feature_rows.is_empty() {
            return Ok(Vec::new());
        }
        let environments = self.environments().await?;

        let mut sql = Sql::new("select * from feature_environment where");
        filter.feature_names(&mut sql);
        let mut states: HashMap<(String, String), (bool, Vec<Variant>)> = HashMap::new();
        for row in sql.query().fetch_all(&mut *self.tx).await? {
            let key = (row.try_get("feature_name")?, row.try_get("environment")?);
            states.insert(
                key,
                (
                    get_bool(&row, "enabled")?,
                    from_json(row.try_get::<&str, _>("variants")?)?,
                ),
            );
        }

        let mut sql = Sql::new(
            "select strategy_id, segment_id from feature_strategy_segment where strategy_id in \
             (select strategy_id from feature_strategy where",
        );
        filter.feature_names(&mut sql);
        sql.push(") order by segment_id");
        let mut segments: HashMap<String, Vec<i64>> = HashMap::new();
        for row in sql.query().fetch_all(&mut *self.tx).await? {
            segments
                .entry(row.try_get("strategy_id")?)
                .or_default()
                .push(row.try_get("segment_id")?);
        }

        let mut sql = Sql::new("select * from feature_strategy where");
        filter.feature_names(&mut sql);
        sql.push(" order by sort_order, created_at, strategy_id");
        let mut strategies: HashMap<(String, String), Vec<Strategy>> = HashMap::new();
        for row in sql.query().fetch_all(&mut *self.tx).await? {
            let id: String = row.try_get("strategy_id")?;
            let key = (row.try_get("feature_name")?, row.try_get("environment")?);
            let strategy = strategy_from(&row, segments.remove(&id).unwrap_or_default())?;
            strategies.entry(key).or_default().push(strategy);
        }

        let mut sql = Sql::new("select feature_name, tag_type, tag_value from feature_tag where");
        filter.feature_names(&mut sql);
        sql.push(" order by tag_type, tag_value");
        let mut tags: HashMap<String, Vec<Tag>> = HashMap::new();
        for row in sql.query().fetch_all(&mut *self.tx).await? {
            tags.entry(row.try_get("feature_name")?)
                .or_default()
                .push(Tag {
                    tag_type: row.try_get("tag_type")?,
                    value: row.try_get("tag_value")?,
                });
        }

        let mut sql = Sql::new(
            "select child, parent, enabled, variants from feature_dependency where child in \
             (select name from feature",
        );
        filter.where_clause(&mut sql);
        sql.push(") order by parent");
        let mut dependencies: HashMap<String, Vec<FeatureDependency>> = HashMap::new();
        for row in sql.query().fetch_all(&mut *self.tx).await? {
            dependencies
                .entry(row.try_get("child")?)
                .or_default()
                .push(FeatureDependency {
                    feature: row.try_get("parent")?,
                    enabled: get_bool(&row, "enabled")?,
                    variants: from_json(row.try_get::<&str, _>("variants")?)?,
                });
        }

        feature_rows
            .iter()
            .map(|row| {
                let name: String = row.try_get("name")?;
                let environments = environments
                    .iter()
                    .map(|env| {
                        let key = (name.clone(), env.name.clone());
                        let (enabled, variants) =
                            states.remove(&key).unwrap_or((false, Vec::new()));
                        FeatureEnvironment {
                            environment: env.clone(),
                            enabled,
                            variants,
                            strategies: strategies.remove(&key).unwrap_or_default(),
                        }
                    })
                    .collect();
                Ok(Feature {
                    tags: tags.remove(&name).unwrap_or_default(),
                    dependencies: dependencies.remove(&name).unwrap_or_default(),
                    project: row.try_get("project_id")?,
                    feature_type: row.try_get("type")?,
                    description: row.try_get("description")?,
                    impression_data: get_bool(row, "impression_data")?,
                    stale: get_bool(row, "stale")?,
                    created_at: Timestamp(row.try_get("created_at")?),
                    created_by: row.try_get("created_by")?,
                    created_by_user_id: row.try_get("created_by_user_id")?,
                    archived_at: row.try_get::<Option<i64>, _>("archived_at")?.map(Timestamp),
                    environments,
                    name,
                })
            })
            .collect()
    }

    /// Live flags that depend on `parent`, sorted by name.
    pub async fn feature_children(&mut self, parent: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "select d.child from feature_dependency d join feature f on f.name = d.child \
             where d.parent = $1 and f.archived_at is null order by d.child",
        )
        .bind(parent)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("child")?)).collect()
    }

    pub async fn segments(&mut self) -> Result<Vec<Segment>> {
        let rows = sqlx::query("select * from segment order by segment_id")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(segment_from).collect()
    }

    pub async fn segment(&mut self, id: i64) -> Result<Option<Segment>> {
        let row = sqlx::query("select * from segment where segment_id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(segment_from).transpose()
    }

    pub async fn segment_named(&mut self, name: &str) -> Result<Option<Segment>> {
        let row = sqlx::query("select * from segment where name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(segment_from).transpose()
    }

    /// The flags whose strategies use each segment: segment id → flag names.
    pub async fn segment_usage(&mut self) -> Result<HashMap<i64, Vec<String>>> {
        let rows = sqlx::query(
            "select distinct s.segment_id, fs.feature_name from feature_strategy_segment s \
             join feature_strategy fs on fs.strategy_id = s.strategy_id order by fs.feature_name",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        let mut usage: HashMap<i64, Vec<String>> = HashMap::new();
        for row in rows {
            usage
                .entry(row.try_get("segment_id")?)
                .or_default()
                .push(row.try_get("feature_name")?);
        }
        Ok(usage)
    }

    pub async fn tag_types(&mut self) -> Result<Vec<(String, Option<String>, Option<String>)>> {
        let rows = sqlx::query("select name, description, icon from tag_type order by name")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("name")?,
                    r.try_get("description")?,
                    r.try_get("icon")?,
                ))
            })
            .collect()
    }

    pub async fn tag_type_exists(&mut self, name: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("select count(*) from tag_type where name = $1")
            .bind(name)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(n > 0)
    }

    /// Every tag in use on some flag.
    pub async fn tags(&mut self) -> Result<Vec<Tag>> {
        let rows = sqlx::query(
            "select distinct tag_type, tag_value from feature_tag order by tag_type, tag_value",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Tag {
                    tag_type: r.try_get("tag_type")?,
                    value: r.try_get("tag_value")?,
                })
            })
            .collect()
    }

    pub async fn tokens(&mut self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query("select * from api_token order by created_at, token_id")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(token_from).collect()
    }

    pub async fn events(&mut self, query: &EventQuery) -> Result<(Vec<Event>, i64)> {
        let filtered = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" where 1 = 1");
            for (column, values) in [
                ("type", &query.types),
                ("feature_name", &query.features),
                ("project", &query.projects),
                ("environment", &query.environments),
                ("created_by", &query.created_by),
            ] {
                if !values.is_empty() {
                    sql.push(" and ").any_of(column, values);
                }
            }
            if let Some(from) = query.from {
                sql.push(" and created_at >= ").int(from.millis());
            }
            if let Some(to) = query.to {
                sql.push(" and created_at < ").int(to.millis());
            }
            sql
        };
        let total: i64 = filtered("select count(*) as n from event")
            .query()
            .fetch_one(&mut *self.tx)
            .await?
            .try_get("n")?;
        let mut select = filtered("select * from event");
        select
            .push(" order by event_id desc limit ")
            .int(query.limit)
            .push(" offset ")
            .int(query.offset);
        let rows = select.query().fetch_all(&mut *self.tx).await?;
        Ok((rows.iter().map(event_from).collect::<Result<_>>()?, total))
    }

    pub async fn event(&mut self, id: i64) -> Result<Option<Event>> {
        sqlx::query("select * from event where event_id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(event_from)
            .transpose()
    }
}

impl Writer {
    pub(super) fn new(
        tx: Transaction<'static, Any>,
        exclusive: Option<OwnedMutexGuard<()>>,
        notify: Option<&'static str>,
    ) -> Self {
        Self {
            reader: Reader::new(tx),
            writes: 0,
            events: 0,
            revision: None,
            _exclusive: exclusive,
            notify,
            queued_notices: false,
        }
    }

    /// Commits, refusing a change without an event (of any kind) so the audit log can never
    /// miss one. Returns the new revision, the last event id written that moves it
    /// ([`moves_revision`]), or `None` when the transaction wrote no such event: then what
    /// SDKs see did not change, and nothing needs reloading or announcing.
    pub async fn commit(mut self) -> Result<Option<i64>> {
        if self.writes > 0 && self.events == 0 {
            return Err(StoreError::Unaudited("a change without an event"));
        }
        if let (Some(channel), Some(id)) = (self.notify, self.revision) {
            // Delivered only if the transaction commits; `::text` because the Any driver
            // cannot decode `void`.
            sqlx::query("select pg_notify($1, $2)::text")
                .bind(channel)
                .bind(id.to_string())
                .execute(&mut *self.reader.tx)
                .await?;
        }
        self.reader.tx.commit().await?;
        Ok(self.revision)
    }

    /// Runs one write statement, counted so `commit` can insist on an event.
    pub(super) async fn execute(
        &mut self,
        sql: sqlx::query::Query<'_, Any, sqlx::any::AnyArguments>,
    ) -> Result<u64> {
        self.writes += 1;
        Ok(sql.execute(&mut *self.reader.tx).await?.rows_affected())
    }

    /// Runs one `insert … returning <id>` statement, counted like [`Writer::execute`], and
    /// returns the id.
    pub(super) async fn insert_returning_id(
        &mut self,
        sql: sqlx::query::Query<'_, Any, sqlx::any::AnyArguments>,
    ) -> Result<i64> {
        self.writes += 1;
        Ok(sql.fetch_one(&mut *self.reader.tx).await?.try_get(0)?)
    }

    pub async fn append_event(&mut self, event: &NewEvent) -> Result<i64> {
        let data = event.data.as_ref().map(to_json).transpose()?;
        let pre_data = event.pre_data.as_ref().map(to_json).transpose()?;
        let id: i64 = sqlx::query_scalar(
            "insert into event (type, created_at, created_by, created_by_user_id, project, feature_name, \
             environment, data, pre_data, tags) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, '[]') returning event_id",
        )
        .bind(event.event_type)
        .bind(Timestamp::now().millis())
        .bind(&event.actor.name)
        .bind(event.actor.user_id)
        .bind(&event.project)
        .bind(&event.feature_name)
        .bind(&event.environment)
        .bind(data)
        .bind(pre_data)
        .fetch_one(&mut *self.reader.tx)
        .await?;
        self.events += 1;
        if moves_revision(event.event_type, event.feature_name.as_deref()) {
            self.revision = Some(id);
        }
        Ok(id)
    }

    pub async fn insert_project(&mut self, project: &Project) -> Result<()> {
        let q = sqlx::query("insert into project (project_id, name, description, created_at) values ($1, $2, $3, $4)")
            .bind(&project.id)
            .bind(&project.name)
            .bind(&project.description)
            .bind(project.created_at.millis());
        self.execute(q).await.map(drop)
    }

    pub async fn insert_environment(&mut self, env: &Environment) -> Result<()> {
        let q = sqlx::query("insert into environment (name, type, sort_order, enabled, created_at) values ($1, $2, $3, $4, $5)")
            .bind(&env.name)
            .bind(&env.env_type)
            .bind(env.sort_order)
            .bind(env.enabled)
            .bind(Timestamp::now().millis());
        self.execute(q).await.map(drop)
    }

    pub async fn insert_feature(
        &mut self,
        meta: &FeatureMetadata,
        project: &str,
        created_by: &Actor,
    ) -> Result<Timestamp> {
        let now = Timestamp::now();
        let q = sqlx::query(
            "insert into feature (name, project_id, type, description, impression_data, stale, created_at, created_by, \
             created_by_user_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&meta.name)
        .bind(project)
        .bind(&meta.feature_type)
        .bind(&meta.description)
        .bind(meta.impression_data)
        .bind(meta.stale)
        .bind(now.millis())
        .bind(&created_by.name)
        .bind(created_by.user_id);
        self.execute(q).await?;
        Ok(now)
    }

    pub async fn update_feature(&mut self, meta: &FeatureMetadata) -> Result<()> {
        let q = sqlx::query("update feature set type = $2, description = $3, impression_data = $4, stale = $5 where name = $1")
            .bind(&meta.name)
            .bind(&meta.feature_type)
            .bind(&meta.description)
            .bind(meta.impression_data)
            .bind(meta.stale);
        self.execute(q).await.map(drop)
    }

    pub async fn set_feature_archived(
        &mut self,
        name: &str,
        archived_at: Option<Timestamp>,
    ) -> Result<()> {
        let q = sqlx::query("update feature set archived_at = $2 where name = $1")
            .bind(name)
            .bind(archived_at.map(Timestamp::millis));
        self.execute(q).await.map(drop)
    }

    pub async fn delete_feature(&mut self, name: &str) -> Result<()> {
        // Deleted explicitly rather than by cascade: SQLite only cascades with foreign keys on.
        for sql in [
            "delete from feature_strategy_segment where strategy_id in (select strategy_id from feature_strategy where feature_name = $1)",
            "delete from feature_strategy where feature_name = $1",
            "delete from feature_environment where feature_name = $1",
            "delete from feature_tag where feature_name = $1",
            "delete from feature_dependency where child = $1",
            "delete from feature where name = $1",
        ] {
            self.execute(sqlx::query(sql).bind(name)).await?;
        }
        Ok(())
    }

    pub async fn set_feature_enabled(
        &mut self,
        feature: &str,
        environment: &str,
        enabled: bool,
    ) -> Result<()> {
        let q = sqlx::query(
            "insert into feature_environment (feature_name, environment, enabled, variants) values ($1, $2, $3, '[]') \
             on conflict (feature_name, environment) do update set enabled = excluded.enabled",
        )
        .bind(feature)
        .bind(environment)
        .bind(enabled);
        self.execute(q).await.map(drop)
    }

    pub async fn set_feature_variants(
        &mut self,
        feature: &str,
        environment: &str,
        variants: &[Variant],
    ) -> Result<()> {
        let q = sqlx::query(
            "insert into feature_environment (feature_name, environment, enabled, variants) values ($1, $2, false, $3) \
             on conflict (feature_name, environment) do update set variants = excluded.variants",
        )
        .bind(feature)
        .bind(environment)
        .bind(to_json(&variants)?);
        self.execute(q).await.map(drop)
    }

    /// Replaces the parents `child` depends on.
    pub async fn set_feature_dependencies(
        &mut self,
        child: &str,
        dependencies: &[FeatureDependency],
    ) -> Result<()> {
        self.execute(sqlx::query("delete from feature_dependency where child = $1").bind(child))
            .await?;
        for d in dependencies {
            let q = sqlx::query(
                "insert into feature_dependency (child, parent, enabled, variants) values ($1, $2, $3, $4)",
            )
            .bind(child)
            .bind(&d.feature)
            .bind(d.enabled)
            .bind(to_json(&d.variants)?);
            self.execute(q).await?;
        }
        Ok(())
    }

    pub async fn insert_strategy(
        &mut self,
        feature: &str,
        environment: &str,
        s: &Strategy,
    ) -> Result<()> {
        let q = sqlx::query(
            "insert into feature_strategy (strategy_id, feature_name, environment, name, title, disabled, sort_order, \
             parameters, constraints, variants, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&s.id)
        .bind(feature)
        .bind(environment)
        .bind(&s.name)
        .bind(&s.title)
        .bind(s.disabled)
        .bind(s.sort_order)
        .bind(to_json(&s.parameters)?)
        .bind(to_json(&s.constraints)?)
        .bind(to_json(&s.variants)?)
        .bind(Timestamp::now().millis());
        self.execute(q).await?;
        self.set_strategy_segments(&s.id, &s.segments).await
    }

    pub async fn update_strategy(&mut self, s: &Strategy) -> Result<()> {
        let q = sqlx::query(
            "update feature_strategy set name = $2, title = $3, disabled = $4, sort_order = $5, parameters = $6, \
             constraints = $7, variants = $8 where strategy_id = $1",
        )
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.title)
        .bind(s.disabled)
        .bind(s.sort_order)
        .bind(to_json(&s.parameters)?)
        .bind(to_json(&s.constraints)?)
        .bind(to_json(&s.variants)?);
        self.execute(q).await?;
        self.set_strategy_segments(&s.id, &s.segments).await
    }

    async fn set_strategy_segments(&mut self, strategy_id: &str, segments: &[i64]) -> Result<()> {
        self.execute(
            sqlx::query("delete from feature_strategy_segment where strategy_id = $1")
                .bind(strategy_id),
        )
        .await?;
        for segment in segments {
            let q = sqlx::query(
                "insert into feature_strategy_segment (strategy_id, segment_id) values ($1, $2)",
            )
            .bind(strategy_id)
            .bind(*segment);
            self.execute(q).await?;
        }
        Ok(())
    }

    pub async fn delete_strategy(&mut self, strategy_id: &str) -> Result<()> {
        self.execute(
            sqlx::query("delete from feature_strategy_segment where strategy_id = $1")
                .bind(strategy_id),
        )
        .await?;
        self.execute(
            sqlx::query("delete from feature_strategy where strategy_id = $1").bind(strategy_id),
        )
        .await
        .map(drop)
    }

    pub async fn set_strategy_sort_order(
        &mut self,
        strategy_id: &str,
        sort_order: i64,
    ) -> Result<()> {
        let q = sqlx::query("update feature_strategy set sort_order = $2 where strategy_id = $1")
            .bind(strategy_id)
            .bind(sort_order);
        self.execute(q).await.map(drop)
    }

    pub async fn insert_segment(&mut self, spec: &SegmentSpec, created_by: &str) -> Result<i64> {
        self.writes += 1;
        let id: i64 = sqlx::query_scalar(
            "insert into segment (name, description, project_id, constraints, created_at, created_by) \
             values ($1, $2, $3, $4, $5, $6) returning segment_id",
        )
        .bind(&spec.name)
        .bind(&spec.description)
        .bind(&spec.project)
        .bind(to_json(&spec.constraints)?)
        .bind(Timestamp::now().millis())
        .bind(created_by)
        .fetch_one(&mut *self.reader.tx)
        .await?;
        Ok(id)
    }

    pub async fn update_segment(&mut self, id: i64, spec: &SegmentSpec) -> Result<()> {
        let q = sqlx::query("update segment set name = $2, description = $3, project_id = $4, constraints = $5 where segment_id = $1")
            .bind(id)
            .bind(&spec.name)
            .bind(&spec.description)
            .bind(&spec.project)
            .bind(to_json(&spec.constraints)?);
        self.execute(q).await.map(drop)
    }

    pub async fn delete_segment(&mut self, id: i64) -> Result<()> {
        self.execute(sqlx::query("delete from segment where segment_id = $1").bind(id))
            .await
            .map(drop)
    }

    pub async fn insert_tag_type(
        &mut self,
        name: &str,
        description: Option<&str>,
        icon: Option<&str>,
    ) -> Result<()> {
        let q = sqlx::query("insert into tag_type (name, description, icon) values ($1, $2, $3)")
            .bind(name)
            .bind(description)
            .bind(icon);
        self.execute(q).await.map(drop)
    }

    /// Returns whether the tag was new.
    pub async fn insert_feature_tag(&mut self, feature: &str, tag: &Tag) -> Result<bool> {
        let q = sqlx::query(
            "insert into feature_tag (feature_name, tag_type, tag_value, created_at) values ($1, $2, $3, $4) \
             on conflict do nothing",
        )
        .bind(feature)
        .bind(&tag.tag_type)
        .bind(&tag.value)
        .bind(Timestamp::now().millis());
        let added = self.execute(q).await? > 0;
        if !added {
            self.writes -= 1;
        }
        Ok(added)
    }

    /// Returns whether the tag was there.
    pub async fn delete_feature_tag(&mut self, feature: &str, tag: &Tag) -> Result<bool> {
        let q = sqlx::query(
            "delete from feature_tag where feature_name = $1 and tag_type = $2 and tag_value = $3",
        )
        .bind(feature)
        .bind(&tag.tag_type)
        .bind(&tag.value);
        let removed = self.execute(q).await? > 0;
        if !removed {
            self.writes -= 1;
        }
        Ok(removed)
    }

    pub async fn insert_token(&mut self, token: &ApiToken) -> Result<()> {
        let q = sqlx::query(
            "insert into api_token (token_id, secret_hash, secret_prefix, token_name, type, environment, projects, \
             expires_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&token.id)
        .bind(&token.secret_hash)
        .bind(&token.secret_prefix)
        .bind(&token.name)
        .bind(token.kind.as_str())
        .bind(&token.environment)
        .bind(to_json(&token.projects)?)
        .bind(token.expires_at.map(Timestamp::millis))
        .bind(token.created_at.millis());
        self.execute(q).await.map(drop)
    }

    pub async fn set_token_expiry(
        &mut self,
        token_id: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<()> {
        let q = sqlx::query("update api_token set expires_at = $2 where token_id = $1")
            .bind(token_id)
            .bind(expires_at.map(Timestamp::millis));
        self.execute(q).await.map(drop)
    }

    pub async fn delete_token(&mut self, token_id: &str) -> Result<()> {
        self.execute(sqlx::query("delete from api_token where token_id = $1").bind(token_id))
            .await
            .map(drop)
    }
}

/// Writes what SDKs report about themselves — evaluation counts, applications, instances — in
/// one transaction. Unlike [`Writer`] it cannot append events and needs none: these are
/// observations, not configuration, so they must not move the revision
/// ([`Reader::revision`]) and with it every SDK's ETag. It can write only the `client_*`
/// tables, a monitor's check bookkeeping (streaks, last check) and check results
/// (`probe_result`, `probe_rollup_*`), monitor leases (`monitor_lease*`, `store::leases`),
/// never a monitor's status or configuration.
pub struct ObservationWriter {
    pub(super) tx: Transaction<'static, Any>,
    /// As for [`Writer`]: SQLite's single writer.
    _exclusive: Option<OwnedMutexGuard<()>>,
}

impl ObservationWriter {
    pub(super) fn new(
        tx: Transaction<'static, Any>,
        exclusive: Option<OwnedMutexGuard<()>>,
    ) -> Self {
        Self {
            tx,
            _exclusive: exclusive,
        }
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Adds `counts` to the row for `key` and keeps the later `last_seen` (a null one never
    /// wins). The upsert locks the row (PostgreSQL) before the variants are read and merged,
    /// so replicas flushing the same row at once both count.
    pub async fn add_metric_hour(&mut self, key: &MetricKey, counts: &Counts) -> Result<()> {
        // `case`, not SQLite's max(a, b) or PostgreSQL's greatest(a, b): the same text on both.
        let stored: String = sqlx::query_scalar(
            "insert into client_metric_hour (feature_name, environment, app_name, hour, yes, no, variants, last_seen) \
             values ($1, $2, $3, $4, $5, $6, '{}', $7) \
             on conflict (feature_name, environment, app_name, hour) do update \
             set yes = client_metric_hour.yes + excluded.yes, no = client_metric_hour.no + excluded.no, \
             last_seen = case when excluded.last_seen > coalesce(client_metric_hour.last_seen, 0) \
             then excluded.last_seen else client_metric_hour.last_seen end \
             returning variants",
        )
        .bind(&key.feature_name)
        .bind(&key.environment)
        .bind(&key.app_name)
        .bind(key.hour)
        .bind(counts.yes)
        .bind(counts.no)
        .bind(counts.last_seen.map(Timestamp::millis))
        .fetch_one(&mut *self.tx)
        .await?;
        if counts.variants.is_empty() {
            return Ok(());
        }
        let mut merged = Counts {
            variants: from_json(&stored)?,
            ..Counts::default()
        };
        merged.add(counts);
        sqlx::query(
            "update client_metric_hour set variants = $5 \
             where feature_name = $1 and environment = $2 and app_name = $3 and hour = $4",
        )
        .bind(&key.feature_name)
        .bind(&key.environment)
        .bind(&key.app_name)
        .bind(key.hour)
        .bind(to_json(&merged.variants)?)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records that `app_name` was seen at `seen`; `strategies` (from a registration) replace
    /// the stored list when given.
    pub async fn upsert_application(
        &mut self,
        app_name: &str,
        strategies: Option<&[String]>,
        seen: Timestamp,
    ) -> Result<()> {
        let strategies = strategies.map(|s| to_json(&s)).transpose()?;
        sqlx::query(
            "insert into client_application (app_name, strategies, created_at, last_seen) \
             values ($1, coalesce($2, '[]'), $3, $3) \
             on conflict (app_name) do update set \
             strategies = coalesce($2, client_application.strategies), \
             last_seen = case when excluded.last_seen > client_application.last_seen \
             then excluded.last_seen else client_application.last_seen end",
        )
        .bind(app_name)
        .bind(strategies)
        .bind(seen.millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn add_application_usage(&mut self, usage: &ApplicationUsage) -> Result<()> {
        sqlx::query(
            "insert into client_application_usage (app_name, project, environment) values ($1, $2, $3) \
             on conflict do nothing",
        )
        .bind(&usage.app_name)
        .bind(&usage.project)
        .bind(&usage.environment)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Inserts or refreshes an instance; fields it did not report keep their stored values.
    pub async fn upsert_instance(&mut self, i: &ClientInstance) -> Result<()> {
        sqlx::query(
            "insert into client_instance (app_name, instance_id, environment, sdk_version, platform_name, \
             platform_version, client_ip, created_at, last_seen) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             on conflict (app_name, instance_id, environment) do update set \
             sdk_version = coalesce(excluded.sdk_version, client_instance.sdk_version), \
             platform_name = coalesce(excluded.platform_name, client_instance.platform_name), \
             platform_version = coalesce(excluded.platform_version, client_instance.platform_version), \
             client_ip = coalesce(excluded.client_ip, client_instance.client_ip), \
             last_seen = case when excluded.last_seen > client_instance.last_seen \
             then excluded.last_seen else client_instance.last_seen end",
        )
        .bind(&i.app_name)
        .bind(&i.instance_id)
        .bind(&i.environment)
        .bind(&i.sdk_version)
        .bind(&i.platform_name)
        .bind(&i.platform_version)
        .bind(&i.client_ip)
        .bind(i.created_at.millis())
        .bind(i.last_seen.millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

fn metric_hour_from(row: &AnyRow) -> Result<MetricHour> {
    Ok(MetricHour {
        key: MetricKey {
            feature_name: row.try_get("feature_name")?,
            environment: row.try_get("environment")?,
            app_name: row.try_get("app_name")?,
            hour: row.try_get("hour")?,
        },
        counts: Counts {
            yes: row.try_get("yes")?,
            no: row.try_get("no")?,
            variants: from_json(row.try_get::<&str, _>("variants")?)?,
            last_seen: row.try_get::<Option<i64>, _>("last_seen")?.map(Timestamp),
        },
    })
}

fn application_from(row: &AnyRow) -> Result<Application> {
    Ok(Application {
        app_name: row.try_get("app_name")?,
        description: row.try_get("description")?,
        url: row.try_get("url")?,
        color: row.try_get("color")?,
        icon: row.try_get("icon")?,
        strategies: from_json(row.try_get::<&str, _>("strategies")?)?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen: Timestamp(row.try_get("last_seen")?),
    })
}

fn instance_from(row: &AnyRow) -> Result<ClientInstance> {
    Ok(ClientInstance {
        app_name: row.try_get("app_name")?,
        instance_id: row.try_get("instance_id")?,
        environment: row.try_get("environment")?,
        sdk_version: row.try_get("sdk_version")?,
        platform_name: row.try_get("platform_name")?,
        platform_version: row.try_get("platform_version")?,
        client_ip: row.try_get("client_ip")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen: Timestamp(row.try_get("last_seen")?),
    })
}

/// Reading what SDKs reported.
impl Reader {
    /// Counts for `feature` from hours starting at or after `since` (epoch ms), oldest first.
    pub async fn metric_hours(&mut self, feature: &str, since: i64) -> Result<Vec<MetricHour>> {
        let rows = sqlx::query(
            "select * from client_metric_hour where feature_name = $1 and hour >= $2 \
             order by hour, environment, app_name",
        )
        .bind(feature)
        .bind(since)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(metric_hour_from).collect()
    }

    /// When each (flag, environment) was last seen evaluated, for `feature` or (`None`) every
    /// flag. Rows without a sighting (only variant counts, or written before 0004) are skipped.
    pub async fn feature_last_seen(&mut self, feature: Option<&str>) -> Result<LastSeen> {
        let mut sql = Sql::new(
            "select feature_name, environment, max(last_seen) as last_seen from client_metric_hour \
             where last_seen is not null",
        );
        if let Some(feature) = feature {
            sql.push(" and feature_name = ").text(feature);
        }
        sql.push(" group by feature_name, environment");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    (r.try_get("feature_name")?, r.try_get("environment")?),
                    Timestamp(r.try_get("last_seen")?),
                ))
            })
            .collect()
    }

    /// Applications that ever reported `feature`, by name.
    pub async fn apps_seeing_feature(&mut self, feature: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "select distinct app_name from client_metric_hour where feature_name = $1 order by app_name",
        )
        .bind(feature)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Flags `app_name` ever reported, by name.
    pub async fn features_seen_by(&mut self, app_name: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "select distinct feature_name from client_metric_hour where app_name = $1 order by feature_name",
        )
        .bind(app_name)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn applications(&mut self) -> Result<Vec<Application>> {
        let rows = sqlx::query("select * from client_application order by app_name")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(application_from).collect()
    }

    pub async fn application(&mut self, app_name: &str) -> Result<Option<Application>> {
        let row = sqlx::query("select * from client_application where app_name = $1")
            .bind(app_name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(application_from).transpose()
    }

    /// Every application's projects and environments, sorted.
    pub async fn application_usage(&mut self) -> Result<Vec<ApplicationUsage>> {
        let rows = sqlx::query(
            "select * from client_application_usage order by app_name, project, environment",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApplicationUsage {
                    app_name: r.try_get("app_name")?,
                    project: r.try_get("project")?,
                    environment: r.try_get("environment")?,
                })
            })
            .collect()
    }

    /// The instances of `app_name`, most recently seen first.
    pub async fn instances(&mut self, app_name: &str) -> Result<Vec<ClientInstance>> {
        let rows = sqlx::query(
            "select * from client_instance where app_name = $1 \
             order by last_seen desc, instance_id, environment",
        )
        .bind(app_name)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(instance_from).collect()
    }
}

// ==== Monitors (Better Stack's v2 monitor API) ============================================

/// Which monitors to list; unset matches all. Exact matches, as Better Stack's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorFilter {
    pub url: Option<String>,
    pub pronounceable_name: Option<String>,
}

impl MonitorFilter {
    fn where_clause(&self, sql: &mut Sql) {
        // Heartbeats are monitor rows too (0007), but not monitors of the monitor API.
        sql.push(" where monitor_type <> 'heartbeat'");
        if let Some(url) = &self.url {
            sql.push(" and url = ").text(url.clone());
        }
        if let Some(name) = &self.pronounceable_name {
            sql.push(" and pronounceable_name = ").text(name.clone());
        }
    }
}

fn monitor_from(row: &AnyRow) -> Result<Monitor> {
    let type_text: String = row.try_get("monitor_type")?;
    let monitor_type = MonitorType::parse(&type_text)
        .ok_or_else(|| anyhow::anyhow!("stored monitor type {type_text:?} is unknown"))?;
    let port = row
        .try_get::<Option<i64>, _>("port")?
        .map(u16::try_from)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored monitor port: {e}"))?;
    Ok(Monitor {
        id: row.try_get("monitor_id")?,
        spec: MonitorSpec {
            monitor_type,
            url: row.try_get("url")?,
            pronounceable_name: row.try_get("pronounceable_name")?,
            check_frequency: row.try_get("check_frequency")?,
            request_timeout: row.try_get("request_timeout")?,
            confirmation_period: row.try_get("confirmation_period")?,
            recovery_period: row.try_get("recovery_period")?,
            http_method: row.try_get("http_method")?,
            request_headers: from_json(row.try_get::<&str, _>("request_headers")?)?,
            request_body: row.try_get("request_body")?,
            expected_status_codes: from_json(row.try_get::<&str, _>("expected_status_codes")?)?,
            required_keyword: row.try_get("required_keyword")?,
            dns_record_type: row
                .try_get::<Option<String>, _>("dns_record_type")?
                .map(|t| {
                    DnsRecordType::parse(&t)
                        .ok_or_else(|| anyhow::anyhow!("stored dns record type {t:?} is unknown"))
                })
                .transpose()?
                // dns rows from before migration 0009 have none: they queried A records.
                .or((monitor_type == MonitorType::Dns).then_some(DnsRecordType::A)),
            follow_redirects: get_bool(row, "follow_redirects")?,
            remember_cookies: get_bool(row, "remember_cookies")?,
            verify_ssl: get_bool(row, "verify_ssl")?,
            ssl_expiration: row.try_get("ssl_expiration")?,
            port,
            auth_username: row.try_get("auth_username")?,
            auth_password: row.try_get("auth_password")?,
            paused: get_bool(row, "paused")?,
            maintenance_from: row.try_get("maintenance_from")?,
            maintenance_to: row.try_get("maintenance_to")?,
            maintenance_timezone: row.try_get("maintenance_timezone")?,
            maintenance_days: from_json(row.try_get::<&str, _>("maintenance_days")?)?,
            extra: from_json(row.try_get::<&str, _>("pass_through")?)?,
            notification_channels: from_json(row.try_get::<&str, _>("notification_channels")?)?,
        },
        status: row.try_get("status")?,
        paused_at: row.try_get::<Option<i64>, _>("paused_at")?.map(Timestamp),
        last_checked_at: row
            .try_get::<Option<i64>, _>("last_checked_at")?
            .map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

impl Reader {
    /// One page of monitors matching `filter`, oldest first, and how many match in all.
    pub async fn monitors(
        &mut self,
        filter: &MonitorFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Monitor>, i64)> {
        let mut count = Sql::new("select count(*) as n from monitor");
        filter.where_clause(&mut count);
        let total: i64 = count.query().fetch_one(&mut *self.tx).await?.try_get("n")?;
        let mut select = Sql::new("select * from monitor");
        filter.where_clause(&mut select);
        select
            .push(" order by monitor_id limit ")
            .int(limit)
            .push(" offset ")
            .int(offset);
        let rows = select.query().fetch_all(&mut *self.tx).await?;
        Ok((rows.iter().map(monitor_from).collect::<Result<_>>()?, total))
    }

    pub async fn monitor(&mut self, id: i64) -> Result<Option<Monitor>> {
        let row = sqlx::query(
            "select * from monitor where monitor_id = $1 and monitor_type <> 'heartbeat'",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(monitor_from).transpose()
    }
}

/// Binds a monitor's configuration columns, in the order `insert_monitor` and
/// `update_monitor` both list them ($1..$27).
fn bind_monitor_spec<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    spec: &'q MonitorSpec,
) -> Result<sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>> {
    Ok(q.bind(spec.monitor_type.as_str())
        .bind(&spec.url)
        .bind(&spec.pronounceable_name)
        .bind(spec.check_frequency)
        .bind(spec.request_timeout)
        .bind(spec.confirmation_period)
        .bind(spec.recovery_period)
        .bind(&spec.http_method)
        .bind(to_json(&spec.request_headers)?)
        .bind(&spec.request_body)
        .bind(to_json(&spec.expected_status_codes)?)
        .bind(&spec.required_keyword)
        .bind(spec.follow_redirects)
        .bind(spec.remember_cookies)
        .bind(spec.verify_ssl)
        .bind(spec.ssl_expiration)
        .bind(spec.port.map(i64::from))
        .bind(&spec.auth_username)
        .bind(&spec.auth_password)
        .bind(spec.paused)
        .bind(&spec.maintenance_from)
        .bind(&spec.maintenance_to)
        .bind(&spec.maintenance_timezone)
        .bind(to_json(&spec.maintenance_days)?)
        .bind(to_json(&spec.extra)?)
        .bind(spec.dns_record_type.map(DnsRecordType::as_str))
        .bind(to_json(&spec.notification_channels)?))
}

impl Writer {
    /// Stores a new monitor with `status`; returns its id.
    pub async fn insert_monitor(
        &mut self,
        spec: &MonitorSpec,
        status: &str,
        paused_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<i64> {
        self.writes += 1;
        let q = sqlx::query(
            "insert into monitor (monitor_type, url, pronounceable_name, check_frequency, request_timeout, \
             confirmation_period, recovery_period, http_method, request_headers, request_body, \
             expected_status_codes, required_keyword, follow_redirects, remember_cookies, verify_ssl, \
             ssl_expiration, port, auth_username, auth_password, paused, maintenance_from, maintenance_to, \
             maintenance_timezone, maintenance_days, pass_through, dns_record_type, notification_channels, \
             status, paused_at, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) returning monitor_id",
        );
        let row = bind_monitor_spec(q, spec)?
            .bind(status)
            .bind(paused_at.map(Timestamp::millis))
            .bind(now.millis())
            .bind(now.millis())
            .fetch_one(&mut *self.reader.tx)
            .await?;
        Ok(row.try_get("monitor_id")?)
    }

    /// Replaces a monitor's configuration and status; false if there is no such monitor.
    pub async fn update_monitor(
        &mut self,
        id: i64,
        spec: &MonitorSpec,
        status: &str,
        paused_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        // The spec's columns come first ($1..$27, as in insert_monitor); the id is $31.
        let q = sqlx::query(
            "update monitor set monitor_type = $1, url = $2, pronounceable_name = $3, check_frequency = $4, \
             request_timeout = $5, confirmation_period = $6, recovery_period = $7, http_method = $8, \
             request_headers = $9, request_body = $10, expected_status_codes = $11, required_keyword = $12, \
             follow_redirects = $13, remember_cookies = $14, verify_ssl = $15, ssl_expiration = $16, port = $17, \
             auth_username = $18, auth_password = $19, paused = $20, maintenance_from = $21, maintenance_to = $22, \
             maintenance_timezone = $23, maintenance_days = $24, pass_through = $25, dns_record_type = $26, \
             notification_channels = $27, status = $28, paused_at = $29, updated_at = $30 where monitor_id = $31",
        );
        let q = bind_monitor_spec(q, spec)?
            .bind(status)
            .bind(paused_at.map(Timestamp::millis))
            .bind(now.millis())
            .bind(id);
        Ok(self.execute(q).await? > 0)
    }

    /// False if there is no such monitor.
    pub async fn delete_monitor(&mut self, id: i64) -> Result<bool> {
        let q = sqlx::query("delete from monitor where monitor_id = $1").bind(id);
        Ok(self.execute(q).await? > 0)
    }
}

// ==== Incidents and the monitor status machine ============================================

fn incident_from(row: &AnyRow) -> Result<Incident> {
    Ok(Incident {
        id: row.try_get("incident_id")?,
        monitor_id: row.try_get("monitor_id")?,
        started_at: Timestamp(row.try_get("started_at")?),
        resolved_at: row.try_get::<Option<i64>, _>("resolved_at")?.map(Timestamp),
        cause_code: row.try_get("cause_code")?,
        cause: row.try_get("cause")?,
        response_status: row.try_get("response_status")?,
        response_detail: row.try_get("response_detail")?,
        monitor_name: row.try_get("pronounceable_name")?,
        monitor_url: row.try_get("url")?,
        http_method: row.try_get("http_method")?,
    })
}

const INCIDENT_SELECT: &str = "select i.incident_id, i.monitor_id, i.started_at, i.resolved_at, i.cause_code, \
     i.cause, i.response_status, i.response_detail, m.pronounceable_name, m.url, m.http_method \
     from incident i left join monitor m on m.monitor_id = i.monitor_id";

impl IncidentFilter {
    fn where_clause(&self, sql: &mut Sql) {
        sql.push(" where 1 = 1");
        if let Some(id) = self.monitor_id {
            sql.push(" and i.monitor_id = ").int(id);
        }
        if let Some(from) = self.from {
            sql.push(" and i.started_at >= ").int(from.millis());
        }
        if let Some(to) = self.to {
            sql.push(" and i.started_at < ").int(to.millis());
        }
        match self.resolved {
            Some(true) => sql.push(" and i.resolved_at is not null"),
            Some(false) => sql.push(" and i.resolved_at is null"),
            None => sql,
        };
    }
}

impl Reader {
    /// A monitor's status-machine state and periods, or `None` if there is no such monitor.
    /// The open incident comes from the `incident` table.
    pub async fn monitor_state(&mut self, id: i64) -> Result<Option<(MonitorState, Policy)>> {
        let row = sqlx::query(
            "select status, failing_since, succeeding_since, confirmation_period, recovery_period, \
             (select max(incident_id) from incident where monitor_id = $1 and resolved_at is null) as open_incident \
             from monitor where monitor_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let status_text: String = row.try_get("status")?;
        let status = Status::parse(&status_text)
            .ok_or_else(|| anyhow::anyhow!("stored monitor status {status_text:?} is unknown"))?;
        Ok(Some((
            MonitorState {
                status,
                failing_since: row
                    .try_get::<Option<i64>, _>("failing_since")?
                    .map(Timestamp),
                succeeding_since: row
                    .try_get::<Option<i64>, _>("succeeding_since")?
                    .map(Timestamp),
                open_incident: row.try_get("open_incident")?,
            },
            Policy {
                confirmation_period: row.try_get("confirmation_period")?,
                recovery_period: row.try_get("recovery_period")?,
            },
        )))
    }

    /// One page of incidents matching `filter`, newest first, and how many match in all.
    pub async fn incidents(
        &mut self,
        filter: &IncidentFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Incident>, i64)> {
        let mut count = Sql::new("select count(*) as n from incident i");
        filter.where_clause(&mut count);
        let total: i64 = count.query().fetch_one(&mut *self.tx).await?.try_get("n")?;
        let mut select = Sql::new(INCIDENT_SELECT);
        filter.where_clause(&mut select);
        select
            .push(" order by i.started_at desc, i.incident_id desc limit ")
            .int(limit)
            .push(" offset ")
            .int(offset);
        let rows = select.query().fetch_all(&mut *self.tx).await?;
        Ok((
            rows.iter().map(incident_from).collect::<Result<_>>()?,
            total,
        ))
    }

    pub async fn incident(&mut self, id: i64) -> Result<Option<Incident>> {
        let mut select = Sql::new(INCIDENT_SELECT);
        select.push(" where i.incident_id = ").int(id);
        let row = select.query().fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(incident_from).transpose()
    }
}

impl Writer {
    /// Stores a status change and the streaks behind it, with when the check ran.
    pub async fn set_monitor_state(
        &mut self,
        id: i64,
        state: &MonitorState,
        checked_at: Timestamp,
        response_ms: Option<i64>,
    ) -> Result<bool> {
        let q = sqlx::query(
            "update monitor set status = $2, failing_since = $3, succeeding_since = $4, \
             last_checked_at = $5, last_response_ms = $6 where monitor_id = $1",
        )
        .bind(id)
        .bind(state.status.as_str())
        .bind(state.failing_since.map(Timestamp::millis))
        .bind(state.succeeding_since.map(Timestamp::millis))
        .bind(checked_at.millis())
        .bind(response_ms);
        Ok(self.execute(q).await? > 0)
    }

    /// Forgets the failure and success streaks (a monitor paused or resumed starts afresh).
    pub async fn reset_monitor_streaks(&mut self, id: i64) -> Result<bool> {
        let q = sqlx::query(
            "update monitor set failing_since = null, succeeding_since = null where monitor_id = $1",
        )
        .bind(id);
        Ok(self.execute(q).await? > 0)
    }

    /// Opens an incident; returns its id. A second open incident for the same monitor is
    /// refused by the database (`incident_one_open`): [`StoreError::Conflict`].
    pub async fn open_incident(&mut self, incident: &NewIncident) -> Result<i64> {
        self.writes += 1;
        let id: i64 = sqlx::query_scalar(
            "insert into incident (monitor_id, started_at, resolved_at, cause_code, cause, response_status, \
             response_detail) values ($1, $2, null, $3, $4, $5, $6) returning incident_id",
        )
        .bind(incident.monitor_id)
        .bind(incident.started_at.millis())
        .bind(&incident.cause_code)
        .bind(&incident.cause)
        .bind(incident.response_status)
        .bind(&incident.response_detail)
        .fetch_one(&mut *self.reader.tx)
        .await?;
        Ok(id)
    }

    /// Resolves an open incident; false if there is no such open incident.
    pub async fn resolve_incident(&mut self, id: i64, at: Timestamp) -> Result<bool> {
        let q = sqlx::query(
            "update incident set resolved_at = $2 where incident_id = $1 and resolved_at is null",
        )
        .bind(id)
        .bind(at.millis());
        Ok(self.execute(q).await? > 0)
    }
}

impl ObservationWriter {
    /// Records a check that did not change the monitor's status: its streaks, when it ran and
    /// how long it took. Never touches `status`, so it needs no event (see ARCHITECTURE.md).
    pub async fn record_monitor_check(
        &mut self,
        id: i64,
        failing_since: Option<Timestamp>,
        succeeding_since: Option<Timestamp>,
        checked_at: Timestamp,
        response_ms: Option<i64>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "update monitor set failing_since = $2, succeeding_since = $3, last_checked_at = $4, \
             last_response_ms = $5 where monitor_id = $1",
        )
        .bind(id)
        .bind(failing_since.map(Timestamp::millis))
        .bind(succeeding_since.map(Timestamp::millis))
        .bind(checked_at.millis())
        .bind(response_ms)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

// ==== Probe results and their roll-ups (migrations/*/0008_probe_result.sql) ================

/// Which roll-up table: per minute (pruned with the raw results) or per hour (kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupTable {
    Minute,
    Hour,
}

/// `case`, not max()/greatest(): the same text on both backends.
macro_rules! rollup_upsert {
    ($t:literal) => {
        concat!(
            "insert into ",
            $t,
            " (monitor_id, bucket, checks, ups, response_ms_sum, response_ms_max) ",
            "values ($1, $2, $3, $4, $5, $6) ",
            "on conflict (monitor_id, bucket) do update set ",
            "checks = ",
            $t,
            ".checks + excluded.checks, ups = ",
            $t,
            ".ups + excluded.ups, ",
            "response_ms_sum = ",
            $t,
            ".response_ms_sum + excluded.response_ms_sum, ",
            "response_ms_max = case when excluded.response_ms_max > ",
            $t,
            ".response_ms_max ",
            "then excluded.response_ms_max else ",
            $t,
            ".response_ms_max end"
        )
    };
}

impl RollupTable {
    fn upsert(self) -> &'static str {
        match self {
            Self::Minute => rollup_upsert!("probe_rollup_minute"),
            Self::Hour => rollup_upsert!("probe_rollup_hour"),
        }
    }
}

impl ObservationWriter {
    /// The ids among `ids` that name a monitor, so a batch skips results of monitors deleted
    /// since they were checked (their rows would break the foreign key).
    pub async fn existing_monitors(&mut self, ids: &[i64]) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("select monitor_id from monitor where monitor_id in (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(")");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(|r| Ok(r.try_get("monitor_id")?)).collect()
    }

    /// Appends one raw check result.
    pub async fn insert_probe_result(&mut self, r: &ProbeRecord) -> Result<()> {
        sqlx::query(
            "insert into probe_result (monitor_id, checked_at, up, response_ms, cause_code, status_code) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.monitor_id)
        .bind(r.checked_at.millis())
        .bind(r.up)
        .bind(r.response_ms)
        .bind(r.cause_code)
        .bind(r.status_code)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Adds `rollup` to the monitor's row for `bucket`, creating it if needed.
    pub async fn add_probe_rollup(
        &mut self,
        table: RollupTable,
        monitor_id: i64,
        bucket: i64,
        rollup: &Rollup,
    ) -> Result<()> {
        sqlx::query(table.upsert())
            .bind(monitor_id)
            .bind(bucket)
            .bind(rollup.checks)
            .bind(rollup.ups)
            .bind(rollup.response_ms_sum)
            .bind(rollup.response_ms_max)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Deletes raw results checked before `before` and minute roll-ups whose minute started
    /// before it; hour roll-ups are kept. Returns how many rows went.
    pub async fn prune_probe_results(&mut self, before: Timestamp) -> Result<u64> {
        let raw = sqlx::query("delete from probe_result where checked_at < $1")
            .bind(before.millis())
            .execute(&mut *self.tx)
            .await?;
        let minutes = sqlx::query("delete from probe_rollup_minute where bucket < $1")
            .bind(before.millis())
            .execute(&mut *self.tx)
            .await?;
        Ok(raw.rows_affected() + minutes.rows_affected())
    }
}

impl Reader {
    /// A monitor's minute roll-ups from `since` on, oldest first, as (bucket, roll-up).
    pub async fn probe_rollup_minutes(
        &mut self,
        monitor_id: i64,
        since: Timestamp,
    ) -> Result<Vec<(Timestamp, Rollup)>> {
        let rows = sqlx::query(
            "select bucket, checks, ups, response_ms_sum, response_ms_max from probe_rollup_minute \
             where monitor_id = $1 and bucket >= $2 order by bucket",
        )
        .bind(monitor_id)
        .bind(since.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    Timestamp(r.try_get("bucket")?),
                    Rollup {
                        checks: r.try_get("checks")?,
                        ups: r.try_get("ups")?,
                        response_ms_sum: r.try_get("response_ms_sum")?,
                        response_ms_max: r.try_get("response_ms_max")?,
                    },
                ))
            })
            .collect()
    }

    /// How many raw results a monitor has (for tests and diagnostics).
    pub async fn probe_result_count(&mut self, monitor_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("select count(*) from probe_result where monitor_id = $1")
                .bind(monitor_id)
                .fetch_one(&mut *self.tx)
                .await?,
        )
    }

    /// (started_at, resolved_at) of the monitor's incidents that overlap `[start, end)`, oldest
    /// first; `resolved_at` is `None` while open.
    pub async fn incident_spans(
        &mut self,
        monitor_id: i64,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<(Timestamp, Option<Timestamp>)>> {
        let rows = sqlx::query(
            "select started_at, resolved_at from incident where monitor_id = $1 \
             and started_at < $3 and (resolved_at is null or resolved_at > $2) order by started_at",
        )
        .bind(monitor_id)
        .bind(start.millis())
        .bind(end.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    Timestamp(r.try_get("started_at")?),
                    r.try_get::<Option<i64>, _>("resolved_at")?.map(Timestamp),
                ))
            })
            .collect()
    }
}

// ==== Heartbeats (Better Stack's v2 heartbeat API) ========================================
// Monitor rows with monitor_type 'heartbeat' (see migrations/*/0007_heartbeat.sql).

const HEARTBEAT_COLUMNS: &str = "monitor_id, pronounceable_name, check_frequency, heartbeat_grace, \
     heartbeat_token, paused, pass_through, status, paused_at, last_ping_at, heartbeat_missed_at, \
     created_at, updated_at";

fn heartbeat_from(row: &AnyRow) -> Result<Heartbeat> {
    Ok(Heartbeat {
        id: row.try_get("monitor_id")?,
        spec: HeartbeatSpec {
            name: row.try_get("pronounceable_name")?,
            period: row.try_get("check_frequency")?,
            grace: row
                .try_get::<Option<i64>, _>("heartbeat_grace")?
                .unwrap_or(0),
            paused: get_bool(row, "paused")?,
            extra: from_json(row.try_get::<&str, _>("pass_through")?)?,
        },
        token: row
            .try_get::<Option<String>, _>("heartbeat_token")?
            .unwrap_or_default(),
        status: row.try_get("status")?,
        paused_at: row.try_get::<Option<i64>, _>("paused_at")?.map(Timestamp),
        last_ping_at: row
            .try_get::<Option<i64>, _>("last_ping_at")?
            .map(Timestamp),
        missed_at: row
            .try_get::<Option<i64>, _>("heartbeat_missed_at")?
            .map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

impl Reader {
    /// One page of heartbeats, oldest first, and how many there are in all.
    pub async fn heartbeats(&mut self, limit: i64, offset: i64) -> Result<(Vec<Heartbeat>, i64)> {
        let total: i64 =
            sqlx::query_scalar("select count(*) from monitor where monitor_type = 'heartbeat'")
                .fetch_one(&mut *self.tx)
                .await?;
        let mut select = Sql::new(&format!(
            "select {HEARTBEAT_COLUMNS} from monitor where monitor_type = 'heartbeat' order by monitor_id limit "
        ));
        select.int(limit).push(" offset ").int(offset);
        let rows = select.query().fetch_all(&mut *self.tx).await?;
        Ok((
            rows.iter().map(heartbeat_from).collect::<Result<_>>()?,
            total,
        ))
    }

    pub async fn heartbeat(&mut self, id: i64) -> Result<Option<Heartbeat>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {HEARTBEAT_COLUMNS} from monitor where monitor_id = $1 and monitor_type = 'heartbeat'"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(heartbeat_from).transpose()
    }

    /// The heartbeat whose ping URL carries `token`.
    pub async fn heartbeat_by_token(&mut self, token: &str) -> Result<Option<Heartbeat>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {HEARTBEAT_COLUMNS} from monitor where heartbeat_token = $1 and monitor_type = 'heartbeat'"
        )))
        .bind(token)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(heartbeat_from).transpose()
    }

    /// Heartbeats not paused whose last ping is older than period + grace at `now`: the
    /// candidates for a missed ping (`domain::heartbeat::missed_ping` decides).
    pub async fn overdue_heartbeats(&mut self, now: Timestamp) -> Result<Vec<Heartbeat>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {HEARTBEAT_COLUMNS} from monitor where monitor_type = 'heartbeat' and paused = $1 \
             and last_ping_at is not null \
             and last_ping_at + (check_frequency + coalesce(heartbeat_grace, 0)) * 1000 < $2 \
             order by monitor_id"
        )))
        .bind(false)
        .bind(now.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(heartbeat_from).collect()
    }
}

impl Writer {
    /// Stores a new heartbeat as a monitor row with `status`; returns its id.
    pub async fn insert_heartbeat(
        &mut self,
        spec: &HeartbeatSpec,
        token: &str,
        status: &str,
        paused_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<i64> {
        self.writes += 1;
        let id: i64 = sqlx::query_scalar(
            "insert into monitor (monitor_type, url, pronounceable_name, check_frequency, request_timeout, \
             confirmation_period, recovery_period, http_method, request_headers, request_body, \
             expected_status_codes, follow_redirects, remember_cookies, verify_ssl, paused, \
             maintenance_timezone, maintenance_days, pass_through, status, paused_at, created_at, updated_at, \
             heartbeat_grace, heartbeat_token) \
             values ('heartbeat', '', $1, $2, 0, 0, 0, 'get', '[]', '', '[]', $3, $3, $3, $4, 'UTC', '[]', $5, \
             $6, $7, $8, $8, $9, $10) returning monitor_id",
        )
        .bind(&spec.name)
        .bind(spec.period)
        .bind(false)
        .bind(spec.paused)
        .bind(to_json(&spec.extra)?)
        .bind(status)
        .bind(paused_at.map(Timestamp::millis))
        .bind(now.millis())
        .bind(spec.grace)
        .bind(token)
        .fetch_one(&mut *self.reader.tx)
        .await?;
        Ok(id)
    }

    /// Replaces a heartbeat's configuration and status; `restart_clock` forgets its last ping
    /// and reported miss (a resumed heartbeat waits for a new first ping). False if there is
    /// no such heartbeat.
    pub async fn update_heartbeat(
        &mut self,
        id: i64,
        spec: &HeartbeatSpec,
        status: &str,
        paused_at: Option<Timestamp>,
        restart_clock: bool,
        now: Timestamp,
    ) -> Result<bool> {
        let q = sqlx::query(
            "update monitor set pronounceable_name = $2, check_frequency = $3, heartbeat_grace = $4, \
             paused = $5, pass_through = $6, status = $7, paused_at = $8, updated_at = $9, \
             last_ping_at = case when $10 then null else last_ping_at end, \
             heartbeat_missed_at = case when $10 then null else heartbeat_missed_at end \
             where monitor_id = $1 and monitor_type = 'heartbeat'",
        )
        .bind(id)
        .bind(&spec.name)
        .bind(spec.period)
        .bind(spec.grace)
        .bind(spec.paused)
        .bind(to_json(&spec.extra)?)
        .bind(status)
        .bind(paused_at.map(Timestamp::millis))
        .bind(now.millis())
        .bind(restart_clock);
        Ok(self.execute(q).await? > 0)
    }

    /// Deletes a heartbeat (and, by cascade, its incidents); false if there is no such heartbeat.
    pub async fn delete_heartbeat(&mut self, id: i64) -> Result<bool> {
        let q =
            sqlx::query("delete from monitor where monitor_id = $1 and monitor_type = 'heartbeat'")
                .bind(id);
        Ok(self.execute(q).await? > 0)
    }
}

impl ObservationWriter {
    /// Records that a ping arrived at `at` (bookkeeping: no event).
    pub async fn record_heartbeat_ping(&mut self, id: i64, at: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "update monitor set last_ping_at = $2 where monitor_id = $1 and monitor_type = 'heartbeat'",
        )
        .bind(id)
        .bind(at.millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Claims the report of a missed ping at `now`, if the heartbeat's last ping and last
    /// reported miss are still what the caller decided on. False when a ping arrived or
    /// another replica reported the miss in between: then the caller reports nothing.
    pub async fn claim_heartbeat_miss(
        &mut self,
        id: i64,
        seen: &Heartbeat,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "update monitor set heartbeat_missed_at = $2 where monitor_id = $1 \
             and monitor_type = 'heartbeat' and last_ping_at = $3 \
             and coalesce(heartbeat_missed_at, -1) = $4",
        )
        .bind(id)
        .bind(now.millis())
        .bind(seen.last_ping_at.map_or(-1, Timestamp::millis))
        .bind(seen.missed_at.map_or(-1, Timestamp::millis))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod revision_tests {
    use super::*;
    use crate::domain::event::kind;

    /// The index is used only if its condition is the query's, so both migrations must say
    /// exactly what `revision_predicate` (and so `moves_revision`) says.
    #[test]
    fn the_revision_index_indexes_what_the_revision_query_asks_for() {
        let predicate = revision_predicate();
        for migration in [
            include_str!("../../migrations/sqlite/0013_event_revision.sql"),
            include_str!("../../migrations/postgres/0013_event_revision.sql"),
        ] {
            let sql: String = migration
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join(" ");
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(
                sql,
                format!("create index event_revision_idx on event (event_id) where {predicate};")
            );
        }
        // tests/api/revision.rs checks both planners answer this from the index.
        assert_eq!(
            revision_sql(),
            format!("select max(event_id) from event where {predicate}")
        );
        // Literals go into the SQL as they are.
        assert!(
            REVISION_TYPES_WITHOUT_FEATURE
                .iter()
                .all(|t| !t.contains('\'') && !t.contains('\\'))
        );
    }

    #[test]
    fn flag_and_segment_events_move_the_revision_others_do_not() {
        assert!(moves_revision(kind::FEATURE_ENVIRONMENT_ENABLED, Some("f")));
        assert!(moves_revision(kind::FEATURE_TAGGED, Some("f")));
        assert!(moves_revision(kind::SEGMENT_UPDATED, None));
        assert!(moves_revision(kind::SEGMENT_DELETED, None));
        for other in [
            kind::MONITOR_CREATED,
            kind::MONITOR_STATUS_CHANGED,
            kind::INCIDENT_OPENED,
            kind::HEARTBEAT_UPDATED,
            kind::PROJECT_CREATED,
            kind::ENVIRONMENT_CREATED,
            kind::TAG_TYPE_CREATED,
            kind::API_TOKEN_CREATED,
        ] {
            assert!(!moves_revision(other, None), "{other}");
        }
    }
}
