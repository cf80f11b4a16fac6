//! Retention: the plan, service ends recorded by operators, final deletion requested by customer
//! admins, legal holds set by the data protection officer, deletion certificates to download,
//! and data exports.

use super::Routes;
use std::sync::Arc;

use crate::http::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
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
        .route("/api/retention/plan", get(plan_all))
        .route("/api/tenants/{tenant}/retention", get(plan))
        .route("/api/tenants/{tenant}/service-end", post(service_end))
        .route(
            "/api/tenants/{tenant}/service-end/approval",
            get(pending_service_end).post(approve_service_end),
        )
        .route("/api/tenants/{tenant}/final-deletion", post(final_deletion))
        .route(
            "/api/tenants/{tenant}/legal-holds",
            get(list_holds).post(set_hold),
        )
        .route(
            "/api/tenants/{tenant}/legal-holds/{hold}",
            delete(lift_hold),
        )
        .route(
            "/api/tenants/{tenant}/retention/certificates",
            get(certificates),
        )
        .route(
            "/api/tenants/{tenant}/retention/certificates/{certificate}",
            get(certificate),
        )
        .route(
            "/api/tenants/{tenant}/exports",
            get(list_exports).post(create_export),
        )
        .route("/api/tenants/{tenant}/exports/{export}", get(read_export))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtQuery {
    /// Plan as of this time (RFC 3339); now if absent.
    at: Option<kernel::Timestamp>,
}

/// Every tenant's plan (operators and the DPO).
async fn plan_all(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Query(q): Query<AtQuery>,
) -> Result<Json<Vec<TenantRetention>>, ApiError> {
    let at = q.at.unwrap_or_else(|| s.clock.now());
    Ok(Json(s.retention.plan_all(&access, at).await?))
}

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

async fn list_holds(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<LegalHold>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.retention.list_holds(&access, &tenant).await?))
}

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
