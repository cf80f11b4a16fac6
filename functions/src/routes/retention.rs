//! Retention: the plan, service ends recorded by operators, final deletion requested by customer
//! admins, legal holds set by the data protection officer, deletion certificates to download,
//! and data exports.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use crate::http::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::Error;
use retention::exports::{self, ExportId, ExportSummary};
use retention::records::{CertificateId, HoldId, LegalHold, ServiceEndRequest, StoredCertificate};
use retention::service::{FinalDeletionInput, HoldInput, ServiceEndInput, ServiceEndOutcome};
use retention::{RunReport, TenantRetention};
use serde::Deserialize;

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(plan_all))
        .api(routes!(plan))
        .api(routes!(service_end))
        .api(routes!(pending_service_end, approve_service_end))
        .api(routes!(final_deletion))
        .api(routes!(list_holds, set_hold))
        .api(routes!(lift_hold))
        .api(routes!(certificates))
        .api(routes!(certificate))
        .api(routes!(list_exports, create_export))
        .api(routes!(read_export))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtQuery {
    /// Plan as of this time (RFC 3339); now if absent.
    at: Option<kernel::Timestamp>,
}

/// Every tenant's plan (operators: `retention:operate`).
#[utoipa::path(
    get,
    path = "/api/retention/plan",
    tag = "retention",
    params(("at" = Option<String>, Query, format = DateTime, description = "Plan as of this time (RFC 3339); now if absent")),
    responses((status = 200, description = "Every company's retention plan")),
    security(("bearer" = ["retention:operate"]))
)]
async fn plan_all(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Query(q): Query<AtQuery>,
) -> Result<Json<Vec<TenantRetention>>, ApiError> {
    let at = q.at.unwrap_or_else(|| s.clock.now());
    Ok(Json(s.retention.plan_all(&access, at).await?))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/retention",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's retention plan: service end, deletion dates, legal holds")),
    security(("bearer" = ["retention:read"]))
)]
async fn plan(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Option<TenantRetention>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.retention.tenant_plan(&access, &tenant).await?))
}

/// An operator's service end: in force at once (200, the plan), or — dated back beyond the
/// grace — waiting for a second staff member's approval (202, the request).
#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/service-end",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = ServiceEndInput,
    responses((status = 200, description = "The service end recorded and the plan from it"), (status = 202, description = "Backdated beyond the grace period: waits for a second operator")),
    security(("bearer" = ["service-end:record"]))
)]
async fn service_end(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<ServiceEndInput>,
) -> Result<Response, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    match s
        .retention
        .record_service_end(&access, &tenant, input)
        .await?
    {
        ServiceEndOutcome::Ended(_) => Ok(Json(
            s.retention
                .plan(s.clock.now(), Some(&tenant))
                .await?
                .into_iter()
                .next(),
        )
        .into_response()),
        waiting @ ServiceEndOutcome::AwaitingApproval(_) => {
            Ok((StatusCode::ACCEPTED, Json(waiting)).into_response())
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/service-end/approval",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The backdated service end waiting for approval")),
    security(("bearer" = ["service-end:record"]))
)]
async fn pending_service_end(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Option<ServiceEndRequest>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(
        s.retention.pending_service_end(&access, &tenant).await?,
    ))
}

/// A second staff member approves a backdated service end; answers with the plan.
#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/service-end/approval",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The service end approved by a second operator")),
    security(("bearer" = ["service-end:record"]))
)]
async fn approve_service_end(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Option<TenantRetention>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    s.retention.approve_service_end(&access, &tenant).await?;
    Ok(Json(
        s.retention
            .plan(s.clock.now(), Some(&tenant))
            .await?
            .into_iter()
            .next(),
    ))
}

#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/final-deletion",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = FinalDeletionInput,
    responses((status = 202, description = "Final deletion requested: the plan with its dates")),
    security(("bearer" = ["retention:request-final-deletion"]))
)]
async fn final_deletion(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<FinalDeletionInput>,
) -> Result<(StatusCode, Json<TenantRetention>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let plan = s
        .retention
        .request_final_deletion(&access, &tenant, input)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(plan)))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/legal-holds",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The legal holds on the company's data")),
    security(("bearer" = ["retention:read"]))
)]
async fn list_holds(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<LegalHold>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.retention.list_holds(&access, &tenant).await?))
}

