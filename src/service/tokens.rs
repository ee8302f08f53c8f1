//! API tokens: issuing, revoking and checking them. Only a SHA-256 of each secret is stored;
//! checks run against an in-memory copy, so no request waits on the database to authenticate.

use std::sync::{Arc, RwLock};

use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::token::{ApiToken, TokenKind, TokenScope, prefix_of};
use crate::domain::{Invalid, Timestamp};
use crate::service::{Result, Service, ServiceError};

/// Valid tokens as of the last reload. Cheap to clone.
#[derive(Default)]
pub struct TokenCache {
    tokens: RwLock<Arc<Vec<ApiToken>>>,
}

impl TokenCache {
    fn replace(&self, tokens: Vec<ApiToken>) {
        let mut guard = self
            .tokens
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Arc::new(tokens);
    }

    fn snapshot(&self) -> Arc<Vec<ApiToken>> {
        self.tokens
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// The body of `POST /api/admin/api-tokens`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    #[serde(default, alias = "username")]
    pub token_name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub projects: Option<Vec<String>>,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// A token as just created: the only time its secret is known.
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// The `INIT_*_API_TOKENS` settings, each a list of secrets in Unleash's syntax.
#[derive(Debug, Default, Clone)]
pub struct InitTokens {
    pub admin: Vec<String>,
    pub backend: Vec<String>,
    pub frontend: Vec<String>,
}

impl InitTokens {
    pub fn is_empty(&self) -> bool {
        self.admin.is_empty() && self.backend.is_empty() && self.frontend.is_empty()
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_key() -> String {
    let mut bytes = [0u8; 28];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Builds the stored form of a token from its secret, checking the secret's scope suits `kind`.
fn token_for_secret(
    secret: &str,
    name: &str,
    kind: TokenKind,
    expires_at: Option<Timestamp>,
) -> std::result::Result<ApiToken, Invalid> {
    let scope = TokenScope::parse_secret(secret)?;
    scope.check_for(kind)?;
    Ok(ApiToken {
        id: ulid::Ulid::new().to_string(),
        secret_hash: hash_secret(secret),
        secret_prefix: prefix_of(secret),
        name: name.to_string(),
        kind,
        environment: scope.environment,
        projects: vec![scope.project],
        expires_at,
        created_at: Timestamp::now(),
    })
}

/// The `api-token-created` event's data; never the secret.
fn token_event_data(t: &ApiToken) -> serde_json::Value {
    serde_json::json!({
        "tokenName": t.name,
        "type": t.kind.as_str(),
        "environment": t.environment,
        "projects": t.projects,
        "project": t.projects.first(),
        "expiresAt": t.expires_at,
        "createdAt": t.created_at,
        "alias": null, // Unleash tokens can have an alias; flagwatch tokens have none
    })
}

impl Service {
    /// Reloads the in-memory token list from the store.
    pub async fn refresh_tokens(&self) -> Result<()> {
        let tokens = self.store.read().await?.tokens().await?;
        self.tokens.replace(tokens);
        Ok(())
    }

    /// Finds the token a request presented. Every stored hash is compared in constant time,
    /// so the time taken says nothing about how close a guess was.
    pub fn verify_token(&self, secret: &str) -> Option<ApiToken> {
        let presented = hash_secret(secret);
        let now = Timestamp::now();
        let tokens = self.tokens.snapshot();
        let mut found = None;
        for token in tokens.iter() {
            if bool::from(token.secret_hash.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(token);
            }
        }
        found.filter(|t| !t.is_expired(now)).cloned()
    }

    /// Inserts the `INIT_*` tokens, only while no token exists (Unleash's rule). When none are
    /// configured either, creates one admin token and returns its secret to be shown once.
    pub async fn bootstrap_tokens(&self, init: &InitTokens) -> Result<Option<String>> {
        let mut tx = self.store.write().await?;
        if !tx.tokens().await?.is_empty() {
            return Ok(None);
        }
        let mut generated = None;
        let mut wanted: Vec<(TokenKind, String)> = Vec::new();
        if init.is_empty() {
            let secret = format!("*:*.{}", random_key());
            generated = Some(secret.clone());
            wanted.push((TokenKind::Admin, secret));
        }
        wanted.extend(init.admin.iter().map(|s| (TokenKind::Admin, s.clone())));
        wanted.extend(init.backend.iter().map(|s| (TokenKind::Backend, s.clone())));
        wanted.extend(
            init.frontend
                .iter()
                .map(|s| (TokenKind::Frontend, s.clone())),
        );
        let actor = Actor::system();
        for (kind, secret) in wanted {
            let token = token_for_secret(&secret, "admin", kind, None).map_err(|e| {
                Invalid::new(format!(
                    "INIT_{}_API_TOKENS: {e}",
                    kind.as_str().to_uppercase()
                ))
            })?;
            tx.insert_token(&token).await?;
            let event = NewEvent::new(kind::API_TOKEN_CREATED, &actor)
                .project(&token.projects[0])
                .environment(&token.environment)
                .data(token_event_data(&token));
            tx.append_event(&event).await?;
        }
        self.commit(tx).await?;
        self.refresh_tokens().await?;
        Ok(generated)
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store.read().await?.tokens().await?)
    }

    pub async fn create_token(&self, actor: &Actor, req: TokenRequest) -> Result<IssuedToken> {
        let name = req
            .token_name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| Invalid::at("tokenName", "\"tokenName\" is required."))?;
        let kind = TokenKind::parse(req.kind.as_deref().unwrap_or("client"))?;
        if req.expires_at.is_some_and(|e| e <= Timestamp::now()) {
            return Err(Invalid::at("expiresAt", "\"expiresAt\" must be in the future.").into());
        }
        let (projects, environment) = match kind {
            TokenKind::Admin => (vec!["*".to_string()], "*".to_string()),
            _ => {
                let projects = match (req.projects, req.project) {
                    (Some(ps), _) if !ps.is_empty() => ps,
                    (_, Some(p)) => vec![p],
                    _ => vec!["*".to_string()],
                };
                let env = req
                    .environment
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "development".into());
                (projects, env)
            }
        };
        let mut tx = self.store.write().await?;
        if kind != TokenKind::Admin {
            if tx.environment(&environment).await?.is_none() {
                return Err(ServiceError::NotFound(format!(
                    "Could not find environment {environment}."
                )));
            }
            for p in projects.iter().filter(|p| p.as_str() != "*") {
                self.require_project(&mut tx, p).await?;
            }
        }
        let scope = if projects.len() == 1 {
            projects[0].clone()
        } else {
            "[]".to_string()
        };
        let secret = format!("{scope}:{environment}.{}", random_key());
        let mut token = token_for_secret(&secret, &name, kind, req.expires_at)?;
        token.projects = projects;
        tx.insert_token(&token).await?;
        let event = NewEvent::new(kind::API_TOKEN_CREATED, actor)
            .environment(&token.environment)
            .data(token_event_data(&token));
        tx.append_event(&event).await?;
        self.commit(tx).await?;
        self.refresh_tokens().await?;
        Ok(IssuedToken { token, secret })
    }

    /// Creates a token whose secret the caller chose (config as code reads it from a file or
    /// an environment variable), scoped by the secret's `<project>:<environment>` as the
    /// `INIT_*` tokens are. A token with that secret already stored is a 409.
    pub async fn create_token_with_secret(
        &self,
        actor: &Actor,
        name: &str,
        kind: TokenKind,
        secret: &str,
    ) -> Result<ApiToken> {
        if name.trim().is_empty() {
            return Err(Invalid::at("tokenName", "\"tokenName\" is required.").into());
        }
        let token = token_for_secret(secret, name, kind, None)?;
        let mut tx = self.store.write().await?;
        if tx
            .tokens()
            .await?
            .iter()
            .any(|t| t.secret_hash == token.secret_hash)
        {
            return Err(ServiceError::Conflict {
                name: "ConflictError",
                message: "A token with that secret already exists.".into(),
            });
        }
        if kind != TokenKind::Admin {
            if tx.environment(&token.environment).await?.is_none() {
                return Err(ServiceError::NotFound(format!(
                    "Could not find environment {}.",
                    token.environment
                )));
            }
            for p in token.projects.iter().filter(|p| p.as_str() != "*") {
                self.require_project(&mut tx, p).await?;
            }
        }
        tx.insert_token(&token).await?;
        let event = NewEvent::new(kind::API_TOKEN_CREATED, actor)
            .environment(&token.environment)
            .data(token_event_data(&token));
        tx.append_event(&event).await?;
        self.commit(tx).await?;
        self.refresh_tokens().await?;
        Ok(token)
    }

    /// Finds a token by its id or by its secret (Unleash's admin API names tokens by secret).
    async fn find_token(&self, key: &str) -> Result<ApiToken> {
        let hash = hash_secret(key);
        self.list_tokens()
            .await?
            .into_iter()
            .find(|t| t.id == key || t.secret_hash == hash)
            .ok_or_else(|| {
                ServiceError::NotFound("Could not find an API token with that id or secret.".into())
            })
    }

    pub async fn set_token_expiry(
        &self,
        actor: &Actor,
        key: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<ApiToken> {
        let before = self.find_token(key).await?;
        let mut tx = self.store.write().await?;
        tx.set_token_expiry(&before.id, expires_at).await?;
        let mut after = before.clone();
        after.expires_at = expires_at;
        let event = NewEvent::new(kind::API_TOKEN_UPDATED, actor)
            .environment(&after.environment)
            .data(token_event_data(&after))
            .pre_data(token_event_data(&before));
        tx.append_event(&event).await?;
        self.commit(tx).await?;
        self.refresh_tokens().await?;
        Ok(after)
    }

    pub async fn delete_token(&self, actor: &Actor, key: &str) -> Result<()> {
        let token = self.find_token(key).await?;
        let mut tx = self.store.write().await?;
        tx.delete_token(&token.id).await?;
        let event = NewEvent::new(kind::API_TOKEN_DELETED, actor)
            .environment(&token.environment)
            .pre_data(token_event_data(&token));
        tx.append_event(&event).await?;
        self.commit(tx).await?;
        self.refresh_tokens().await
    }
}
