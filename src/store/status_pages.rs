//! Status pages and their resources (migrations/*/0014_status_page.sql).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::Timestamp;
use crate::domain::status_page::{
    ResourceSpec, ResourceType, StatusPage, StatusPageResource, StatusPageSpec,
};
use crate::store::StoreError;
use crate::store::query::Sql;
use crate::store::sql::{Reader, Writer, from_json, get_bool, to_json};

type Result<T> = std::result::Result<T, StoreError>;

const PAGE_COLUMNS: &str = "status_page_id, company_name, company_url, subdomain, timezone, \
     history, announcement, published, hide_from_search_engines, theme, password_enabled, \
     password_hash, pass_through, created_at, updated_at";

const RESOURCE_COLUMNS: &str = "status_page_resource_id, status_page_id, resource_type, \
     resource_id, public_name, explanation, position, widget_type, pass_through, created_at, \
     updated_at";

/// What a page needs to know of a resource's monitor (or heartbeat) to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    /// `monitor.monitor_type`: a monitor type, or `heartbeat`.
    pub monitor_type: String,
    /// The monitor's status (`up`, `down`, `paused`…).
    pub status: String,
    pub created_at: Timestamp,
}

/// An incident as a public page may show it: no monitor name, URL or check detail.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicIncident {
    pub monitor_id: i64,
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub cause_code: Option<String>,
    pub response_status: Option<i64>,
}

