//! Sub-processors over the API: operators (and the DPO) announce changes and read customers'
//! objections; a customer admin may object through the API as through the portal. The list
//! itself is public at `/trust/subprocessors` (`routes/trust.rs`).

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trust::subprocessors::{Change, ChangeId, ChangeInput, Objection, SubProcessor};

use crate::http::{ApiError, ApiJson, Caller, Path};
use crate::services::Services;

pub const CHANGES: &str = "/api/subprocessors/changes";

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(list))
        .api(routes!(announce))
        .api(routes!(objections, object))
}

#[derive(Debug, Serialize)]
struct Listing {
    current: Vec<SubProcessor>,
    changes: Vec<Change>,
    /// How far ahead a change is announced, in days.
    notice_days: u32,
}

fn notice_days(s: &Services) -> u32 {
    match s.subprocessors.notice() {
        kernel::time::Period::Days(d) => d,
        kernel::time::Period::Hours(h) => h / 24,
        _ => 0,
    }
}

#[utoipa::path(
    get,
    path = "/api/subprocessors",
    tag = "subprocessors",
    responses((status = 200, description = "The sub-processors now, the announced changes and the notice period")),
    security(("bearer" = []))
)]
async fn list(State(s): State<Arc<Services>>) -> Result<Json<Listing>, ApiError> {
    Ok(Json(Listing {
        current: s.subprocessors.current().await?,
        changes: s.subprocessors.changes().await?,
        notice_days: notice_days(&s),
    }))
}

#[utoipa::path(
    post,
    path = CHANGES,
    tag = "subprocessors",
    request_body = ChangeInput,
    responses((status = 201, description = "The change announced to every customer")),
    security(("bearer" = ["subprocessors:manage"]))
)]
async fn announce(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<ChangeInput>,
) -> Result<(StatusCode, Json<Change>), ApiError> {
    let change = s
        .subprocessors
        .announce(&access, input, &s.auth, &s.incidents)
        .await?;
    Ok((StatusCode::CREATED, Json(change)))
}

fn change_id(raw: &str) -> Result<ChangeId, ApiError> {
    ChangeId::parse(raw).map_err(|e| ApiError(kernel::Error::validation("/change", e.to_string())))
}

#[utoipa::path(
    get,
    path = "/api/subprocessors/changes/{change}/objections",
    tag = "subprocessors",
    params(("change" = String, Path, description = "The announced change's id")),
    responses((status = 200, description = "The objections to the change")),
    security(("bearer" = ["subprocessors:manage"]))
)]
async fn objections(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(change): Path<String>,
) -> Result<Json<Vec<Objection>>, ApiError> {
    let change = change_id(&change)?;
    Ok(Json(s.subprocessors.objections(&access, &change).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ObjectionInput {
    reason: String,
}

#[utoipa::path(
    post,
    path = "/api/subprocessors/changes/{change}/objections",
    tag = "subprocessors",
    params(("change" = String, Path, description = "The announced change's id")),
    request_body = ObjectionInput,
    responses((status = 201, description = "The customer's objection")),
    security(("bearer" = ["subprocessors:object"]))
)]
async fn object(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(change): Path<String>,
    ApiJson(input): ApiJson<ObjectionInput>,
) -> Result<(StatusCode, Json<Objection>), ApiError> {
    let change = change_id(&change)?;
    let tenant = access
        .principal()
        .tenant()
        .cloned()
        .ok_or(ApiError(kernel::Error::Forbidden(
            kernel::rbac::Denied::PlatformData,
        )))?;
    let objection = s
        .subprocessors
        .object(&access, &tenant, &change, input.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(objection)))
}
