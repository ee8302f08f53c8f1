//! The one error type handlers return, rendered as Unleash renders its errors:
//! `{name, message, details: [{message, path?}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::Invalid;
use crate::service::ServiceError;

/// Which API a request was for; Unleash words its 401s differently for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Admin,
    Client,
    Frontend,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", .0.first().map(|i| i.message.as_str()).unwrap_or("invalid request"))]
    BadData(Vec<Invalid>),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { name: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("no valid token")]
    Unauthenticated(Api),
    #[error("wrong token kind")]
    WrongTokenKind,
    #[error("unsupported content type {0}")]
    UnsupportedContentType(String),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("database unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_data(invalid: Invalid) -> Self {
        Self::BadData(vec![invalid])
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::bad_data(e)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(i) => Self::bad_data(i),
            ServiceError::InvalidFields(v) => Self::BadData(v),
            ServiceError::NotFound(m) => Self::NotFound(m),
            ServiceError::Conflict { name, message } => Self::Conflict { name, message },
            ServiceError::Forbidden(m) => Self::Forbidden(m),
            ServiceError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Self::Unavailable
            }
            ServiceError::Internal(e) => Self::Internal(e),
        }
    }
}

const BAD_DATA: &str = "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information.";

fn unleash_error(status: StatusCode, name: &str, message: &str) -> Response {
    let body = json!({"name": name, "message": message, "details": [{"message": message}]});
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::BadData(details) => {
                let details: Vec<_> = details
                    .iter()
                    .map(|d| match &d.path {
                        Some(path) => json!({"message": d.message, "path": path}),
                        None => json!({"message": d.message}),
                    })
                    .collect();
                let body = json!({"name": "BadDataError", "message": BAD_DATA, "details": details});
                (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
            }
            Self::NotFound(m) => unleash_error(StatusCode::NOT_FOUND, "NotFoundError", &m),
            Self::Conflict { name, message } => unleash_error(StatusCode::CONFLICT, name, &message),
            Self::Forbidden(m) => unleash_error(StatusCode::FORBIDDEN, "NoAccessError", &m),
            // With where to log in, as Unleash's UI expects.
            Self::Unauthenticated(Api::Admin) => {
                let message = "You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at /auth/simple/login";
                let body = json!({
                    "name": "AuthenticationRequired",
                    "message": message,
                    "details": [{"message": message}],
                    "path": "/auth/simple/login",
                    "type": "password",
                    "defaultHidden": false,
                });
                (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
            }
            // The SDK-facing APIs answer with a bare `{message}`, as Unleash does.
            Self::Unauthenticated(Api::Client | Api::Frontend) => {
                let body = json!({"message": "This endpoint requires an API token. Please add an authorization header to your request with a valid token"});
                (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
            }
            Self::WrongTokenKind => {
                let body = json!({"message": "invalid token: expected a different token type for this endpoint"});
                (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
            }
            Self::UnsupportedContentType(ct) => {
                let message = format!(
                    "We do not accept the content-type you provided ({ct}). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format."
                );
                unleash_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "ContentTypeError",
                    &message,
                )
            }
            Self::TooLarge(limit) => {
                let message =
                    format!("The request body is larger than the limit of {limit} bytes.");
                unleash_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "ContentTooLargeError",
                    &message,
                )
            }
            Self::Unavailable => unleash_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableError",
                "The database is unavailable, so changes cannot be saved right now. Try again shortly.",
            ),
            Self::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                unleash_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "Unexpected error; the server log has the details.",
                )
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