fn page_from(row: &AnyRow) -> Result<StatusPage> {
    Ok(StatusPage {
        id: row.try_get("status_page_id")?,
        spec: StatusPageSpec {
            company_name: row.try_get("company_name")?,
            company_url: row.try_get("company_url")?,
            subdomain: row.try_get("subdomain")?,
            timezone: row.try_get("timezone")?,
            history: row.try_get("history")?,
            announcement: row.try_get("announcement")?,
            published: get_bool(row, "published")?,
            hide_from_search_engines: get_bool(row, "hide_from_search_engines")?,
            theme: row.try_get("theme")?,
            password_enabled: get_bool(row, "password_enabled")?,
            extra: from_json(row.try_get::<&str, _>("pass_through")?)?,
        },
        password_hash: row.try_get("password_hash")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn resource_from(row: &AnyRow) -> Result<StatusPageResource> {
    let kind: String = row.try_get("resource_type")?;
    Ok(StatusPageResource {
        id: row.try_get("status_page_resource_id")?,
        status_page_id: row.try_get("status_page_id")?,
        spec: ResourceSpec {
            resource_type: ResourceType::parse(&kind)
                .ok_or_else(|| anyhow::anyhow!("stored resource type {kind:?} is unknown"))?,
            resource_id: row.try_get("resource_id")?,
            public_name: row.try_get("public_name")?,
            explanation: row.try_get("explanation")?,
            position: Some(row.try_get("position")?),
            widget_type: row.try_get("widget_type")?,
            extra: from_json(row.try_get::<&str, _>("pass_through")?)?,
        },
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

impl Reader {
    /// Pages matching `condition` (a `where` clause over `status_page`), by id.
    async fn select_status_pages(
        &mut self,
        condition: impl FnOnce(&mut Sql),
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StatusPage>> {
        let mut sql = Sql::new(&format!("select {PAGE_COLUMNS} from status_page where "));
        condition(&mut sql);
        sql.push(" order by status_page_id limit ")
            .int(limit)
            .push(" offset ")
            .int(offset);
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(page_from).collect()
    }

    /// One page of status pages, oldest first, and how many there are in all.
    pub async fn status_pages(
        &mut self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StatusPage>, i64)> {
        let total: i64 = sqlx::query_scalar("select count(*) from status_page")
            .fetch_one(&mut *self.tx)
            .await?;
        let pages = self
            .select_status_pages(
                |sql| {
                    sql.push("1 = 1");
                },
                limit,
                offset,
            )
            .await?;
        Ok((pages, total))
    }

    /// Published pages, oldest first: what `/status` lists.
    pub async fn published_status_pages(&mut self) -> Result<Vec<StatusPage>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {PAGE_COLUMNS} from status_page where published = $1 order by status_page_id"
        )))
        .bind(true)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(page_from).collect()
    }

    pub async fn status_page(&mut self, id: i64) -> Result<Option<StatusPage>> {
        let pages = self
            .select_status_pages(
                |sql| {
                    sql.push("status_page_id = ").int(id);
                },
                1,
                0,
            )
            .await?;
        Ok(pages.into_iter().next())
    }

    pub async fn status_page_by_subdomain(
        &mut self,
        subdomain: &str,
    ) -> Result<Option<StatusPage>> {
        let pages = self
            .select_status_pages(
                |sql| {
                    sql.push("subdomain = ").text(subdomain);
                },
                1,
                0,
            )
            .await?;
        Ok(pages.into_iter().next())
    }

    /// A page's resources in the order it shows them (position, then id).
    pub async fn status_page_resources(&mut self, page_id: i64) -> Result<Vec<StatusPageResource>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {RESOURCE_COLUMNS} from status_page_resource where status_page_id = $1 \
             order by position, status_page_resource_id"
        )))
        .bind(page_id)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(resource_from).collect()
    }

    pub async fn status_page_resource(
        &mut self,
        page_id: i64,
        id: i64,
    ) -> Result<Option<StatusPageResource>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {RESOURCE_COLUMNS} from status_page_resource \
             where status_page_id = $1 and status_page_resource_id = $2"
        )))
        .bind(page_id)
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(resource_from).transpose()
    }

    /// Every resource, on any page, that shows monitor (or heartbeat) `monitor_id`.
    pub async fn resources_showing(&mut self, monitor_id: i64) -> Result<Vec<StatusPageResource>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {RESOURCE_COLUMNS} from status_page_resource where resource_id = $1 \
             order by status_page_resource_id"
        )))
        .bind(monitor_id)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(resource_from).collect()
    }

    /// The position after the page's last resource (0 for an empty page).
    pub async fn next_resource_position(&mut self, page_id: i64) -> Result<i64> {
        let max: Option<i64> = sqlx::query_scalar(
            "select max(position) from status_page_resource where status_page_id = $1",
        )
        .bind(page_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(max.map_or(0, |m| m + 1))
    }

    /// The monitor row `id` (a monitor or a heartbeat) as a page shows it, if it exists.
    pub async fn watched(&mut self, id: i64) -> Result<Option<Watched>> {
        let row = sqlx::query(
            "select monitor_type, status, created_at from monitor where monitor_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| {
            Ok(Watched {
                monitor_type: r.try_get("monitor_type")?,
                status: r.try_get("status")?,
                created_at: Timestamp(r.try_get("created_at")?),
            })
        })
        .transpose()
    }

    /// Incidents of `monitor_ids` open at or after `since`, newest first, at most `limit`.
    pub async fn public_incidents(
        &mut self,
        monitor_ids: &[i64],
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<PublicIncident>> {
        if monitor_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "select monitor_id, started_at, resolved_at, cause_code, response_status \
             from incident where monitor_id in (",
        );
        for (i, id) in monitor_ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(") and (resolved_at is null or resolved_at > ")
            .int(since.millis())
            .push(") order by started_at desc, incident_id desc limit ")
            .int(limit);
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|r| {
                Ok(PublicIncident {
                    monitor_id: r.try_get("monitor_id")?,
                    started_at: Timestamp(r.try_get("started_at")?),
                    resolved_at: r.try_get::<Option<i64>, _>("resolved_at")?.map(Timestamp),
                    cause_code: r.try_get("cause_code")?,
                    response_status: r.try_get("response_status")?,
                })
            })
            .collect()
    }
}

