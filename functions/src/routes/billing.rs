//! Billing views and credits (the `sla` function); the Stripe webhook is `billing_webhook`.

use super::Routes;
use std::sync::Arc;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use billing::credits::{CreditId, CreditRecord, VoluntaryCreditInput};
use billing::records::EventCount;
use billing::service::BillingOverview;
use kernel::Error;

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

/// Billing views and credits.
pub fn router() -> Routes {
    Routes::new()
        .route("/api/billing/stripe-events", get(event_counts))
        .route("/api/billing/{tenant}", get(overview))
        .route(
            "/api/credits/{tenant}",
            get(list_credits).post(grant_credit),
        )
        .route("/api/credits/{tenant}/{credit}/apply", post(apply_credit))
        .route(
            "/api/credits/{tenant}/{credit}/approval",
            post(approve_credit),
        )
        .route("/api/credits/{tenant}/{credit}/cancel", post(cancel_credit))
}

fn credit_id(raw: &str) -> Result<CreditId, ApiError> {
    CreditId::parse(raw).map_err(|e| ApiError(Error::validation("/credit", e.to_string())))
}

/// A second billing approver agrees to a voluntary credit above the four-eyes amount.
async fn approve_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, credit)): Path<(String, String)>,
) -> Result<Json<CreditRecord>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let credit = credit_id(&credit)?;
    Ok(Json(s.approve_credit(&access, &tenant, &credit).await?))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelInput {
    reason: Option<String>,
}

/// Withdraws a voluntary credit not yet on the Stripe balance.
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

async fn overview(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<BillingOverview>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.billing.overview(&access, &tenant).await?))
}

async fn event_counts(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<Vec<EventCount>>, ApiError> {
    Ok(Json(s.billing.event_counts(&access).await?))
}

async fn list_credits(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<CreditRecord>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.credits.list(&access, &tenant).await?))
}

/// A voluntary credit; carried to Stripe at once when possible, else by the scheduled job.
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
