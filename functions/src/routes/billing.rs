//! Billing views and credits (the `sla` function); the Stripe webhook is `billing_webhook`.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use billing::credits::{CreditId, CreditRecord, VoluntaryCreditInput};
use billing::records::EventCount;
use billing::service::BillingOverview;
use kernel::Error;

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

/// Billing views and credits.
pub fn router() -> Routes {
    Routes::new()
        .api(routes!(event_counts))
        .api(routes!(overview))
        .api(routes!(list_credits, grant_credit))
        .api(routes!(apply_credit))
        .api(routes!(approve_credit))
        .api(routes!(cancel_credit))
}

fn credit_id(raw: &str) -> Result<CreditId, ApiError> {
    CreditId::parse(raw).map_err(|e| ApiError(Error::validation("/credit", e.to_string())))
}

/// A second billing approver agrees to a voluntary credit above the four-eyes amount.
#[utoipa::path(
    post,
    path = "/api/credits/{tenant}/{credit}/approval",
    tag = "billing",
    params(("tenant" = String, Path, description = "The customer's id"), ("credit" = String, Path, description = "The credit's id")),
    responses((status = 200, description = "The credit approved by a second person")),
    security(("bearer" = ["credits:grant-voluntary"]))
)]
async fn approve_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, credit)): Path<(String, String)>,
) -> Result<Json<CreditRecord>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let credit = credit_id(&credit)?;
    Ok(Json(s.approve_credit(&access, &tenant, &credit).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelInput {
    reason: Option<String>,
}

/// Withdraws a voluntary credit not yet on the Stripe balance.
#[utoipa::path(
    post,
    path = "/api/credits/{tenant}/{credit}/cancel",
    tag = "billing",
    params(("tenant" = String, Path, description = "The customer's id"), ("credit" = String, Path, description = "The credit's id")),
    request_body = CancelInput,
    responses((status = 200, description = "The credit cancelled, with the reason")),
    security(("bearer" = ["credits:grant-voluntary"]))
)]
async fn cancel_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, credit)): Path<(String, String)>,
    ApiJson(input): ApiJson<CancelInput>,
) -> Result<Json<CreditRecord>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let credit = credit_id(&credit)?;
    Ok(Json(
        s.credits
            .cancel(&access, &tenant, &credit, input.reason)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/billing/{tenant}",
    tag = "billing",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's billing overview: Stripe customer, latest invoice, credits")),
    security(("bearer" = ["billing:read"]))
)]
async fn overview(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<BillingOverview>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.billing.overview(&access, &tenant).await?))
}

#[utoipa::path(
    get,
    path = "/api/billing/stripe-events",
    tag = "billing",
    responses((status = 200, description = "Stripe events processed, by type and outcome, and customers not linked")),
    security(("bearer" = ["billing:operate"]))
)]
async fn event_counts(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<Vec<EventCount>>, ApiError> {
    Ok(Json(s.billing.event_counts(&access).await?))
}

#[utoipa::path(
    get,
    path = "/api/credits/{tenant}",
    tag = "billing",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's credits (customers see decided ones only)")),
    security(("bearer" = ["billing:read"]))
)]
async fn list_credits(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<CreditRecord>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.credits.list(&access, &tenant).await?))
}

/// A voluntary credit; carried to Stripe at once when possible, else by the scheduled job.
#[utoipa::path(
    post,
    path = "/api/credits/{tenant}",
    tag = "billing",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = VoluntaryCreditInput,
    responses((status = 201, description = "The voluntary credit (above the four-eyes limit it awaits a second approval)")),
    security(("bearer" = ["credits:grant-voluntary"]))
)]
async fn grant_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<VoluntaryCreditInput>,
) -> Result<(StatusCode, Json<CreditRecord>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let credit = s.grant_voluntary_credit(&access, &tenant, input).await?;
    Ok((StatusCode::CREATED, Json(credit)))
}

#[utoipa::path(
    post,
    path = "/api/credits/{tenant}/{credit}/apply",
    tag = "billing",
    params(("tenant" = String, Path, description = "The customer's id"), ("credit" = String, Path, description = "The credit's id")),
    responses((status = 200, description = "The credit on the Stripe customer's balance")),
    security(("bearer" = ["billing:operate"]))
)]
async fn apply_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, credit)): Path<(String, String)>,
) -> Result<Json<CreditRecord>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let credit = credit_id(&credit)?;
    Ok(Json(
        s.credits
            .apply_as(&access, s.gateway.as_ref(), &tenant, &credit)
            .await?,
    ))
}