#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/legal-holds",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = HoldInput,
    responses((status = 201, description = "The legal hold")),
    security(("bearer" = ["legal-holds:manage"]))
)]
async fn set_hold(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<HoldInput>,
) -> Result<(StatusCode, Json<LegalHold>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let hold = s.retention.set_hold(&access, &tenant, input).await?;
    Ok((StatusCode::CREATED, Json(hold)))
}

#[utoipa::path(
    delete,
    path = "/api/tenants/{tenant}/legal-holds/{hold}",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id"), ("hold" = String, Path, description = "The legal hold's id")),
    responses((status = 200, description = "The hold lifted")),
    security(("bearer" = ["legal-holds:manage"]))
)]
async fn lift_hold(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, hold)): Path<(String, String)>,
) -> Result<Json<LegalHold>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let hold =
        HoldId::parse(&hold).map_err(|e| ApiError(Error::validation("/hold", e.to_string())))?;
    Ok(Json(s.retention.lift_hold(&access, &tenant, &hold).await?))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/retention/certificates",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The signed deletion certificates")),
    security(("bearer" = ["retention:read"]))
)]
async fn certificates(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<StoredCertificate>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.retention.certificates(&access, &tenant).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateFormat {
    /// `jws` downloads the signed certificate itself (`application/jose`).
    format: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/retention/certificates/{certificate}",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id"), ("certificate" = String, Path, description = "The certificate's id"), ("format" = Option<String>, Query, description = "`jws` for the signed certificate (application/jose)")),
    responses((status = 200, description = "One certificate (JSON, or the JWS itself with format=jws)")),
    security(("bearer" = ["retention:read"]))
)]
async fn certificate(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, certificate)): Path<(String, String)>,
    Query(format): Query<CertificateFormat>,
) -> Result<Response, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let id = CertificateId::parse(&certificate)
        .map_err(|e| ApiError(Error::validation("/certificate", e.to_string())))?;
    let stored = s
        .retention
        .certificates(&access, &tenant)
        .await?
        .into_iter()
        .find(|c| c.certificate.id == id)
        .ok_or_else(|| ApiError(Error::NotFound(format!("certificate {id}"))))?;
    match format.format.as_deref() {
        Some("jws") => Ok((
            [
                (header::CONTENT_TYPE, "application/jose".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}.jws\""),
                ),
            ],
            stored.jws,
        )
            .into_response()),
        None | Some("json") => Ok(Json(stored).into_response()),
        Some(other) => Err(ApiError(Error::validation(
            "/format",
            format!("'{other}' is not json or jws"),
        ))),
    }
}

#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/exports",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 201, description = "An export of the company's data")),
    security(("bearer" = ["data:export"]))
)]
async fn create_export(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<(StatusCode, Json<ExportSummary>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let export = exports::create(
        s.store.as_ref(),
        &s.keyring,
        &access,
        &tenant,
        s.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(export)))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/exports",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's data exports")),
    security(("bearer" = ["data:export"]))
)]
async fn list_exports(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<ExportSummary>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(
        exports::list(s.store.as_ref(), &access, &tenant).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/exports/{export}",
    tag = "retention",
    params(("tenant" = String, Path, description = "The customer's id"), ("export" = String, Path, description = "The export's id")),
    responses((status = 200, description = "The export")),
    security(("bearer" = ["data:export"]))
)]
async fn read_export(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, export)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let id = ExportId::parse(&export)
        .map_err(|e| ApiError(Error::validation("/export", e.to_string())))?;
    Ok(Json(
        exports::read(s.store.as_ref(), &s.keyring, &access, &tenant, &id).await?,
    ))
}

/// Logs a run's outcome for the alarms; failures make the job fail (and alert).
pub fn log_run(report: &RunReport) {
    for (tenant, stage, certificate) in &report.completed {
        tracing::info!(target: "regrooter::retention", event = "retention_stage_completed", tenant = %tenant, stage = %stage, certificate = %certificate, "deleted");
    }
    for (tenant, error) in &report.failed {
        tracing::error!(target: "regrooter::retention", event = "retention_stage_failed", tenant = %tenant, error = %error, "retention failed; the next run resumes");
    }
}
