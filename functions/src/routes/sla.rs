//! The SLA: month reports, claims with their verification and decision, outages and exclusions
//! recorded by operators. An approved claim's credit is carried to Stripe at once when possible,
//! else by the `credit-application` job.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kernel::Error;
use kernel::time::Month;
use sla::MonthReport;
use sla::records::{ClaimId, Exclusion, RecordedOutage};
use sla::service::{ClaimInput, ClaimView, DecisionInput, ExclusionInput, OutageInput};

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(platform_report))
        .api(routes!(tenant_report))
        .api(routes!(list_claims, file_claim))
        .api(routes!(claim))
        .api(routes!(decide))
        .api(routes!(record_outage))
        .api(routes!(record_exclusion))
        .api(routes!(edge_probe_results))
}

/// The Worker's cron reports what it saw from Cloudflare's network (the edge vantage). Only the
/// Worker reaches this route: the edge refuses `/internal/` paths from clients, and the origin
/// lock refuses anything it did not sign.
#[utoipa::path(
    post,
    path = kernel::vantage::EDGE_PROBE_RESULTS,
    tag = "operations",
    request_body = kernel::vantage::EdgeProbeReport,
    responses((status = 204, description = "The edge's minute is recorded (only the edge reaches this path: its signature is the credential)"))
)]
async fn edge_probe_results(
    State(s): State<Arc<Services>>,
    ApiJson(report): ApiJson<kernel::vantage::EdgeProbeReport>,
) -> Result<StatusCode, ApiError> {
    let results: Vec<(String, sla::MinuteState)> = report
        .results
        .into_iter()
        .map(|r| {
            let state = if r.up {
                sla::MinuteState::Up
            } else {
                sla::MinuteState::Down
            };
            (r.target, state)
        })
        .collect();
    s.sla
        .record_vantage_minute(sla::Vantage::Edge, report.minute, &results)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn month(raw: &str) -> Result<Month, ApiError> {
    raw.parse()
        .map_err(|e: kernel::time::TimeError| ApiError(Error::validation("/month", e.to_string())))
}

fn claim_id(raw: &str) -> Result<ClaimId, ApiError> {
    ClaimId::parse(raw).map_err(|e| ApiError(Error::validation("/claim", e.to_string())))
}

#[utoipa::path(
    get,
    path = "/api/sla/reports/{month}",
    tag = "sla",
    params(("month" = String, Path, description = "The month, YYYY-MM (Europe/Berlin)")),
    responses((status = 200, description = "The platform's uptime report for the month")),
    security(("bearer" = ["sla-report:read"]))
)]
async fn platform_report(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(raw): Path<String>,
) -> Result<Json<MonthReport>, ApiError> {
    Ok(Json(s.sla.platform_report(&access, month(&raw)?).await?))
}

#[utoipa::path(
    get,
    path = "/api/sla/tenants/{tenant}/reports/{month}",
    tag = "sla",
    params(("tenant" = String, Path, description = "The customer's id"), ("month" = String, Path, description = "The month, YYYY-MM (Europe/Berlin)")),
    responses((status = 200, description = "The company's uptime report for the month")),
    security(("bearer" = ["sla-report:read"]))
)]
async fn tenant_report(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, raw)): Path<(String, String)>,
) -> Result<Json<MonthReport>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(
        s.sla.tenant_report(&access, &tenant, month(&raw)?).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/sla/tenants/{tenant}/claims",
    tag = "sla",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's claims")),
    security(("bearer" = ["sla-claims:read"]))
)]
async fn list_claims(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<ClaimView>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.sla.claims(&access, &tenant).await?))
}

#[utoipa::path(
    post,
    path = "/api/sla/tenants/{tenant}/claims",
    tag = "sla",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = ClaimInput,
    responses((status = 201, description = "The claim filed and verified against the measurements")),
    security(("bearer" = ["sla-claims:file"]))
)]
async fn file_claim(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<ClaimInput>,
) -> Result<(StatusCode, Json<ClaimView>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let claim = s.sla.file_claim(&access, &tenant, input).await?;
    Ok((StatusCode::CREATED, Json(claim)))
}

#[utoipa::path(
    get,
    path = "/api/sla/tenants/{tenant}/claims/{claim}",
    tag = "sla",
    params(("tenant" = String, Path, description = "The customer's id"), ("claim" = String, Path, description = "The claim's id")),
    responses((status = 200, description = "The claim, its verification and decision")),
    security(("bearer" = ["sla-claims:read"]))
)]
async fn claim(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, claim)): Path<(String, String)>,
) -> Result<Json<ClaimView>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(
        s.sla.claim(&access, &tenant, &claim_id(&claim)?).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/sla/tenants/{tenant}/claims/{claim}/decision",
    tag = "sla",
    params(("tenant" = String, Path, description = "The customer's id"), ("claim" = String, Path, description = "The claim's id")),
    request_body = DecisionInput,
    responses((status = 200, description = "The decided claim (and its credit when approved)")),
    security(("bearer" = ["sla-claims:decide"]))
)]
async fn decide(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, claim)): Path<(String, String)>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<ClaimView>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let id = claim_id(&claim)?;
    let decided = s.sla.decide(&access, &tenant, &id, input).await?;
    if let Some(credit) = decided.claim.credit {
        // At once when Stripe answers; otherwise the credit stays pending for the job.
        if let Err(e) = s.credits.apply(s.gateway.as_ref(), &tenant, &credit).await {
            tracing::warn!(target: "regrooter::billing", %credit, error = %e, "credit stays pending");
        }
        return Ok(Json(s.sla.claim_as_decided(&access, &tenant, &id).await?));
    }
    Ok(Json(decided))
}

#[utoipa::path(
    post,
    path = "/api/sla/outages",
    tag = "sla",
    request_body = OutageInput,
    responses((status = 201, description = "The outage recorded with its evidence")),
    security(("bearer" = ["outages:record"]))
)]
async fn record_outage(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<OutageInput>,
) -> Result<(StatusCode, Json<RecordedOutage>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.sla.record_outage(&access, input).await?),
    ))
}

#[utoipa::path(
    post,
    path = "/api/sla/exclusions",
    tag = "sla",
    request_body = ExclusionInput,
    responses((status = 201, description = "The exclusion recorded with its evidence")),
    security(("bearer" = ["outages:record"]))
)]
async fn record_exclusion(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<ExclusionInput>,
) -> Result<(StatusCode, Json<Exclusion>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.sla.record_exclusion(&access, input).await?),
    ))
}
