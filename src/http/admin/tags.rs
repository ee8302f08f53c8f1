//! Tag types and flag tags.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::json;

use crate::domain::feature::Tag;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{Admin, Json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/tag-types", get(list_types).post(create_type))
        .route("/api/admin/tags", get(list_tags))
        .route(
            "/api/admin/features/{feature}/tags",
            get(feature_tags).post(add).put(update),
        )
        .route(
            "/api/admin/features/{feature}/tags/{tag_type}/{value}",
            delete(remove),
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TagTypeBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    icon: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/tag-types", tag = "Admin: tags", security(("unleash" = [])),
    summary = "List tag types",
    responses((status = 200, description = "Every tag type.", body = Object,
        example = json!({"version": 1, "tagTypes": [{"name": "simple", "description": "Used to simplify filtering of features", "icon": "#"}]}))))]
async fn list_types(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let types: Vec<_> = s
        .service
        .list_tag_types()
        .await?
        .into_iter()
        .map(|(name, description, icon)| json!({"name": name, "description": description, "icon": icon}))
        .collect();
    Ok(axum::Json(json!({"version": 1, "tagTypes": types})))
}

#[utoipa::path(post, path = "/api/admin/tag-types", tag = "Admin: tags", security(("unleash" = [])),
    summary = "Create a tag type",
    request_body(content = TagTypeBody, example = json!({"name": "team", "description": "Who owns it"})),
    responses(
        (status = 201, description = "Created.", body = Object),
        (status = 409, description = "A tag type with that name exists."),
    ))]
async fn create_type(
    a: Admin,
    State(s): State<AppState>,
    Json(b): Json<TagTypeBody>,
) -> ApiResult<impl IntoResponse> {
    let (name, description, icon) = s
        .service
        .create_tag_type(
            &a.actor,
            &b.name,
            b.description.as_deref(),
            b.icon.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"name": name, "description": description, "icon": icon})),
    ))
}

#[utoipa::path(get, path = "/api/admin/tags", tag = "Admin: tags", security(("unleash" = [])),
    summary = "List every tag in use",
    responses((status = 200, description = "The tags.", body = Object,
        example = json!({"version": 1, "tags": [{"type": "simple", "value": "checkout"}]}))))]
async fn list_tags(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        json!({"version": 1, "tags": s.service.list_tags().await?}),
    ))
}

#[utoipa::path(get, path = "/api/admin/features/{feature}/tags", tag = "Admin: tags", security(("unleash" = [])),
    summary = "List a flag's tags",
    responses(
        (status = 200, description = "The flag's tags.", body = Object,
            example = json!({"version": 1, "tags": [{"type": "simple", "value": "checkout"}]})),
        (status = 404, description = "No such flag."),
    ))]
async fn feature_tags(
    _: Admin,
    State(s): State<AppState>,
    Path(feature): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        json!({"version": 1, "tags": s.service.feature_tags(&feature).await?}),
    ))
}

/// 201 with the tag and a `Location`, as Unleash answers.
#[utoipa::path(post, path = "/api/admin/features/{feature}/tags", tag = "Admin: tags", security(("unleash" = [])),
    summary = "Tag a flag",
    request_body(content = Tag, example = json!({"type": "simple", "value": "checkout"})),
    responses(
        (status = 201, description = "Tagged; `Location` names the tag.", body = Tag),
        (status = 404, description = "No such flag or tag type."),
    ))]
async fn add(
    a: Admin,
    State(s): State<AppState>,
    Path(feature): Path<String>,
    Json(tag): Json<Tag>,
) -> ApiResult<impl IntoResponse> {
    let tag = s.service.add_tag(&a.actor, &feature, &tag).await?;
    // Percent-encoded: a value may hold spaces or non-ASCII, which a header cannot carry raw.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let segment = |s: &str| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string();
    let location = format!(
        "/api/admin/features/{feature}/tags/{}/{}",
        segment(&tag.tag_type),
        segment(&tag.value)
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(tag),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct TagChanges {
    #[serde(default)]
    added_tags: Vec<Tag>,
    #[serde(default)]
    removed_tags: Vec<Tag>,
}

#[utoipa::path(put, path = "/api/admin/features/{feature}/tags", tag = "Admin: tags", security(("unleash" = [])),
    summary = "Add and remove several of a flag's tags",
    request_body(content = TagChanges, example = json!({"addedTags": [{"type": "simple", "value": "checkout"}], "removedTags": []})),
    responses(
        (status = 200, description = "The flag's tags as they are now.", body = Object),
        (status = 404, description = "No such flag or tag type."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(feature): Path<String>,
    Json(b): Json<TagChanges>,
) -> ApiResult<impl IntoResponse> {
    let tags = s
        .service
        .update_tags(&a.actor, &feature, &b.added_tags, &b.removed_tags)
        .await?;
    Ok(axum::Json(json!({"version": 1, "tags": tags})))
}

#[utoipa::path(delete, path = "/api/admin/features/{feature}/tags/{tag_type}/{value}", tag = "Admin: tags", security(("unleash" = [])),
    summary = "Remove a tag from a flag",
    responses(
        (status = 200, description = "Removed (or it was not there)."),
        (status = 404, description = "No such flag."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path((feature, tag_type, value)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .remove_tag(&a.actor, &feature, &Tag { tag_type, value })
        .await?;
    Ok(StatusCode::OK)
}
