//! Tenant administration by operators: name, contact for breach notifications (sealed), contract
//! terms.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use kernel::Error;
use kernel::ids::TenantId;
use kernel::policy::{ContractTerms, EffectivePolicy};
use kernel::tenants::{self, ServiceStatus, TenantInput};
use kernel::time::Timestamp;
use serde::Serialize;

use crate::http::{ApiError, ApiJson, Caller};
use crate::services::Services;

pub fn router() -> Routes {
    Routes::new().api(routes!(put_tenant, get_tenant))
}

/// A tenant as operators see it: the contact address only as "set or not".
#[derive(Serialize)]
struct TenantView {
    id: TenantId,
    name: String,
    has_contact: bool,
    contract: ContractTerms,
    effective_policy: EffectivePolicy,
    status: ServiceStatus,
    service_ended_at: Option<Timestamp>,
    service_end_source: Option<tenants::ServiceEndSource>,
}

fn view(record: tenants::TenantRecord) -> Result<TenantView, ApiError> {
    let effective_policy = EffectivePolicy::for_contract(&record.contract).map_err(Error::from)?;
    Ok(TenantView {
        id: record.id,
        name: record.name,
        has_contact: record.contact_email.is_some(),
        contract: record.contract,
        effective_policy,
        status: record.status,
        service_ended_at: record.service_ended_at,
        service_end_source: record.service_end_source,
    })
}

fn tenant_id(raw: &str) -> Result<TenantId, ApiError> {
    TenantId::new(raw).map_err(|e| ApiError(Error::validation("/id", e.to_string())))
}

#[utoipa::path(
    put,
    path = "/api/tenants/{id}",
    tag = "tenants",
    params(("id" = String, Path, description = "The id (customer's id)")),
    request_body = TenantInput,
    responses((status = 200, description = "The company as stored now")),
    security(("bearer" = ["tenants:manage"]))
)]
async fn put_tenant(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TenantInput>,
) -> Result<Json<TenantView>, ApiError> {
    let id = tenant_id(&id)?;
    let record = tenants::put(
        s.store.as_ref(),
        &s.keyring,
        &access,
        &id,
        input,
        s.clock.now(),
    )
    .await?;
    Ok(Json(view(record)?))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{id}",
    tag = "tenants",
    params(("id" = String, Path, description = "The id (customer's id)")),
    responses((status = 200, description = "The company: name, contract terms, the figures in force, status")),
    security(("bearer" = ["tenants:manage"]))
)]
async fn get_tenant(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<TenantView>, ApiError> {
    let id = tenant_id(&id)?;
    let record = tenants::get_for(&access, s.store.as_ref(), &id).await?;
    Ok(Json(view(record)?))
}
