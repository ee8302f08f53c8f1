//! Projects and environments.

use serde::Deserialize;

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::feature::{Environment, Project};
use crate::domain::name::parse_url_friendly;
use crate::domain::{Invalid, Timestamp};
use crate::service::{Result, Service, ServiceError};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInput {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub env_type: Option<String>,
    #[serde(default)]
    pub sort_order: Option<i64>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl Service {
    /// Projects with their live flag counts.
    pub async fn list_projects(&self) -> Result<Vec<(Project, i64)>> {
        let mut r = self.store.read().await?;
        let counts = r.feature_counts().await?;
        let projects = r.projects().await?;
        Ok(projects
            .into_iter()
            .map(|p| {
                let n = counts.get(&p.id).copied().unwrap_or(0);
                (p, n)
            })
            .collect())
    }

    pub async fn get_project(&self, id: &str) -> Result<Project> {
        self.store
            .read()
            .await?
            .project(id)
            .await?
            .ok_or_else(|| project_not_found(id))
    }

    /// Fails with 404 unless the project exists.
    pub(super) async fn require_project(
        &self,
        r: &mut crate::store::Reader,
        id: &str,
    ) -> Result<Project> {
        r.project(id).await?.ok_or_else(|| project_not_found(id))
    }

    pub async fn create_project(&self, actor: &Actor, input: ProjectInput) -> Result<Project> {
        let id = parse_url_friendly("id", input.id.as_deref().unwrap_or_default())?;
        let project = Project {
            name: input
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            description: input.description.filter(|d| !d.is_empty()),
            created_at: Timestamp::now(),
            id,
        };
        let mut tx = self.store.write().await?;
        if tx.project(&project.id).await?.is_some() {
            return Err(ServiceError::Conflict {
                name: "NameExistsError",
                message: format!("A project with id \"{}\" already exists", project.id),
            });
        }
        tx.insert_project(&project).await?;
        tx.append_event(
            &NewEvent::new(kind::PROJECT_CREATED, actor)
                .project(&project.id)
                .data(&project),
        )
        .await?;
        self.commit(tx).await?;
        Ok(project)
    }

    pub async fn list_environments(&self) -> Result<Vec<Environment>> {
        Ok(self.store.read().await?.environments().await?)
    }

    pub async fn create_environment(
        &self,
        actor: &Actor,
        input: EnvironmentInput,
    ) -> Result<Environment> {
        let name = parse_url_friendly("name", input.name.as_deref().unwrap_or_default())?;
        let env_type = input.env_type.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            Invalid::at("type", "\"type\" is required (for example \"development\", \"test\" or \"production\").")
        })?;
        let mut tx = self.store.write().await?;
        let existing = tx.environments().await?;
        if existing.iter().any(|e| e.name == name) {
            return Err(ServiceError::Conflict {
                name: "NameExistsError",
                message: format!("An environment named \"{name}\" already exists"),
            });
        }
        let env = Environment {
            sort_order: input.sort_order.unwrap_or_else(|| {
                existing
                    .iter()
                    .map(|e| e.sort_order)
                    .max()
                    .unwrap_or(0)
                    .saturating_add(1)
            }),
            enabled: input.enabled.unwrap_or(true),
            env_type,
            name,
        };
        tx.insert_environment(&env).await?;
        tx.append_event(
            &NewEvent::new(kind::ENVIRONMENT_CREATED, actor)
                .environment(&env.name)
                .data(&env),
        )
        .await?;
        self.commit(tx).await?;
        Ok(env)
    }
}

fn project_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Could not find project with id \"{id}\"."))
}
