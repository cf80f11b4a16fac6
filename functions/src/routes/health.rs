//! `GET /healthz`: the process is up and its store answers.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::State;
use kernel::inventory::RecordKind;
use kernel::store::ItemKey;
use serde::Serialize;

use crate::http::ApiError;
use crate::services::Services;

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    environment: &'static str,
    version: &'static str,
    time: kernel::Timestamp,
    record_kinds: usize,
}

pub fn router() -> Routes {
    Routes::new().api(routes!(health))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up and its store answers"))
)]
async fn health(State(services): State<Arc<Services>>) -> Result<Json<Health>, ApiError> {
    // A read of a key that never exists exercises the whole path to the store.
    let probe = ItemKey::new("HEALTH", "PROBE")?;
    services.store.get(&probe).await?;
    Ok(Json(Health {
        status: "ok",
        environment: services.config.environment.as_str(),
        version: env!("CARGO_PKG_VERSION"),
        time: services.clock.now(),
        record_kinds: RecordKind::ALL.len(),
    }))
}