impl Writer {
    pub async fn insert_status_page(
        &mut self,
        spec: &StatusPageSpec,
        password_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<i64> {
        let q = sqlx::query(
            "insert into status_page (company_name, company_url, subdomain, timezone, history, \
             announcement, published, hide_from_search_engines, theme, password_enabled, \
             password_hash, pass_through, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             returning status_page_id",
        )
        .bind(&spec.company_name)
        .bind(&spec.company_url)
        .bind(&spec.subdomain)
        .bind(&spec.timezone)
        .bind(spec.history)
        .bind(&spec.announcement)
        .bind(spec.published)
        .bind(spec.hide_from_search_engines)
        .bind(&spec.theme)
        .bind(spec.password_enabled)
        .bind(password_hash)
        .bind(to_json(&spec.extra)?)
        .bind(now.millis());
        self.insert_returning_id(q).await
    }

    /// Replaces a page's configuration; its password hash too when `password_hash` is given.
    pub async fn update_status_page(
        &mut self,
        id: i64,
        spec: &StatusPageSpec,
        password_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        let q = sqlx::query(
            "update status_page set company_name = $2, company_url = $3, subdomain = $4, \
             timezone = $5, history = $6, announcement = $7, published = $8, \
             hide_from_search_engines = $9, theme = $10, password_enabled = $11, \
             password_hash = coalesce($12, password_hash), pass_through = $13, updated_at = $14 \
             where status_page_id = $1",
        )
        .bind(id)
        .bind(&spec.company_name)
        .bind(&spec.company_url)
        .bind(&spec.subdomain)
        .bind(&spec.timezone)
        .bind(spec.history)
        .bind(&spec.announcement)
        .bind(spec.published)
        .bind(spec.hide_from_search_engines)
        .bind(&spec.theme)
        .bind(spec.password_enabled)
        .bind(password_hash)
        .bind(to_json(&spec.extra)?)
        .bind(now.millis());
        Ok(self.execute(q).await? > 0)
    }

    /// Deletes the page and, by cascade, its resources.
    pub async fn delete_status_page(&mut self, id: i64) -> Result<bool> {
        let q = sqlx::query("delete from status_page where status_page_id = $1").bind(id);
        Ok(self.execute(q).await? > 0)
    }

    pub async fn insert_status_page_resource(
        &mut self,
        page_id: i64,
        spec: &ResourceSpec,
        position: i64,
        now: Timestamp,
    ) -> Result<i64> {
        let q = sqlx::query(
            "insert into status_page_resource (status_page_id, resource_type, resource_id, \
             public_name, explanation, position, widget_type, pass_through, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning status_page_resource_id",
        )
        .bind(page_id)
        .bind(spec.resource_type.as_str())
        .bind(spec.resource_id)
        .bind(&spec.public_name)
        .bind(&spec.explanation)
        .bind(position)
        .bind(&spec.widget_type)
        .bind(to_json(&spec.extra)?)
        .bind(now.millis());
        self.insert_returning_id(q).await
    }

    pub async fn update_status_page_resource(
        &mut self,
        id: i64,
        spec: &ResourceSpec,
        position: i64,
        now: Timestamp,
    ) -> Result<bool> {
        let q = sqlx::query(
            "update status_page_resource set resource_type = $2, resource_id = $3, \
             public_name = $4, explanation = $5, position = $6, widget_type = $7, \
             pass_through = $8, updated_at = $9 where status_page_resource_id = $1",
        )
        .bind(id)
        .bind(spec.resource_type.as_str())
        .bind(spec.resource_id)
        .bind(&spec.public_name)
        .bind(&spec.explanation)
        .bind(position)
        .bind(&spec.widget_type)
        .bind(to_json(&spec.extra)?)
        .bind(now.millis());
        Ok(self.execute(q).await? > 0)
    }

    pub async fn delete_status_page_resource(&mut self, id: i64) -> Result<bool> {
        let q = sqlx::query("delete from status_page_resource where status_page_resource_id = $1")
            .bind(id);
        Ok(self.execute(q).await? > 0)
    }
}
